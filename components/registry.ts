/**
 * Registry: the Distribution container, its config built from typed args, its data volume and its
 * `http.secret`.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerLogging } from "../primitives/logging";
import * as random from "@pulumi/random";
import { z } from "zod";
import { goDuration } from "../primitives/durations";
import { image as imageRef } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { dialects, ignoresRedisPassword, inferDialect, logLevels, REDIS_PASSWORD_IMAGE_RULE, RegistryDialect } from "../primitives/registry";
import { validateArgs } from "./validate";
import { GITLAB_REGISTRY_SERVICE, issuerJwks, TOKEN_CERT_PATH, TOKEN_JWKS_PATH } from "../renderers/token-auth";
import {
    DIALECTS,
    HTPASSWD_PATH,
    NOTIFICATION_ACTIONS,
    NotificationAction,
    NotificationEndpoint,
    notificationEndpointsYaml,
    NOTIFICATIONS_ENV,
    REGISTRY_DATA_DIR,
    REGISTRY_DEBUG_LOOPBACK_PORT,
    REGISTRY_DEBUG_PORT,
    redactingEntrypointFor,
    REGISTRY_PORT,
    renderRegistryConfig,
    StorageDriver,
} from "../renderers/registry-config";
import { labels, serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { BACKUP_DIR, GC_WORKER_SCRIPT_PATH, MAINTENANCE_CONTROL_DIR } from "../renderers/maintenance-config";
import { templateText } from "../renderers/template";
import { METRICS_GATE_CONFIG_PATH, metricsGateEntrypoint, renderMetricsGateConf } from "../renderers/metrics-gate-conf";

export interface UploadPurgingArgs {
    /** Default: true. */
    enabled?: boolean;
    /** Default: 168h. */
    age?: string;
    /** Default: 24h. */
    interval?: string;
    /** Default: false. */
    dryrun?: boolean;
}

/** S3 (or S3-compatible) storage, as the registry's s3 driver names its settings. */
export interface S3StorageArgs {
    /** Bucket name. Required. */
    bucket: pulumi.Input<string>;
    /** Region. Default: us-east-1. */
    region?: pulumi.Input<string>;
    /** Endpoint URL of an S3-compatible service. Default: AWS. */
    regionEndpoint?: pulumi.Input<string>;
    /** Path-style requests. Default: true when regionEndpoint is set, else false. */
    forcePathStyle?: pulumi.Input<boolean>;
    /** Server-side encryption. Default: true. */
    encrypt?: pulumi.Input<boolean>;
    /** TLS to the endpoint. Default: true. */
    secure?: pulumi.Input<boolean>;
    /** Multipart chunk size in bytes (at least 5 MiB). Default: 10485760. */
    chunkSize?: pulumi.Input<number>;
    /** Object key prefix. Default: /registry. */
    rootDirectory?: pulumi.Input<string>;
    /**
     * Redirect blob downloads (GET/HEAD) to presigned URLs of the bucket instead of serving them through
     * the registry (Distribution's `storage.redirect.disable: false`). Clients must reach the S3 endpoint.
     * Default: false.
     */
    redirect?: pulumi.Input<boolean>;
    /** Access key id. Required. */
    accessKey: pulumi.Input<string>;
    /** Secret access key, made secret here. Required. */
    secretKey: pulumi.Input<string>;
}

/** Bearer-token auth against an issuer such as GitLab's `/jwt/auth` (instead of htpasswd). */
export interface RegistryTokenAuthArgs {
    /** Where clients get tokens: `https://<issuer host>/jwt/auth`. Required. */
    realm: pulumi.Input<string>;
    /** The tokens' `iss`. Required. */
    issuer: pulumi.Input<string>;
    /** The tokens' `aud`. Default: container_registry (GitLab's). */
    service?: pulumi.Input<string>;
    /** PEM certificate of the issuer's RSA signing key (a TokenSigningKey's). Required. */
    certificatePem: pulumi.Input<string>;
}

