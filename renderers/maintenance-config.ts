/**
 * The maintenance job's config (JSON read by templates/maintenance.mjs) and its Prometheus alert
 * rules. Pure: no Pulumi, no I/O.
 */
import { stringify } from "yaml";

export const MAINTENANCE_CONFIG_PATH = "/etc/registry-kit/maintenance.json";
export const MAINTENANCE_SCRIPT_PATH = "/opt/registry-kit/maintenance.mjs";
export const GC_WORKER_SCRIPT_PATH = "/opt/registry-kit/registry-gc.sh";
export const SYNC_WORKER_SCRIPT_PATH = "/opt/registry-kit/registry-sync.sh";
/** The control volume in the maintenance job and the GC worker (the proxy mounts it elsewhere, read-only). */
export const MAINTENANCE_CONTROL_DIR = "/maintenance";
/** Where the maintenance job mounts the registry's data volume, read-only (filesystem storage). */
export const MAINTENANCE_DATA_DIR = "/var/lib/registry";
export const MAINTENANCE_METRICS_PORT = 9400;
/** Where the storage worker mounts the backup volume. */
export const BACKUP_DIR = "/backup";

/** A retention rule as settings give it, ages already in seconds. */
export interface RetentionRuleInput {
    name?: string;
    repositories?: string[];
    repositoryRegex?: string;
    tags?: string[];
    tagRegex?: string;
    keepMostRecent?: number;
    keepPushedWithinSeconds?: number;
    keepAll?: boolean;
    allowDeletingAllTags?: boolean;
}

export type MaintenanceStorage =
    { kind: "filesystem" } | { kind: "s3"; bucket: string; region: string; regionEndpoint?: string; forcePathStyle: boolean; rootDirectory: string };

export interface MaintenanceConfigInput {
    /** The registry's API on the network, e.g. http://registry:5000. */
    registryUrl: string;
    schedule: string;
    timezone: string;
    dryRun: boolean;
    retention: RetentionRuleInput[];
    gc: { enabled: boolean; deleteUntagged: boolean; drainTimeoutSeconds: number; timeoutSeconds: number };
    storage: MaintenanceStorage;
    /** `host:port` of each replica's metrics (the in-flight upload gauges). */
    metricsTargets: string[];
    /** The registry's Redis cache, cleared after GC. */
    redisAddress?: string;
    /** Snapshots of the data volume by the storage worker (filesystem storage). Default: none. */
    backup?: { keep: number };
    /** Copies to or from other registries, by the sync worker. Default: none. */
    replication?: ReplicationInput[];
}

/** One replication entry as settings give it (credentials are not here: they reach the sync worker as secrets). */
export interface ReplicationInput {
    /** Name in logs. */
    name: string;
    /** `push` (from this registry to the other) or `pull` (from the other into this one). */
    direction: string;
    /** The other registry, host[:port]. */
    registry: string;
    /** Repositories to copy, by name. */
    repositories: string[];
    /** Tag globs to copy. */
    tags: string[];
    /** Prefix of the repositories at the destination ("" for the same names). */
    destinationPrefix: string;
    /** Verify the other registry's TLS certificate. */
    tlsVerify: boolean;
}

/** Tag globs as one POSIX extended regular expression (grep -E, in the sync worker). */
export function tagGlobsToEre(globs: string[]): string {
    return `^(${globs.map((g) => g.replace(/\./g, "\\.").replace(/\*/g, ".*").replace(/\?/g, ".")).join("|")})$`;
}

/**
 * A glob as a regular expression matched against a whole name: `**` spans `/`, `*` and `?` stay
 * within one path segment, everything else is literal.
 */
export function globToRegex(glob: string): string {
    let out = "";
    for (let i = 0; i < glob.length; i++) {
        const c = glob[i];
        if (c === "*" && glob[i + 1] === "*") {
            out += ".*";
            i++;
        } else if (c === "*") out += "[^/]*";
        else if (c === "?") out += "[^/]";
        else out += c.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
    }
    return out;
}

function anyOf(globs: string[] | undefined, regex: string | undefined): string {
    if (regex !== undefined) return `^(?:${regex})$`;
    return `^(?:${(globs ?? ["**"]).map(globToRegex).join("|")})$`;
}

