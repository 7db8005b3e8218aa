/**
 * Maintenance: the scheduled retention and garbage-collection job of a Distribution registry
 * (templates/maintenance.mjs in a Node.js container). It deletes through the Registry API, opens the
 * read-only window through the proxy's flag file, asks the registry's GC worker to collect, clears
 * the Redis cache and serves its results as Prometheus metrics. No Docker socket.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerLogging } from "../primitives/logging";
import { z } from "zod";
import { image as imageRef } from "../primitives/images";
import { dockerName } from "../primitives/names";
import {
    MAINTENANCE_CONFIG_PATH,
    MAINTENANCE_CONTROL_DIR,
    MAINTENANCE_DATA_DIR,
    MAINTENANCE_METRICS_PORT,
    MAINTENANCE_SCRIPT_PATH,
    MaintenanceStorage,
    renderMaintenanceConfig,
    ReplicationInput,
    RetentionRuleInput,
    SYNC_WORKER_SCRIPT_PATH,
} from "../renderers/maintenance-config";
import { templateText } from "../renderers/template";
import { serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { validateArgs } from "./validate";

export interface MaintenanceArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** Docker network shared with the registry. Required. */
    networkName: pulumi.Input<string>;
    /** Node.js image (18 or later) the job runs in. Default: node:22-alpine. */
    image?: pulumi.Input<string>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** The registry's API on the network, e.g. `registry:5000`. Required. */
    registryAddress: pulumi.Input<string>;
    /** A registry user that may delete (htpasswd). Default: none (a registry without auth). */
    username?: pulumi.Input<string>;
    /** Its password, made secret here. Default: none. */
    password?: pulumi.Input<string>;
    /** `host:port` of each replica's metrics (its in-flight upload gauges tell when uploads drained). Required. */
    registryMetricsAddresses: pulumi.Input<pulumi.Input<string>[]>;
    /** The control volume shared with the registry's GC worker and the proxy. Required. */
    controlVolumeName: pulumi.Input<string>;
    /** The registry's data volume, mounted read-only for push times and sizes (filesystem storage). Default: none. */
    dataVolumeName?: pulumi.Input<string>;
    /** S3 storage (instead of the data volume), read for push times and sizes. Default: none. Plain object: it decides the env. */
    s3?: MaintenanceS3Args;
    /** `host:port` of the registry's Redis cache, whose keys are cleared after GC. Default: none. */
    redisAddress?: pulumi.Input<string>;
    /** Its password, made secret here. Default: none. */
    redisPassword?: pulumi.Input<string>;
    /** Five-field cron schedule. Default: "0 3 * * 0". */
    schedule?: pulumi.Input<string>;
    /** IANA time zone of the schedule. Default: UTC. */
    timezone?: pulumi.Input<string>;
    /** Plan only: log decisions and run GC with --dry-run. Default: false. */
    dryRun?: pulumi.Input<boolean>;
    /** Retention rules (see README). Default: [] (delete nothing). */
    retention?: pulumi.Input<RetentionRuleInput[]>;
    /** Run garbage collection after retention. Default: true. */
    gcEnabled?: pulumi.Input<boolean>;
    /** `--delete-untagged` (Distribution 3.0.0 or later only). Default: false. */
    deleteUntagged?: pulumi.Input<boolean>;
    /** Seconds uploads in flight may take to finish before GC is skipped. Default: 600. */
    drainTimeoutSeconds?: pulumi.Input<number>;
    /** Longest GC in seconds before the run fails and writes are allowed again. Default: 7200. */
    gcTimeoutSeconds?: pulumi.Input<number>;
    /**
     * Snapshots of the data volume in every run, taken by the registry's storage worker (its
     * `garbageCollection.backupVolumeName`); `keep` is how many stay. Default: none.
     */
    backup?: pulumi.Input<MaintenanceBackupArgs>;
    /** Images copied to or from other registries in every run, by a sync worker (skopeo). Default: none. Plain list: it decides whether the worker exists. */
    replication?: MaintenanceReplicationArgs[];
    /** skopeo image of the sync worker. Default: quay.io/skopeo/stable:v1.16.1. */
    syncImage?: pulumi.Input<string>;
}

/** One replication entry: what to copy where (see README, "Replication"), and the other side's credentials. */
export interface MaintenanceReplicationArgs extends ReplicationInput {
    /** User at the other registry. Default: none (anonymous). */
    username?: pulumi.Input<string>;
    /** Its password or token, made secret here. Default: none. */
    password?: pulumi.Input<string>;
}