/**
 * A notification endpoint; the registry posts its events there, with `Authorization: <secret>` when a
 * secret is given. Fields are Distribution's per-endpoint settings (its configuration reference names
 * them `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`, `ignore`).
 */
export interface RegistryNotificationArgs {
    /** Endpoint name in the registry's logs and metrics. Required. */
    name: pulumi.Input<string>;
    /** URL of the endpoint. Required. */
    url: pulumi.Input<string>;
    /** Value of the Authorization header, made secret here. Default: none (no Authorization header). */
    secret?: pulumi.Input<string>;
    /**
     * More headers sent with every event (name → value), made secret here; given (even empty), the
     * registry's log line masks every header's value. Default: none.
     */
    headers?: pulumi.Input<Record<string, string>>;
    /** HTTP timeout of one delivery, a Go duration. Default: 500ms. */
    timeout?: pulumi.Input<string>;
    /** Failed deliveries in a row before the endpoint backs off. Default: 5. */
    threshold?: pulumi.Input<number>;
    /** How long the endpoint backs off before it retries, a Go duration. Default: 1s. */
    backoff?: pulumi.Input<string>;
    /** Actions whose events are sent, of push, pull, mount, delete; the others go to `ignore.actions`. Default: all four. */
    events?: pulumi.Input<string[]>;
    /** Target media types whose events are not sent (`ignoredmediatypes`). Default: none. */
    ignoredMediaTypes?: pulumi.Input<string[]>;
    /** Events not sent, by target media type and by action (`ignore.mediatypes`, `ignore.actions`). Default: none. */
    ignore?: pulumi.Input<RegistryNotificationIgnoreArgs>;
}

/** Events an endpoint is not sent, as Distribution's `ignore` names them. */
export interface RegistryNotificationIgnoreArgs {
    /** Target media types (`ignore.mediatypes`). Default: none. */
    mediaTypes?: string[];
    /** Actions (`ignore.actions`), of push, pull, mount, delete. Default: none. */
    actions?: string[];
}

export interface RegistryArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** Docker network the registry joins. Required. */
    networkName: pulumi.Input<string>;
    /** Distribution image. Default: registry:3. */
    image?: pulumi.Input<string>;
    /** Config dialect, `v2` or `v3`. Default: from the image tag (`:2…` → v2, else v3). */
    dialect?: pulumi.Input<RegistryDialect>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** DNS alias on the network; the proxy and Prometheus use it. Default: registry. */
    alias?: pulumi.Input<string>;
    /** Name of the Docker volume holding the images (filesystem storage). Default: `<component name>-data`. */
    volumeName?: pulumi.Input<string>;
    /** S3 storage instead of the data volume. Default: none (filesystem). Plain object: it decides whether the volume exists. */
    s3?: S3StorageArgs;
    /**
     * Registry containers sharing storage and `http.secret`, all answering to `alias` (and each to
     * `<alias>-<n>`). More than one needs `s3`. Default: 1. Plain value: it decides the container count.
     */
    replicas?: number;
    /** `host:port` of Redis for the blob-descriptor cache. Default: in-memory cache per container. */
    redisAddress?: pulumi.Input<string>;
    /** Password of that Redis, made secret here. Default: none. */
    redisPassword?: pulumi.Input<string>;
    /**
     * Keep the data volume when the stack is destroyed or the volume is replaced. Default: true.
     * Plain value: it is a resource option.
     */
    retainDataOnDelete?: boolean;
    /** htpasswd file content (secret). Default: none, which leaves the registry without auth unless `tokenAuth` is set. */
    htpasswd?: pulumi.Input<string>;
    /** Token auth (exclusive with htpasswd). Default: none. Plain object: it decides which files exist. */
    tokenAuth?: RegistryTokenAuthArgs;
    /** Endpoints notified of pushes, pulls and deletes. Default: none. Plain list: it decides the config. */
    notifications?: RegistryNotificationArgs[];
    /** Allow deleting manifests and blobs through the API. Default: true (false with pullThrough). */
    deleteEnabled?: pulumi.Input<boolean>;
    /** Purging of abandoned uploads. Default: enabled, age 168h, every 24h. */
    uploadPurging?: pulumi.Input<UploadPurgingArgs>;
    /** Log level: error, warn, info or debug. Default: info. */
    logLevel?: pulumi.Input<string>;
    /**
     * nginx image of the metrics gate, the small container per replica that serves the debug server's
     * `/metrics` and `/debug/health` on the network (and not its `/debug/pprof/` or `/debug/vars`).
     * Default: nginx:1.27.
     */
    metricsGateImage?: pulumi.Input<string>;
    /** Raw registry config deep-merged over the generated config. Default: {}. */
    extraConfig?: pulumi.Input<Record<string, unknown>>;
    /**
     * Scheduled garbage collection (see Maintenance): a GC worker container of this image, config and
     * storage runs `registry garbage-collect` when the maintenance job asks for it on this control
     * volume; without Redis the registry then keeps no in-memory blob-descriptor cache (nothing but a
     * restart could clear it after GC). Default: none. Plain object: it decides which containers exist.
     */
    garbageCollection?: RegistryGarbageCollectionArgs;
    /**
     * Pull-through cache mode (Distribution's `proxy`): serve `remoteUrl`'s images, fetching each on its first
     * pull and keeping it for `ttl`; pushes and deletes are refused. One upstream per registry. Default: none
     * (a normal registry). Plain object: it decides the config and environment.
     */
    pullThrough?: RegistryPullThroughArgs;
}