/** The job's view of the rules: one whole-name regex for repositories and one for tags, one keep condition. */
export function retentionRules(rules: RetentionRuleInput[]) {
    return rules.map((r, i) => ({
        name: r.name ?? `rule-${i + 1}`,
        repositories: anyOf(r.repositories, r.repositoryRegex),
        tags: anyOf(r.tags, r.tagRegex),
        keep:
            r.keepMostRecent !== undefined
                ? { mostRecent: r.keepMostRecent }
                : r.keepPushedWithinSeconds !== undefined
                  ? { pushedWithinSeconds: r.keepPushedWithinSeconds }
                  : { all: true },
        allowDeletingAllTags: r.allowDeletingAllTags ?? false,
    }));
}

export function renderMaintenanceConfig(input: MaintenanceConfigInput): string {
    const storage =
        input.storage.kind === "filesystem"
            ? { kind: "filesystem", root: MAINTENANCE_DATA_DIR }
            : {
                  kind: "s3",
                  bucket: input.storage.bucket,
                  region: input.storage.region,
                  endpoint: input.storage.regionEndpoint,
                  forcePathStyle: input.storage.forcePathStyle,
                  rootDirectory: input.storage.rootDirectory,
              };
    const config = {
        registry: { url: input.registryUrl },
        schedule: input.schedule,
        timezone: input.timezone,
        dryRun: input.dryRun,
        retention: retentionRules(input.retention),
        // Requests already past the proxy's check reach a registry within the settle time.
        gc: { ...input.gc, settleSeconds: 2 },
        storage,
        metricsTargets: input.metricsTargets,
        redis: input.redisAddress ? { address: input.redisAddress } : null,
        backup: input.backup ? { enabled: true, keep: input.backup.keep } : { enabled: false },
        localRegistry: input.registryUrl.replace(/^https?:\/\//, ""),
        replication: (input.replication ?? []).map((r) => ({
            name: r.name,
            direction: r.direction,
            registry: r.registry,
            tlsVerify: r.tlsVerify,
            tags: tagGlobsToEre(r.tags),
            repositories: r.repositories.map((repo) => ({
                source: repo,
                destination: `${r.destinationPrefix}${repo}`,
            })),
        })),
        controlDir: MAINTENANCE_CONTROL_DIR,
        metricsPort: MAINTENANCE_METRICS_PORT,
    };
    return JSON.stringify(config, null, 2) + "\n";
}

export interface MaintenanceAlertInput {
    /** The Prometheus job that scrapes the maintenance job. */
    job: string;
    /** How long after a run was due an overdue alert fires (seconds). */
    overdueAfterSeconds: number;
    /** How long a read-only window may last before an alert fires (seconds). */
    readOnlyAlertSeconds: number;
}

/** Alert rules: the last run failed, a successful run is overdue, the job is down, writes refused too long. */
export function maintenanceAlertRules(input: MaintenanceAlertInput): Record<string, unknown> {
    const sel = `{job="${input.job}"}`;
    return {
        groups: [
            {
                name: "registry-kit-maintenance",
                rules: [
                    {
                        alert: "RegistryMaintenanceFailed",
                        expr: `registry_kit_maintenance_last_run_success${sel} == 0`,
                        labels: { severity: "warning" },
                        annotations: {
                            summary: "The last registry maintenance run failed",
                            description: "Retention or garbage collection failed; the job's JSON log (event run.end) says why.",
                        },
                    },
                    {
                        alert: "RegistryMaintenanceOverdue",
                        expr: `time() > registry_kit_maintenance_success_due_timestamp_seconds${sel} + ${input.overdueAfterSeconds}`,
                        labels: { severity: "warning" },
                        annotations: {
                            summary: "No successful registry maintenance run when one was due",
                            description: "The scheduled run did not happen or did not succeed; storage is not being reclaimed.",
                        },
                    },
                    {
                        alert: "RegistryMaintenanceDown",
                        expr: `up${sel} == 0 or absent(up${sel})`,
                        for: "15m",
                        labels: { severity: "warning" },
                        annotations: { summary: "The registry maintenance job is not being scraped" },
                    },
                    {
                        alert: "RegistryReadOnlyTooLong",
                        expr: `registry_kit_maintenance_readonly${sel} == 1`,
                        for: `${input.readOnlyAlertSeconds}s`,
                        labels: { severity: "critical" },
                        annotations: { summary: "The registry has refused pushes for garbage collection for too long" },
                    },
                ],
            },
        ],
    };
}

export function renderMaintenanceAlertRules(input: MaintenanceAlertInput): string {
    return stringify(maintenanceAlertRules(input), { lineWidth: 0 });
}
