/**
 * Small pieces every container component shares: log rotation, labels, content hashes.
 */
import { createHash } from "node:crypto";

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