export interface RegistryPullThroughArgs {
    /** The upstream's URL, such as https://registry-1.docker.io. Required. */
    remoteUrl: pulumi.Input<string>;
    /** User name at the upstream. Default: none (anonymous). */
    username?: pulumi.Input<string>;
    /** Password or token at the upstream, made secret here. Default: none. */
    password?: pulumi.Input<string>;
    /** How long cached content is kept (a Go duration; registry 3 only, 2.8 keeps it 168h). Default: 168h. */
    ttl?: pulumi.Input<string>;
}

export interface RegistryGarbageCollectionArgs {
    /** Docker volume shared with the maintenance job (requests and results). Required. */
    controlVolumeName: pulumi.Input<string>;
    /** Docker volume the worker writes backup snapshots of the data volume to (filesystem storage). Default: none. */
    backupVolumeName?: pulumi.Input<string>;
}

export class Registry extends pulumi.ComponentResource {
    /** The registry containers, one per replica. */
    public readonly containers: docker.Container[];
    /** The data volume's name (filesystem storage), or undefined with s3. */
    public readonly volumeName: pulumi.Output<string> | undefined;
    /** `alias:5000`, the registry API on the Docker network. */
    public readonly address: pulumi.Output<string>;
    /** `host:5001` of each replica's debug server, with `/metrics` and `/debug/health`. */
    public readonly metricsAddresses: pulumi.Output<string[]>;
    /** The rendered config.yml (contains no secret). */
    public readonly configYaml: pulumi.Output<string>;
    /** The GC worker (with `garbageCollection`), else undefined. */
    public readonly gcWorker: docker.Container | undefined;
    /** Per replica, the nginx in its network namespace that serves `/metrics` and `/debug/health` of its debug server, and nothing else. */
    public readonly metricsGates: docker.Container[];

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:registry:Registry", name, {}, opts);
        validateArgs("Registry", name, args, {
            logging: containerLogging,
            image: imageRef,
            metricsGateImage: imageRef,
            dialect: z.enum(dialects),
            containerName: dockerName,
            volumeName: dockerName,
            logLevel: z.enum(logLevels),
            deleteEnabled: z.boolean(),
            uploadPurging: z.strictObject({
                enabled: z.boolean().optional(),
                age: goDuration.optional(),
                interval: goDuration.optional(),
                dryrun: z.boolean().optional(),
            }),
            extraConfig: z.record(z.string(), z.unknown()),
        });
        const image = pulumi.output(args.image ?? "registry:3");
        const alias = pulumi.output(args.alias ?? "registry");
        const dialect = pulumi.all([args.dialect, image]).apply(([d, img]) => {
            const resolved = d ?? inferDialect(img);
            if (!(resolved in DIALECTS)) throw new Error(`Registry ${name}: dialect ${JSON.stringify(resolved)} is not one of "v2", "v3"`);
            return resolved;
        });
        const configPath = dialect.apply((d) => DIALECTS[d].configPath);
        const replicas = args.replicas ?? 1;
        if (!Number.isInteger(replicas) || replicas < 1 || replicas > 16)
            throw new Error(`Registry "${name}": invalid arguments:\nargs.replicas: got ${replicas}; allowed: 1 to 16`);
        if (args.htpasswd !== undefined && args.tokenAuth !== undefined) {
            throw new Error(`Registry "${name}": invalid arguments:\nargs.tokenAuth: got an object; allowed: tokenAuth or htpasswd, not both`);
        }
        if (typeof args.image === "string" && args.redisPassword !== undefined && ignoresRedisPassword(args.image)) {
            throw new Error(`Registry "${name}": invalid arguments:\nargs.image: got ${JSON.stringify(args.image)}; allowed: ${REDIS_PASSWORD_IMAGE_RULE}`);
        }
        const pull = args.pullThrough;
        if (pull && (args.garbageCollection || args.tokenAuth || (args.notifications ?? []).length > 0)) {
            throw new Error(
                `Registry "${name}": invalid arguments:\nargs.pullThrough: got an object; allowed: pullThrough without garbageCollection, tokenAuth or notifications`,
            );
        }
        if (replicas > 1 && !args.s3) {
            throw new Error(
                `Registry "${name}": invalid arguments:\nargs.replicas: got ${replicas}; allowed: 1 without args.s3 (replicas must share object storage, not a volume)`,
            );
        }

