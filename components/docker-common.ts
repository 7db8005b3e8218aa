/**
 * Small pieces every container component shares: log rotation, labels, content hashes, health checks.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { goDurationSeconds } from "../primitives/durations";
import { DEFAULT_ROTATION, logConfig, LogDriver } from "../primitives/logging";

/** json-file logs rotated at 10 MB × 3, so a busy registry never fills the host's disk. */
export const LOG_OPTS: Record<string, string> = { ...DEFAULT_ROTATION };

/** Where a container's output goes: Docker's log driver and its options (`--log-driver`, `--log-opt`). */
export interface ContainerLoggingArgs {
    /** json-file, local, syslog, journald, gelf or fluentd. Default: json-file. */
    driver?: string;
    /** The driver's options, e.g. `syslog-address: udp://127.0.0.1:514`. Default: max-size 10m and max-file 3 for json-file and local (under the options given), none otherwise. */
    options?: Record<string, string>;
}

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

/** Health-check timings, in seconds. */
export interface HealthTimings {
    /** Default: 15. */
    intervalSeconds?: number;
    /** Default: 5. */
    timeoutSeconds?: number;
    /** Default: 3. */
    retries?: number;
    /** Default: 10. */
    startPeriodSeconds?: pulumi.Input<number>;
}

export interface ServiceContainerOptions extends HealthTimings {
    /** The container's role, in the `registry-kit.role` label. */
    role: string;
    /** The config the container runs; its hash is the `registry-kit.config-sha256` label. */
    configText: pulumi.Input<string>;
    /** The health-check command (exec form, without `CMD`). */
    healthTest: string[];
    /**
     * Seconds `docker stop` waits for a graceful exit before a kill, on every replacement and destroy.
     * Required: unset, the provider stops with timeout 0, a kill.
     */
    stopGraceSeconds: number;
    /** The container's log driver and options. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
}

/**
 * What every long-running container of the kit shares: restart policy, rotated json-file logs, a
 * health check with durations in the provider's read-back form, a stop grace period, and labels naming
 * its role, the hash of its config and the hash of its health check. The provider neither replaces a
 * container for a changed health check nor updates it in place; labels force a replacement, so the
 * health-check hash carries a change to the running container.
 */
export function serviceContainerArgs(o: ServiceContainerOptions) {
    const startPeriod = pulumi.output(o.startPeriodSeconds ?? 10).apply(goDurationSeconds);
    const healthcheck = startPeriod.apply((start) => ({
        tests: ["CMD", ...o.healthTest],
        interval: goDurationSeconds(o.intervalSeconds ?? 15),
        timeout: goDurationSeconds(o.timeoutSeconds ?? 5),
        retries: o.retries ?? 3,
        startPeriod: start,
    }));
    return {
        healthcheck,
        restart: "unless-stopped",
        ...logConfig(o.logging as { driver?: LogDriver; options?: Record<string, string> } | undefined),
        destroyGraceSeconds: o.stopGraceSeconds,
        labels: pulumi.all([o.configText, healthcheck]).apply(([text, hc]) =>
            labels({
                "registry-kit.role": o.role,
                "registry-kit.config-sha256": contentHash(text),
                "registry-kit.healthcheck-sha256": contentHash(JSON.stringify(hc)),
            }),
        ),
    };
}