export interface MaintenanceBackupArgs {
    /** Snapshots kept. Default: 7. */
    keep?: number;
}

/** The bucket as the registry's s3 driver is configured, and keys that may list it. */
export interface MaintenanceS3Args {
    bucket: pulumi.Input<string>;
    /** Default: us-east-1. */
    region?: pulumi.Input<string>;
    /** Default: AWS. */
    regionEndpoint?: pulumi.Input<string>;
    /** Default: true when regionEndpoint is set. */
    forcePathStyle?: pulumi.Input<boolean>;
    /** Default: /registry. */
    rootDirectory?: pulumi.Input<string>;
    accessKey: pulumi.Input<string>;
    /** Made secret here. */
    secretKey: pulumi.Input<string>;
}

export class Maintenance extends pulumi.ComponentResource {
    /** The job's container. */
    public readonly container: docker.Container;
    /** The sync worker (with `replication`), else undefined. */
    public readonly syncWorker: docker.Container | undefined;
    /** The rendered config (contains no secret). */
    public readonly configJson: pulumi.Output<string>;
    /** `maintenance:9400`, its /metrics on the network. */
    public readonly metricsAddress: pulumi.Output<string>;
    /** The command that runs retention and GC now and prints the result (`--dry-run` for a plan). */
    public readonly runCommand: pulumi.Output<string>;