        const volume = args.s3
            ? undefined
            : new docker.Volume(
                  `${name}-data`,
                  {
                      name: args.volumeName ?? `${name}-data`,
                      labels: labels({ "registry-kit.role": "registry-data" }),
                  },
                  { parent: this, retainOnDelete: args.retainDataOnDelete ?? true },
              );
        const s3 = args.s3;
        const storage: pulumi.Output<StorageDriver> = s3
            ? s3StorageDriver(s3)
            : pulumi.output({ kind: "filesystem" as const, rootDirectory: REGISTRY_DATA_DIR });
        // One secret per deployment, kept in state: replicas and restarts sign upload state alike.
        const httpSecret = new random.RandomPassword(`${name}-http-secret`, { length: 48, special: false }, { parent: this });

        const token = args.tokenAuth;
        const tokenAuth = token
            ? pulumi
                  .all([token.realm, token.issuer, token.service ?? GITLAB_REGISTRY_SERVICE])
                  .apply(([realm, issuer, service]) => ({ realm, issuer, service }))
            : pulumi.output(undefined);
        const notifications = args.notifications ?? [];
        const proxy = pull ? pulumi.all([pull.remoteUrl, pull.ttl ?? "168h"]).apply(([remoteUrl, ttl]) => ({ remoteUrl, ttl })) : pulumi.output(undefined);
        this.configYaml = pulumi
            .all([
                dialect,
                storage,
                args.redisAddress,
                // A cache deletes what expires itself; the API's deletes would only be refused.
                args.deleteEnabled ?? !pull,
                args.uploadPurging ?? {},
                args.logLevel ?? "info",
                args.extraConfig ?? {},
                pulumi.all([tokenAuth, proxy]),
            ])
            .apply(([d, storageDriver, redisAddress, deleteEnabled, purging, logLevel, extraConfig, [tokenAuthValue, proxyValue]]) =>
                renderRegistryConfig({
                    dialect: d,
                    storage: storageDriver,
                    redisAddress,
                    inMemoryCache: args.garbageCollection === undefined,
                    deleteEnabled,
                    uploadPurging: uploadPurgingWithDefaults(purging),
                    logLevel,
                    htpasswdPath: args.htpasswd !== undefined ? HTPASSWD_PATH : undefined,
                    tokenAuth: tokenAuthValue,
                    notifications: notifications.length > 0,
                    proxy: proxyValue,
                    extraConfig,
                }),
            );

        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: image, keepLocally: true }, { parent: this });
        const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [{ file: configPath, content: this.configYaml }];
        if (args.htpasswd !== undefined) {
            uploads.push({ file: HTPASSWD_PATH, content: pulumi.secret(args.htpasswd), permissions: "0644" });
        }
        if (token) {
            const certificatePem = pulumi.output(token.certificatePem);
            uploads.push({ file: TOKEN_CERT_PATH, content: certificatePem, permissions: "0644" });
            // Registry 3 matches a token's kid through this JWKS; registry 2 derives it from the certificate.
            const jwks = certificatePem.apply((pem) => JSON.stringify(issuerJwks(pem), null, 2) + "\n");
            uploads.push({ file: TOKEN_JWKS_PATH, content: jwks, permissions: "0644" });
        }

        // Secrets reach the registry as env vars: the config file stays reviewable.
        const envs: pulumi.Input<string>[] = [
            pulumi.secret(pulumi.interpolate`REGISTRY_HTTP_SECRET=${httpSecret.result}`),
            // Registry 3 exports traces over OTLP unless told otherwise; without a collector it logs an
            // export error every 10 seconds. Registry 2 ignores the variable.
            "OTEL_TRACES_EXPORTER=none",
        ];
        if (s3) {
            envs.push(
                pulumi.interpolate`REGISTRY_STORAGE_S3_ACCESSKEY=${s3.accessKey}`,
                pulumi.secret(pulumi.interpolate`REGISTRY_STORAGE_S3_SECRETKEY=${s3.secretKey}`),
            );
        }
        if (notifications.length > 0) {
            const endpoints = pulumi
                .all(notifications.map((n) => pulumi.output(n)))
                .apply((list) => notificationEndpointsYaml(list.map((n) => notificationEndpoint(n as ResolvedNotification))));
            envs.push(pulumi.secret(pulumi.interpolate`${NOTIFICATIONS_ENV}=${endpoints}`));
        }
        if (pull?.username !== undefined) envs.push(pulumi.interpolate`REGISTRY_PROXY_USERNAME=${pull.username}`);
        if (pull?.password !== undefined) envs.push(pulumi.secret(pulumi.interpolate`REGISTRY_PROXY_PASSWORD=${pull.password}`));
        if (args.redisPassword !== undefined) envs.push(pulumi.secret(pulumi.interpolate`REGISTRY_REDIS_PASSWORD=${args.redisPassword}`));

        const containerName = pulumi.output(args.containerName ?? name);
        const indexes = Array.from({ length: replicas }, (_, i) => i);
        this.containers = indexes.map((i) => {
            const suffix = replicas === 1 ? "" : `-${i}`;
            return new docker.Container(
                `${name}${suffix}`,
                {
                    name: pulumi.interpolate`${containerName}${suffix}`,
                    image: remoteImage.imageId,
                    // `serve <path>` works with Docker Hub's image (its entrypoint script passes subcommands on)
                    // and with Distribution's own (entrypoint `registry`); a bare path works only with the former.
                    ...(notifications.length > 0
                        ? { entrypoints: redactingEntrypointFor(notifications.some((n) => n.headers !== undefined)), command: configPath.apply((p) => [p]) }
                        : { command: configPath.apply((p) => ["serve", p]) }),
                    envs,
                    uploads,
                    volumes: volume ? [{ volumeName: volume.name, containerPath: REGISTRY_DATA_DIR }] : [],
                    networksAdvanced: [
                        { name: args.networkName, aliases: replicas === 1 ? [alias] : pulumi.all([alias]).apply(([a]) => [a, `${a}${suffix}`]) },
                    ],
                    ...serviceContainerArgs({
                        logging: args.logging,
                        role: "registry",
                        configText: this.configYaml,
                        healthTest: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${REGISTRY_DEBUG_LOOPBACK_PORT}/debug/health`],
                        // The registry drains in-flight requests for up to 60s (http.draintimeout).
                        stopGraceSeconds: 65,
                    }),
                },
                // A fixed name cannot exist twice: stop the old container before starting its replacement.
                { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
            );
        });

        // The debug server listens on the registry container's loopback; a gate in the same network
        // namespace answers on REGISTRY_DEBUG_PORT with `/metrics` and `/debug/health` only.
        const gateConf = renderMetricsGateConf();
        const gateImage = new docker.RemoteImage(
            `${name}-metrics-gate-image`,
            { name: args.metricsGateImage ?? "nginx:1.27", keepLocally: true },
            { parent: this },
        );
        this.metricsGates = this.containers.map(
            (registry, i) =>
                new docker.Container(
                    `${name}${replicas === 1 ? "" : `-${i}`}-metrics-gate`,
                    {
                        name: pulumi.interpolate`${registry.name}-metrics-gate`,
                        image: gateImage.imageId,
                        // Its network is the registry container's: replaced with it, reachable at its aliases.
                        networkMode: pulumi.interpolate`container:${registry.id}`,
                        // nginx, plus a watch that exits when the registry restarted into a new namespace.
                        entrypoints: metricsGateEntrypoint(),
                        uploads: [{ file: METRICS_GATE_CONFIG_PATH, content: gateConf, permissions: "0644" }],
                        ...serviceContainerArgs({
                            logging: args.logging,
                            role: "registry-metrics-gate",
                            configText: gateConf,
                            healthTest: ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${REGISTRY_DEBUG_PORT}/debug/health`],
                            startPeriodSeconds: 5,
                            stopGraceSeconds: 10,
                        }),
                    },
                    { parent: this, deleteBeforeReplace: true },
                ),
        );

        const gc = args.garbageCollection;
        if (gc?.backupVolumeName !== undefined && args.s3) {
            throw new Error(
                `Registry "${name}": invalid arguments:\nargs.garbageCollection.backupVolumeName: got a volume; allowed: none with args.s3 (snapshots copy the data volume)`,
            );
        }
        this.gcWorker = gc
            ? new docker.Container(
                  `${name}-gc`,
                  {
                      name: pulumi.interpolate`${containerName}-gc`,
                      image: remoteImage.imageId,
                      // The registry image's own shell: the same Distribution, driver and config as the replicas.
                      entrypoints: ["/bin/sh", GC_WORKER_SCRIPT_PATH],
                      command: configPath.apply((p) => [p]),
                      envs: s3
                          ? [
                                pulumi.interpolate`REGISTRY_STORAGE_S3_ACCESSKEY=${s3.accessKey}`,
                                pulumi.secret(pulumi.interpolate`REGISTRY_STORAGE_S3_SECRETKEY=${s3.secretKey}`),
                                `CONTROL_DIR=${MAINTENANCE_CONTROL_DIR}`,
                            ]
                          : [`CONTROL_DIR=${MAINTENANCE_CONTROL_DIR}`],
                      uploads: [
                          { file: configPath, content: this.configYaml },
                          { file: GC_WORKER_SCRIPT_PATH, content: templateText("registry-gc.sh"), permissions: "0755" },
                      ],
                      volumes: [
                          ...(volume ? [{ volumeName: volume.name, containerPath: REGISTRY_DATA_DIR }] : []),
                          { volumeName: gc.controlVolumeName, containerPath: MAINTENANCE_CONTROL_DIR },
                          ...(gc.backupVolumeName !== undefined ? [{ volumeName: gc.backupVolumeName, containerPath: BACKUP_DIR }] : []),
                      ],
                      networksAdvanced: [{ name: args.networkName }],
                      ...serviceContainerArgs({
                          logging: args.logging,
                          role: "registry-gc-worker",
                          configText: pulumi.all([this.configYaml]).apply(([c]) => c + templateText("registry-gc.sh")),
                          healthTest: ["test", "-d", `${MAINTENANCE_CONTROL_DIR}/gc`],
                          stopGraceSeconds: 10,
                      }),
                  },
                  { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
              )
            : undefined;

        this.volumeName = volume?.name;
        this.address = pulumi.interpolate`${alias}:${REGISTRY_PORT}`;
        this.metricsAddresses = alias.apply((a) => indexes.map((i) => `${replicas === 1 ? a : `${a}-${i}`}:${REGISTRY_DEBUG_PORT}`));
        this.registerOutputs({
            volumeName: this.volumeName,
            address: this.address,
            metricsAddresses: this.metricsAddresses,
            configYaml: this.configYaml,
        });
    }
}

