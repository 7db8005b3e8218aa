/**
 * Small pieces every container component shares: log rotation, labels, content hashes.
 */
import { createHash } from "node:crypto";
import { Output } from "@pulumi/pulumi";

/** json-file logs rotated at 10 MB × 3, so a busy registry never fills the host's disk. */
export const LOG_OPTS = { "max-size": "10m", "max-file": "3" };

/** Docker labels from a plain record, sorted so the order never causes a diff. */
export function labels(record: Record<string, string>): { label: string; value: string }[] {
    return Object.keys(record)
        .sort()
        .map((label) => ({ label, value: record[label] }));
}

/** SHA-256 of config text; as a container label it shows which config a container runs. */
export function contentHash(...texts: string[]): string {
    const h = createHash("sha256");
    for (const t of texts) h.update(t).update("\0");
    return h.digest("hex");
}

/**
 * What every long-running container of the kit shares: restart policy, rotated json-file logs, a
 * health check, and labels naming its role and the hash of the config it runs.
 */
export function serviceContainerArgs(role: string, configText: Output<string>, healthTest: string[], startPeriod = "10s") {
    return {
        healthcheck: { tests: ["CMD", ...healthTest], interval: "15s", timeout: "5s", retries: 3, startPeriod },
        restart: "unless-stopped",
        logDriver: "json-file",
        logOpts: LOG_OPTS,
        labels: configText.apply((text) => labels({ "registry-kit.role": role, "registry-kit.config-sha256": contentHash(text) })),
    };
}