    constructor(name: string, args: MaintenanceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:maintenance:Maintenance", name, {}, opts);
        validateArgs("Maintenance", name, args, {
            logging: containerLogging,
            image: imageRef,
            containerName: dockerName,
            drainTimeoutSeconds: z.number().int().min(1, { message: "a whole number of seconds, 1 or more" }),
            gcTimeoutSeconds: z.number().int().min(60, { message: "a whole number of seconds, 60 or more" }),
        });
        (args.replication ?? []).forEach((r, i) => {
            if (r.direction !== "push" && r.direction !== "pull") {
                throw new Error(
                    `Maintenance "${name}": invalid arguments:\nargs.replication[${i}].direction: got ${JSON.stringify(r.direction)}; allowed: "push" or "pull"`,
                );
            }
        });
        if (args.dataVolumeName === undefined && args.s3 === undefined) {
            throw new Error(`Maintenance "${name}": invalid arguments:\nargs.dataVolumeName: got nothing; allowed: the registry's data volume, or args.s3`);
        }
        const s3 = args.s3;
        const storage: pulumi.Output<MaintenanceStorage> = s3
            ? pulumi
                  .all([s3.bucket, s3.region ?? "us-east-1", s3.regionEndpoint, s3.forcePathStyle, s3.rootDirectory ?? "/registry"])
                  .apply(([bucket, region, regionEndpoint, forcePathStyle, rootDirectory]) => ({
                      kind: "s3" as const,
                      bucket,
                      region,
                      regionEndpoint,
                      forcePathStyle: forcePathStyle ?? regionEndpoint !== undefined,
                      rootDirectory,
                  }))
            : pulumi.output({ kind: "filesystem" as const });
        const schedule = pulumi.all([args.schedule ?? "0 3 * * 0", args.timezone ?? "UTC", args.dryRun ?? false, args.retention ?? []]);
        const gc = pulumi
            .all([args.gcEnabled ?? true, args.deleteUntagged ?? false, args.drainTimeoutSeconds ?? 600, args.gcTimeoutSeconds ?? 7200])
            .apply(([enabled, deleteUntagged, drainTimeoutSeconds, timeoutSeconds]) => ({ enabled, deleteUntagged, drainTimeoutSeconds, timeoutSeconds }));
        this.configJson = pulumi
            .all([args.registryAddress, schedule, gc, storage, args.registryMetricsAddresses, args.redisAddress, args.backup])
            .apply(([address, [cron, timezone, dryRun, retention], gcConfig, st, metricsTargets, redisAddress, backup]) =>
                renderMaintenanceConfig({
                    registryUrl: `http://${address}`,
                    schedule: cron,
                    timezone,
                    dryRun,
                    retention: retention as RetentionRuleInput[],
                    gc: gcConfig,
                    storage: st,
                    metricsTargets,
                    redisAddress,
                    backup: backup && { keep: backup.keep ?? 7 },
                    replication: (args.replication ?? []).map(({ username: _u, password: _p, ...r }) => r),
                }),
            );
        const script = templateText("maintenance.mjs");

        const envs: pulumi.Input<string>[] = [];
        if (args.username !== undefined) envs.push(pulumi.interpolate`REGISTRY_KIT_REGISTRY_USER=${args.username}`);
        if (args.password !== undefined) envs.push(pulumi.secret(pulumi.interpolate`REGISTRY_KIT_REGISTRY_PASSWORD=${args.password}`));
        if (s3) {
            envs.push(
                pulumi.interpolate`REGISTRY_KIT_S3_ACCESS_KEY=${s3.accessKey}`,
                pulumi.secret(pulumi.interpolate`REGISTRY_KIT_S3_SECRET_KEY=${s3.secretKey}`),
            );
        }
        if (args.redisPassword !== undefined) envs.push(pulumi.secret(pulumi.interpolate`REGISTRY_KIT_REDIS_PASSWORD=${args.redisPassword}`));

        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "node:22-alpine", keepLocally: true }, { parent: this });
        const containerName = pulumi.output(args.containerName ?? name);
        this.container = new docker.Container(
            name,
            {
                name: containerName,
                image: remoteImage.imageId,
                entrypoints: ["node", MAINTENANCE_SCRIPT_PATH],
                command: ["daemon", MAINTENANCE_CONFIG_PATH],
                envs,
                uploads: [
                    { file: MAINTENANCE_CONFIG_PATH, content: this.configJson, permissions: "0644" },
                    { file: MAINTENANCE_SCRIPT_PATH, content: script, permissions: "0644" },
                ],
                volumes: [
                    { volumeName: args.controlVolumeName, containerPath: MAINTENANCE_CONTROL_DIR },
                    ...(args.dataVolumeName !== undefined ? [{ volumeName: args.dataVolumeName, containerPath: MAINTENANCE_DATA_DIR, readOnly: true }] : []),
                ],
                networksAdvanced: [{ name: args.networkName, aliases: ["maintenance"] }],
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "maintenance",
                    configText: pulumi.all([this.configJson]).apply(([c]) => c + script),
                    healthTest: [
                        "node",
                        "-e",
                        `fetch("http://127.0.0.1:${MAINTENANCE_METRICS_PORT}/metrics").then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`,
                    ],
                    // A run in progress removes its read-only flag on the way out; the next start removes one left behind.
                    stopGraceSeconds: 30,
                }),
            },
            { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
        );

        const replication = args.replication ?? [];
        if (replication.length > 0) {
            const syncScript = templateText("registry-sync.sh");
            const syncEnvs: pulumi.Input<string>[] = [`CONTROL_DIR=${MAINTENANCE_CONTROL_DIR}`, pulumi.interpolate`RK_LOCAL_REGISTRY=${args.registryAddress}`];
            if (args.username !== undefined && args.password !== undefined) {
                syncEnvs.push(pulumi.secret(pulumi.interpolate`RK_CREDS_LOCAL=${args.username}:${args.password}`));
            }
            replication.forEach((r, i) => {
                if (r.username !== undefined && r.password !== undefined)
                    syncEnvs.push(pulumi.secret(pulumi.interpolate`RK_CREDS_${i}=${r.username}:${r.password}`));
            });
            const syncImage = new docker.RemoteImage(
                `${name}-sync-image`,
                { name: args.syncImage ?? "quay.io/skopeo/stable:v1.16.1", keepLocally: true },
                { parent: this },
            );
            this.syncWorker = new docker.Container(
                `${name}-sync`,
                {
                    name: pulumi.interpolate`${containerName}-sync`,
                    image: syncImage.imageId,
                    entrypoints: ["/bin/sh", SYNC_WORKER_SCRIPT_PATH],
                    envs: syncEnvs,
                    uploads: [{ file: SYNC_WORKER_SCRIPT_PATH, content: syncScript, permissions: "0755" }],
                    volumes: [{ volumeName: args.controlVolumeName, containerPath: MAINTENANCE_CONTROL_DIR }],
                    networksAdvanced: [{ name: args.networkName }],
                    ...serviceContainerArgs({
                        role: "maintenance-sync-worker",
                        configText: syncScript,
                        healthTest: ["test", "-d", `${MAINTENANCE_CONTROL_DIR}/sync`],
                        stopGraceSeconds: 10,
                    }),
                },
                { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
            );
        }

        this.metricsAddress = pulumi.output(`maintenance:${MAINTENANCE_METRICS_PORT}`);
        this.runCommand = pulumi.interpolate`docker exec ${containerName} node ${MAINTENANCE_SCRIPT_PATH} run`;
        this.registerOutputs({ configJson: this.configJson, metricsAddress: this.metricsAddress, runCommand: this.runCommand });
    }
}