/** Upload purging with the defaults UploadPurgingArgs documents. */
export function uploadPurgingWithDefaults(p: UploadPurgingArgs) {
    return { enabled: p.enabled ?? true, age: p.age ?? "168h", interval: p.interval ?? "24h", dryrun: p.dryrun ?? false };
}

/** The registry config's s3 driver from S3StorageArgs, with the defaults documented there. */
export function s3StorageDriver(s3: S3StorageArgs): pulumi.Output<StorageDriver> {
    return pulumi
        .all([
            s3.bucket,
            s3.region ?? "us-east-1",
            s3.regionEndpoint,
            s3.forcePathStyle,
            s3.encrypt ?? true,
            s3.secure ?? true,
            s3.chunkSize ?? 10 * 1024 * 1024,
            // pulumi.all's tuple types stop at eight inputs: the ninth rides with the eighth.
            pulumi.all([s3.rootDirectory ?? "/registry", s3.redirect ?? false]),
        ])
        .apply(([bucket, region, regionEndpoint, forcePathStyle, encrypt, secure, chunkSize, [rootDirectory, redirect]]) => ({
            kind: "s3" as const,
            bucket,
            region,
            regionEndpoint,
            forcePathStyle: forcePathStyle ?? regionEndpoint !== undefined,
            encrypt,
            secure,
            chunkSize,
            rootDirectory,
            redirect,
        }));
}

