/**
 * SwarmRegistry: Distribution as a replicated Docker Swarm service. Its config.yml is a Swarm config;
 * htpasswd, `http.secret`, the S3 secret key and the Redis password are Swarm secrets, read from
 * /run/secrets by a small entrypoint into the environment variables the registry takes, so no secret
 * is in the service spec. Every file is versioned by its content (swarm-common.ts): a change rolls the
 * service, an unchanged one changes nothing.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { goDuration } from "../primitives/durations";
import { image as imageRef } from "../primitives/images";
import { containerLogging } from "../primitives/logging";
import { dialects, inferDialect, logLevels, RegistryDialect } from "../primitives/registry";
import { constraintProblem } from "../primitives/swarm";
import { DIALECTS, HTPASSWD_PATH, REGISTRY_DEBUG_PORT, REGISTRY_PORT, renderRegistryConfig, StorageDriver } from "../renderers/registry-config";
import { RegistryArgs, s3StorageDriver, uploadPurgingWithDefaults } from "./registry";
import {
    configRefs,
    placementSpec,
    RESTART_POLICY,
    secretRefs,
    serviceHealthcheck,
    serviceLogDriver,
    SwarmFile,
    SwarmPlacementArgs,
    SwarmUpdateArgs,
    updateAndRollback,
    versionedConfig,
    versionedSecret,
    replicatedService,
} from "./swarm-common";
import { validateArgs } from "./validate";

/** Where the service's secrets are mounted (Swarm's own directory). */
export const SWARM_SECRETS_DIR = "/run/secrets";

/** Secret file → the registry's environment variable, as the entrypoint exports them. */
const SECRET_ENV: Record<string, string> = {
    "registry-http-secret": "REGISTRY_HTTP_SECRET",
    "registry-s3-secret-key": "REGISTRY_STORAGE_S3_SECRETKEY",
    "registry-redis-password": "REGISTRY_REDIS_PASSWORD",
};

/**
 * The entrypoint: export each secret file present as its variable, then run `registry serve <config>`.
 * Only file names are in the service spec.
 */
export function swarmRegistryEntrypoint(configPath: string): string[] {
    // Not named `exports`: compiled to CommonJS, a local of that name hides the module's exports object,
    // through which the built code reads SWARM_SECRETS_DIR (the built CLI failed on every swarm stack).
    const exportLines = Object.entries(SECRET_ENV).map(
        ([file, env]) => `if [ -f ${SWARM_SECRETS_DIR}/${file} ]; then ${env}="$(cat ${SWARM_SECRETS_DIR}/${file})"; export ${env}; fi`,
    );
    return ["/bin/sh", "-c", [...exportLines, `exec registry serve ${configPath}`].join("\n")];
}

/** The registry's settings as Registry names them (same defaults), plus the service's own. */
export interface SwarmRegistryArgs extends Pick<
    RegistryArgs,
    | "image"
    | "alias"
    | "s3"
    | "volumeName"
    | "redisAddress"
    | "redisPassword"
    | "htpasswd"
    | "deleteEnabled"
    | "uploadPurging"
    | "logLevel"
    | "extraConfig"
    | "logging"
> {
    /** Id of the overlay network the service joins (the provider reads a service's networks back by id). Required. */
    networkName: pulumi.Input<string>;
    /** Config dialect, `v2` or `v3`. Default: from the image tag (`:2…` → v2, else v3). Plain value: it decides the config path. */
    dialect?: RegistryDialect;
    /** Service name; Prometheus finds the tasks at `tasks.<serviceName>`. Default: the component name. */
    serviceName?: pulumi.Input<string>;
    /** Replicas (more than one needs s3 and Redis). Default: 1. */
    replicas?: pulumi.Input<number>;
    /** Placement: constraints, spread preferences, per-node limit. Default: spread over node.id, no constraint. */
    placement?: SwarmPlacementArgs;
    /** Rolling update (its rollback uses the same order and pace). Default: start-first, 1 at a time, 5s apart, watched 15s, rollback on failure. */
    update?: SwarmUpdateArgs;
    /** How long `pulumi up` waits for the service to converge, a Go duration. Default: 5m. */
    convergeTimeout?: pulumi.Input<string>;
    /** How often the health check runs, a Go duration; a new task counts as running from its first healthy check. Default: 10s. */
    healthInterval?: pulumi.Input<string>;
}