/** A RegistryNotificationArgs resolved: the renderer's endpoint, with `events` and actions as plain strings. */
type ResolvedNotification = Omit<NotificationEndpoint, "ignore"> & { events?: string[]; ignore?: { mediaTypes?: string[]; actions?: string[] } };

/** An endpoint as the renderer takes it: `events` become the `ignore.actions` of the actions not listed. */
export function notificationEndpoint(n: ResolvedNotification): NotificationEndpoint {
    for (const a of [...(n.events ?? []), ...(n.ignore?.actions ?? [])]) {
        if (!(NOTIFICATION_ACTIONS as readonly string[]).includes(a))
            throw new Error(
                `registry notifications: endpoint ${JSON.stringify(n.name)}: action ${JSON.stringify(a)} is not one of ${NOTIFICATION_ACTIONS.join(", ")}`,
            );
    }
    const notSent = n.events === undefined ? [] : NOTIFICATION_ACTIONS.filter((a) => !n.events!.includes(a));
    const ignored = (n.ignore?.actions ?? []) as NotificationAction[];
    const actions = [...new Set([...ignored, ...notSent])].sort((a, b) => NOTIFICATION_ACTIONS.indexOf(a) - NOTIFICATION_ACTIONS.indexOf(b));
    const { events: _events, ignore, ...endpoint } = n;
    return { ...endpoint, ignore: { mediaTypes: ignore?.mediaTypes, actions } };
}