export class SwarmRegistry extends pulumi.ComponentResource {
    /** The service. */
    public readonly service: docker.Service;
    /** `alias:5000`, the registry API on the overlay network. */
    public readonly address: pulumi.Output<string>;
    /** `tasks.<service>:5001`: Prometheus's DNS service discovery name for every replica's debug server. */
    public readonly metricsDnsName: pulumi.Output<string>;
    /** The rendered config.yml (contains no secret). */
    public readonly configYaml: pulumi.Output<string>;
    /** The data volume's name (filesystem storage), or undefined with s3. */
    public readonly volumeName: pulumi.Output<string> | undefined;
    /** The Swarm secrets' and configs' names, for review. */
    public readonly fileNames: pulumi.Output<string[]>;

    constructor(name: string, args: SwarmRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:swarm:SwarmRegistry", name, {}, opts);
        validateArgs("SwarmRegistry", name, args, {
            logging: containerLogging,
            image: imageRef,
            dialect: z.enum(dialects),
            logLevel: z.enum(logLevels),
            replicas: z.number().int().min(1, { message: "1 to 16" }).max(16, { message: "1 to 16" }),
            healthInterval: goDuration,
        });
        const constraints = args.placement?.constraints;
        if (Array.isArray(constraints)) {
            constraints.forEach((c, i) => {
                const problem = typeof c === "string" ? constraintProblem(c) : undefined;
                if (problem)
                    throw new Error(
                        `SwarmRegistry "${name}": invalid arguments:\nargs.placement.constraints[${i}]: got ${JSON.stringify(c)}; allowed: ${problem}`,
                    );
            });
        }
        const image = args.image ?? "registry:3";
        const dialect = args.dialect ?? (typeof image === "string" ? inferDialect(image) : "v3");
        const configPath = DIALECTS[dialect].configPath;
        const serviceName = pulumi.output(args.serviceName ?? name);
        const alias = pulumi.output(args.alias ?? "registry");
        const child = { parent: this };
        const s3 = args.s3;

        const storage: pulumi.Output<StorageDriver> = s3
            ? s3StorageDriver(s3)
            : pulumi.output({ kind: "filesystem" as const, rootDirectory: "/var/lib/registry" });
        this.configYaml = pulumi
            .all([storage, args.redisAddress, args.deleteEnabled ?? true, args.uploadPurging ?? {}, args.logLevel ?? "info", args.extraConfig ?? {}])
            .apply(([storageDriver, redisAddress, deleteEnabled, purging, logLevel, extraConfig]) =>
                renderRegistryConfig({
                    dialect,
                    storage: storageDriver,
                    redisAddress,
                    inMemoryCache: true,
                    deleteEnabled,
                    uploadPurging: uploadPurgingWithDefaults(purging),
                    logLevel,
                    htpasswdPath: args.htpasswd !== undefined ? HTPASSWD_PATH : undefined,
                    notifications: false,
                    extraConfig,
                    // Tasks of a service share no network namespace: the debug server listens on the overlay
                    // network (never published) for Prometheus and the health check.
                    debugAddress: `0.0.0.0:${REGISTRY_DEBUG_PORT}`,
                }),
            );

        // One key per deployment, kept in state: it versions the secrets' names without revealing them.
        const versionKey = new random.RandomPassword(`${name}-version-key`, { length: 32, special: false }, child).result;
        const httpSecret = new random.RandomPassword(`${name}-http-secret`, { length: 48, special: false }, child);
        const base = serviceName;
        const configs: SwarmFile[] = [versionedConfig(`${name}-config`, pulumi.interpolate`${base}-config`, this.configYaml, configPath, child)];
        const secrets: SwarmFile[] = [
            versionedSecret(
                `${name}-http-secret-file`,
                pulumi.interpolate`${base}-http-secret`,
                httpSecret.result,
                versionKey,
                `${SWARM_SECRETS_DIR}/registry-http-secret`,
                child,
            ),
        ];
        if (args.htpasswd !== undefined) {
            secrets.push(versionedSecret(`${name}-htpasswd`, pulumi.interpolate`${base}-htpasswd`, args.htpasswd, versionKey, HTPASSWD_PATH, child, 0o444));
        }
        if (s3) {
            secrets.push(
                versionedSecret(
                    `${name}-s3-secret-key`,
                    pulumi.interpolate`${base}-s3-secret-key`,
                    s3.secretKey,
                    versionKey,
                    `${SWARM_SECRETS_DIR}/registry-s3-secret-key`,
                    child,
                ),
            );
        }
        if (args.redisPassword !== undefined) {
            secrets.push(
                versionedSecret(
                    `${name}-redis-password`,
                    pulumi.interpolate`${base}-redis-password`,
                    args.redisPassword,
                    versionKey,
                    `${SWARM_SECRETS_DIR}/registry-redis-password`,
                    child,
                ),
            );
        }

        // The registry's data volume on the pinned node: a service's mount never removes it.
        this.volumeName = s3 ? undefined : pulumi.output(args.volumeName ?? `${name}-data`);
        const env: Record<string, pulumi.Input<string>> = { OTEL_TRACES_EXPORTER: "none" };
        if (s3) env.REGISTRY_STORAGE_S3_ACCESSKEY = s3.accessKey;
        const { updateConfig, rollbackConfig } = updateAndRollback(args.update, "start-first");

        this.service = new docker.Service(
            name,
            {
                ...replicatedService(serviceName, "registry", args.replicas ?? 1),
                taskSpec: {
                    containerSpec: {
                        image,
                        commands: swarmRegistryEntrypoint(configPath),
                        env,
                        configs: configRefs(configs),
                        secrets: secretRefs(secrets),
                        mounts: this.volumeName ? [{ type: "volume", source: this.volumeName, target: "/var/lib/registry", readOnly: false }] : [],
                        healthcheck: serviceHealthcheck(["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${REGISTRY_DEBUG_PORT}/debug/health`], {
                            interval: args.healthInterval,
                        }),
                        // The registry drains in-flight requests for up to 60s (http.draintimeout).
                        stopGracePeriod: "1m5s",
                    },
                    networksAdvanceds: [{ id: args.networkName, aliases: [alias] }],
                    placement: placementSpec({ spread: ["node.id"], ...args.placement }),
                    restartPolicy: RESTART_POLICY,
                    logDriver: serviceLogDriver(args.logging),
                },
                // dnsrr: the name answers with each healthy task's address; the proxy re-resolves it (no IPVS needed).
                endpointSpec: { mode: "dnsrr" },
                updateConfig,
                rollbackConfig,
                convergeConfig: { delay: "7s", timeout: args.convergeTimeout ?? "5m" },
            },
            // Its secrets and configs are inputs: new ones exist before the service switches to them, old ones go after.
            { parent: this },
        );

        this.address = pulumi.interpolate`${alias}:${REGISTRY_PORT}`;
        this.metricsDnsName = pulumi.interpolate`tasks.${serviceName}`;
        this.fileNames = pulumi.all([...configs, ...secrets].map((f) => f.name));
        this.registerOutputs({ address: this.address, metricsDnsName: this.metricsDnsName, configYaml: this.configYaml, volumeName: this.volumeName });
    }
}
