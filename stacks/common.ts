/**
 * What every topology sets up the same way: the Docker target and network, the registry's storage
 * (and Redis for replicas), and certbot in ACME mode.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { AcmeCertbot } from "../components/acme-certbot";
import { firstHostAddress } from "../primitives/network";
import { Certificates } from "../components/certificates";
import { Htpasswd } from "../components/htpasswd";
import { Redis } from "../components/redis";
import { Storage, StorageArgs } from "../components/storage";
import { Monitoring, MonitoringArgs } from "../components/monitoring";
import { Registry, RegistryArgs, RegistryNotificationArgs } from "../components/registry";
import { TlsProxy, TlsProxyAppArgs, TlsProxyArgs, TlsProxyBasicAuthArgs, TlsProxyMirrorArgs } from "../components/tls-proxy";
import { AccessRule } from "../renderers/nginx-auth";
import { ScrapeJob, volumeScrapeJob } from "../renderers/prometheus-config";
import { Maintenance } from "../components/maintenance";
import { renderMaintenanceAlertRules } from "../renderers/maintenance-config";
import { PROXY_METRICS_PORT, renderRegistryAlertRules, renderVolumeAlertRules } from "../renderers/registry-alerts";
import { VolumeExporter } from "../components/volume-exporter";
import { Alertmanager } from "../components/alertmanager";
import { ageSeconds } from "./settings/maintenance";
import { FULL_ACCESS } from "./settings/auth";
import { ACME_DIRECTORIES, Settings, volumeExporterEnabled } from "./schema";

/** `host` or `host:port` as clients write it (the port is left out when it is 443). */
export function registryHost(hostname: string, httpsPort: number): string {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return httpsPort === 443 ? host : `${host}:${httpsPort}`;
}

/** certbot's name for the stack's certificate: /etc/letsencrypt/live/registry-kit/. */
export const ACME_CERT_NAME = "registry-kit";

export interface StackTarget {
    /** Prefix of every Docker name: `docker.namePrefix` or `rk-<stack>`. */
    prefix: string;
    /** Options for components: the caller's, plus the Docker provider when `docker.host` is set. */
    childOpts: pulumi.ComponentResourceOptions;
    network: docker.Network;
}

/** The Docker provider (when `docker.host` is set) and the stack's bridge network. */
export function stackTarget(settings: Settings, opts: pulumi.ComponentResourceOptions): StackTarget {
    const prefix = settings.docker.namePrefix ?? `rk-${pulumi.getStack()}`;
    const providerOpts: pulumi.CustomResourceOptions = {};
    if (settings.docker.host) {
        providerOpts.provider = new docker.Provider(`${prefix}-docker`, { host: settings.docker.host });
    }
    const childOpts = pulumi.mergeOptions(opts, providerOpts.provider ? { providers: [providerOpts.provider] } : {});
    const network = new docker.Network(
        `${prefix}-net`,
        {
            name: `${prefix}-net`,
            driver: "bridge",
            labels: [{ label: "registry-kit.stack", value: prefix }],
            // The gateway is written as Docker picks it: the provider reads it back, and a subnet without
            // it would differ from state (and replace the network) on every `pulumi up`.
            ...(settings.docker.subnet ? { ipamConfigs: [{ subnet: settings.docker.subnet, gateway: firstHostAddress(settings.docker.subnet) }] } : {}),
        },
        pulumi.mergeOptions(opts, providerOpts),
    );
    return { prefix, childOpts, network };
}

/** The network's subnets, as Docker assigned them (or `docker.subnet`). */
export function networkSubnets(network: docker.Network): pulumi.Output<string[]> {
    return network.ipamConfigs.apply((configs) => (configs ?? []).map((c) => c.subnet).filter((s): s is string => !!s));
}

/** The registry's storage (volume, S3 or MinIO) and, for replicas, the shared Redis. */
function registryStorage(settings: Settings, { prefix, network, childOpts }: StackTarget) {
    const reg = settings.registry;
    const storage = new Storage(
        `${prefix}-storage`,
        { kind: reg.storage.type, networkName: network.name, ...storageArgs(settings, prefix), logging: settings.docker.logging },
        childOpts,
    );
    // Replicas share a blob-descriptor cache: your Redis, or a container of ours.
    const redis = reg.redis.address
        ? { address: pulumi.output(reg.redis.address), password: reg.redis.password === undefined ? undefined : pulumi.secret(reg.redis.password) }
        : reg.replicas > 1
          ? new Redis(`${prefix}-redis`, { networkName: network.name, image: reg.redis.image, logging: settings.docker.logging }, childOpts)
          : undefined;
    return { storage, redis };
}

/** A `notifications.endpoints` entry as the Registry takes it, its secret and headers made secret. */
function notificationArgs(e: Settings["notifications"]["endpoints"][number]): RegistryNotificationArgs {
    return {
        name: e.name,
        url: e.url,
        secret: e.secret === undefined ? undefined : pulumi.secret(e.secret),
        headers: e.headers === undefined ? undefined : pulumi.secret(e.headers),
        timeout: e.timeout,
        threshold: e.threshold,
        backoff: e.backoff,
        events: e.events,
        ignoredMediaTypes: e.ignoredMediaTypes,
        ignore: e.ignore,
    };
}

/** The registry, the storage it is on and the Redis it caches in (if any). */
export interface RegistryDeployment {
    registry: Registry;
    storage: Storage;
    redis: { address: pulumi.Input<string>; password?: pulumi.Input<string> } | undefined;
    /** The volume backup snapshots go to (`maintenance.backup.enabled`). */
    backupVolumeName: pulumi.Output<string> | undefined;
}

/**
 * The registry from `registry.*` settings, on its storage; `auth` adds htpasswd or token auth;
 * `control` (maintenance enabled) adds its GC worker.
 */
export function registryFromSettings(
    settings: Settings,
    target: StackTarget,
    auth: Pick<RegistryArgs, "alias" | "htpasswd" | "tokenAuth" | "notifications">,
    control?: docker.Volume,
): RegistryDeployment {
    const reg = settings.registry;
    const { storage, redis } = registryStorage(settings, target);
    const backups = control && backupVolume(settings, target);
    const registry = new Registry(
        `${target.prefix}-registry`,
        {
            networkName: target.network.name,
            logging: settings.docker.logging,
            ...auth,
            // The topology's own endpoint (GitLab's) first, then the user's webhooks.
            notifications: [...(auth.notifications ?? []), ...settings.notifications.endpoints.map(notificationArgs)],
            image: reg.image,
            // The gate is an nginx like the proxy: one image to pull and trust.
            metricsGateImage: settings.proxy.image,
            dialect: reg.dialect,
            volumeName: reg.storage.filesystem.volumeName,
            retainDataOnDelete: reg.storage.filesystem.retainOnDelete,
            s3: storage.s3,
            replicas: reg.replicas,
            redisAddress: redis?.address,
            redisPassword: redis?.password,
            deleteEnabled: reg.deleteEnabled,
            uploadPurging: reg.uploadPurging,
            logLevel: reg.logLevel,
            extraConfig: reg.extraConfig,
            garbageCollection: control && { controlVolumeName: control.name, backupVolumeName: backups?.name },
        },
        target.childOpts,
    );
    return { registry, storage, redis, backupVolumeName: backups?.name };
}

/** With `maintenance.backup.enabled`: the volume the snapshots go to, kept on destroy like the data. */
function backupVolume(settings: Settings, { prefix, childOpts }: StackTarget): docker.Volume | undefined {
    const backup = settings.maintenance.backup;
    if (!settings.maintenance.enabled || !backup.enabled) return undefined;
    const name = backup.volumeName ?? `${prefix}-registry-backup`;
    return new docker.Volume(
        `${prefix}-registry-backup`,
        { name, labels: [{ label: "registry-kit.role", value: "registry-backup" }] },
        pulumi.mergeOptions(childOpts, { retainOnDelete: true }),
    );
}

/** With `maintenance.enabled`: the volume the maintenance job, the registry's GC worker and the proxy share. */
export function maintenanceControlVolume(settings: Settings, { prefix, childOpts }: StackTarget): docker.Volume | undefined {
    if (!settings.maintenance.enabled || settings.topology === "harbor") return undefined;
    return new docker.Volume(
        `${prefix}-maintenance-control`,
        { name: `${prefix}-maintenance-control`, labels: [{ label: "registry-kit.role", value: "maintenance-control" }] },
        childOpts,
    );
}

/** The maintenance job from `maintenance.*` settings; `credentials` let it delete through the API (retention). */
export function maintenanceFromSettings(
    settings: Settings,
    target: StackTarget,
    deployment: RegistryDeployment,
    control: docker.Volume | undefined,
    credentials?: { username: pulumi.Input<string>; password: pulumi.Input<string> },
): Maintenance | undefined {
    if (!control) return undefined;
    const m = settings.maintenance;
    const { registry, storage, redis } = deployment;
    const s3 = storage.s3;
    return new Maintenance(
        `${target.prefix}-maintenance`,
        {
            networkName: target.network.name,
            logging: settings.docker.logging,
            image: m.image,
            registryAddress: registry.address,
            username: credentials?.username,
            password: credentials?.password,
            registryMetricsAddresses: registry.metricsAddresses,
            controlVolumeName: control.name,
            dataVolumeName: registry.volumeName,
            s3: s3 && {
                bucket: s3.bucket,
                region: s3.region,
                regionEndpoint: s3.regionEndpoint,
                forcePathStyle: s3.forcePathStyle,
                rootDirectory: s3.rootDirectory,
                accessKey: s3.accessKey,
                secretKey: s3.secretKey,
            },
            redisAddress: redis?.address,
            redisPassword: redis?.password,
            schedule: m.schedule,
            timezone: m.timezone,
            dryRun: m.dryRun,
            retention: m.retention.map((r) => ({
                name: r.name,
                repositories: r.repositories,
                repositoryRegex: r.repositoryRegex,
                tags: r.tags,
                tagRegex: r.tagRegex,
                keepMostRecent: r.keepMostRecent,
                keepPushedWithinSeconds: r.keepPushedWithin === undefined ? undefined : ageSeconds(r.keepPushedWithin),
                keepAll: r.keepAll,
                allowDeletingAllTags: r.allowDeletingAllTags,
            })),
            backup: m.backup.enabled ? { keep: m.backup.keep } : undefined,
            replication: m.replication.map((r) => ({ ...r, password: r.password === undefined ? undefined : pulumi.secret(r.password) })),
            syncImage: m.syncImage,
            gcEnabled: m.gc.enabled,
            deleteUntagged: m.gc.deleteUntagged,
            drainTimeoutSeconds: m.gc.drainTimeoutSeconds,
            gcTimeoutSeconds: m.gc.timeoutSeconds,
        },
        // Its first run may come before the registry is up: it waits for nothing, but starts after it.
        pulumi.mergeOptions(target.childOpts, { dependsOn: [registry] }),
    );
}

/**
 * What Prometheus watches besides the registry in the topologies with registry-kit's proxy: the proxy's
 * metrics, the registry alert rules, and the maintenance job's job and rules when there is one.
 */
export function registryMonitoring(
    settings: Settings,
    target: StackTarget,
    deployment: RegistryDeployment,
    maintenance: Maintenance | undefined,
): { jobs: ScrapeJob[]; alertRules: Record<string, string> } {
    const own = maintenanceMonitoring(maintenance);
    const volumes = volumeMonitoring(settings, target, deployment);
    return {
        jobs: [
            { job_name: "proxy", metrics_path: "/metrics", scheme: "http", static_configs: [{ targets: [`proxy:${PROXY_METRICS_PORT}`] }] },
            ...volumes.jobs,
            ...own.jobs,
        ],
        alertRules: { "registry.yml": renderRegistryAlertRules({ downFor: settings.monitoring.downFor }), ...volumes.alertRules, ...own.alertRules },
    };
}

/** The volume exporter on the registry's data volume (and the backup volume), its job and rules; nothing when it is off. */
export function volumeMonitoring(
    settings: Settings,
    target: StackTarget,
    deployment: RegistryDeployment,
): { jobs: ScrapeJob[]; alertRules: Record<string, string> } {
    const data = deployment.registry.volumeName;
    if (!volumeExporterEnabled(settings) || data === undefined) return { jobs: [], alertRules: {} };
    const v = settings.monitoring.volumes;
    const exporter = new VolumeExporter(
        `${target.prefix}-volume-exporter`,
        {
            networkName: target.network.name,
            logging: settings.docker.logging,
            image: v.image,
            volumes: [
                { name: "registry", volumeName: data },
                ...(deployment.backupVolumeName ? [{ name: "backup", volumeName: deployment.backupVolumeName }] : []),
            ],
        },
        target.childOpts,
    );
    return {
        jobs: [volumeScrapeJob(exporter.scrapeTarget)],
        alertRules: { "volumes.yml": renderVolumeAlertRules({ nearlyFullPercent: v.nearlyFullPercent, fullWithinHours: v.fullWithinHours }) },
    };
}

/** Prometheus's job for the maintenance job, and its alert rules. */
export function maintenanceMonitoring(maintenance: Maintenance | undefined): { jobs: ScrapeJob[]; alertRules: Record<string, string> } {
    if (!maintenance) return { jobs: [], alertRules: {} };
    return {
        jobs: [{ job_name: MAINTENANCE_JOB, metrics_path: "/metrics", scheme: "http", static_configs: [{ targets: ["maintenance:9400"] }] }],
        // Overdue an hour after a run was due; writes refused for longer than an hour.
        alertRules: { "maintenance.yml": renderMaintenanceAlertRules({ job: MAINTENANCE_JOB, overdueAfterSeconds: 3600, readOnlyAlertSeconds: 3600 }) },
    };
}

const MAINTENANCE_JOB = "registry-maintenance";

/**
 * The TLS proxy from `proxy.*` and `tls.*` settings in front of the registry; `app` adds GitLab's
 * virtual host; `control` (maintenance enabled) the read-only window; `auth` the proxy's check of
 * htpasswd users (small-team) or the token subject in its log (gitlab).
 */
export function proxyFromSettings(
    settings: Settings,
    target: StackTarget,
    registry: Registry,
    certs: Certificates,
    app?: TlsProxyAppArgs,
    control?: docker.Volume,
    mirrors?: { proxy: TlsProxyMirrorArgs[]; registries: Registry[] },
    auth?: Pick<TlsProxyArgs, "basicAuth" | "logTokenSubject">,
): TlsProxy {
    const acme = settings.tls.mode === "acme" ? settings.tls.acme : undefined;
    return new TlsProxy(
        `${target.prefix}-proxy`,
        {
            networkName: target.network.name,
            logging: settings.docker.logging,
            hostname: settings.hostname,
            upstream: registry.address,
            certificatePem: certs.certificatePem,
            privateKeyPem: certs.privateKeyPem,
            image: settings.proxy.image,
            hostIp: settings.proxy.hostIp,
            httpsPort: settings.proxy.httpsPort,
            httpPort: settings.proxy.httpPort,
            allowCidrs: settings.proxy.allowCidrs,
            hstsMaxAge: settings.proxy.hstsMaxAge,
            acme: acme && { certName: ACME_CERT_NAME, reloadCheckSeconds: acme.reloadCheckSeconds },
            app,
            maintenance: control && { controlVolumeName: control.name, retryAfterSeconds: settings.maintenance.gc.retryAfterSeconds },
            metrics: settings.monitoring.enabled,
            catalog: settings.catalog.enabled
                ? { path: settings.catalog.path, deleteEnabled: settings.catalog.delete, hostname: settings.catalog.hostName }
                : undefined,
            corsOrigins: catalogCorsOrigins(settings),
            ...(mirrors && mirrors.proxy.length > 0 ? { mirrors: mirrors.proxy } : {}),
            ...auth,
        },
        // Only the registries are waited for (GitLab's first start takes minutes; its vhost follows when it is up).
        pulumi.mergeOptions(target.childOpts, { dependsOn: [registry, ...(mirrors?.registries ?? [])] }),
    );
}

/** The page's origin on its own host name (`catalog.hostName`), or undefined when it lives at a path. */
export function catalogPageOrigin(settings: Settings): string | undefined {
    const c = settings.catalog;
    return c.enabled && c.hostName ? `https://${registryHost(c.hostName.toLowerCase(), settings.proxy.httpsPort)}` : undefined;
}

/** The origins the registry's host allows by CORS: the listed ones and the page's own on its host name. */
export function catalogCorsOrigins(settings: Settings): string[] {
    const page = catalogPageOrigin(settings);
    const listed = settings.catalog.allowedOrigins;
    return page && !listed.includes(page) ? [...listed, page] : listed;
}

/** Prometheus from `monitoring.*` settings, scraping `registryTargets` and `extraJobs`; undefined when disabled. */
export function monitoringFromSettings(
    settings: Settings,
    target: StackTarget,
    registryTargets: pulumi.Input<pulumi.Input<string>[]>,
    extraJobs: pulumi.Input<ScrapeJob[]> = [],
    extraHosts?: MonitoringArgs["extraHosts"],
    alertRules?: MonitoringArgs["alertRules"],
    alertmanagers?: string[],
): Monitoring | undefined {
    const mon = settings.monitoring;
    if (!mon.enabled) return undefined;
    return new Monitoring(
        `${target.prefix}-prometheus`,
        {
            networkName: target.network.name,
            logging: settings.docker.logging,
            registryTargets,
            extraJobs,
            extraHosts,
            alertRules,
            alertmanagers,
            image: mon.image,
            hostIp: mon.hostIp,
            port: mon.port,
            retentionTime: mon.retentionTime,
            retentionSize: mon.retentionSize,
            scrapeInterval: mon.scrapeInterval,
        },
        target.childOpts,
    );
}

/** Alertmanager from `monitoring.alertmanager.*`, its receivers kept secret; undefined when it is off. */
export function alertmanagerFromSettings(settings: Settings, target: StackTarget): Alertmanager | undefined {
    const am = settings.monitoring.alertmanager;
    if (!settings.monitoring.enabled || !am.enabled) return undefined;
    return new Alertmanager(
        `${target.prefix}-alertmanager`,
        {
            networkName: target.network.name,
            logging: settings.docker.logging,
            receivers: pulumi.secret(am.receivers),
            groupBy: am.groupBy,
            groupWait: am.groupWait,
            groupInterval: am.groupInterval,
            repeatInterval: am.repeatInterval,
            image: am.image,
            hostIp: am.hostIp,
            port: am.port,
        },
        target.childOpts,
    );
}

/** The certbot settings of `tls.acme.*` that AcmeCertbot and HarborInstaller's ACME share. */
export function acmeCertbotSettings(acme: Settings["tls"]["acme"]) {
    return {
        directoryUrl: ACME_DIRECTORIES[acme.directory] ?? acme.directory,
        caBundle: acme.caBundle,
        email: acme.email,
        keyType: acme.keyType,
        rsaKeySize: acme.rsaKeySize,
        ellipticCurve: acme.ellipticCurve,
        image: acme.image,
        renewIntervalHours: acme.renewIntervalHours,
    };
}

/** ACME mode: certbot on the proxy's volumes, for these names; undefined otherwise. */
export function acmeCertbot(settings: Settings, { prefix, network, childOpts }: StackTarget, proxy: TlsProxy, domains: string[]): AcmeCertbot | undefined {
    const acme = settings.tls.mode === "acme" ? settings.tls.acme : undefined;
    return acme
        ? new AcmeCertbot(
              `${prefix}-certbot`,
              {
                  networkName: network.name,
                  logging: settings.docker.logging,
                  webrootVolume: proxy.acmeWebrootVolume,
                  letsencryptVolume: proxy.letsencryptVolume!,
                  domains,
                  ...acmeCertbotSettings(acme),
                  certName: ACME_CERT_NAME,
                  issueTimeoutSeconds: acme.issueTimeoutSeconds,
                  dockerHost: settings.docker.host,
              },
              // HTTP-01 is answered by the proxy: it must be up first.
              pulumi.mergeOptions(childOpts, { dependsOn: [proxy] }),
          )
        : undefined;
}

/** How the served certificate is obtained, as a stack output says it. */
export function certificateNote(settings: Settings): string {
    if (settings.tls.mode === "acme") return "issued by the ACME directory; certbot renews it 30 days before expiry";
    return settings.tls.mode === "self-signed" ? "self-signed: clients must trust caCertificate" : "provided";
}

/** The TLS certificate for `hostname` and `tls.extraSans` as `tls.mode` says. */
export function certificatesFromSettings(
    settings: Settings,
    prefix: string,
    opts: pulumi.ComponentResourceOptions,
    extraSans: string[] = settings.tls.extraSans,
): Certificates {
    return new Certificates(
        `${prefix}-tls`,
        {
            mode: settings.tls.mode,
            hostname: settings.hostname,
            extraSans,
            validityDays: settings.tls.validityDays,
            caValidityDays: settings.tls.caValidityDays,
            certificatePem: settings.tls.certificate,
            privateKeyPem: settings.tls.privateKey === undefined ? undefined : pulumi.secret(settings.tls.privateKey),
        },
        opts,
    );
}

/** Storage's arguments from `registry.storage.*` but kind and network: s3, or MinIO (published when `hostPort` is set). */
export function storageArgs(settings: Settings, prefix: string): Omit<StorageArgs, "kind" | "networkName"> {
    const { type, s3, minio } = settings.registry.storage;
    return {
        ...s3StorageArgs(settings),
        bucket: type === "minio" ? minio.bucket : (s3.bucket ?? `${prefix}-registry`),
        retainOnDelete: type === "minio" ? minio.retainOnDelete : true,
        minioImage: minio.image,
        mcImage: minio.mcImage,
        rootUser: minio.rootUser,
        rootPassword: minio.rootPassword === undefined ? undefined : pulumi.secret(minio.rootPassword),
        volumeName: minio.volumeName ?? `${prefix}-minio-data`,
        minioPublishPort: minio.hostPort,
        minioPublishHostIp: minio.hostIp,
    };
}

/** Storage arguments from `registry.storage.s3` (the bucket is the caller's choice). */
export function s3StorageArgs(settings: Settings): Omit<StorageArgs, "kind" | "bucket"> {
    const s3 = settings.registry.storage.s3;
    return {
        rootDirectory: s3.rootDirectory,
        create: s3.create,
        region: s3.region,
        regionEndpoint: s3.regionEndpoint,
        forcePathStyle: s3.forcePathStyle,
        encrypt: s3.encrypt,
        secure: s3.secure,
        chunkSize: s3.chunkSize,
        redirect: s3.redirect,
        versioning: s3.versioning,
        abortIncompleteUploadDays: s3.abortIncompleteUploadDays,
        accessKey: s3.accessKey,
        secretKey: s3.secretKey === undefined ? undefined : pulumi.secret(s3.secretKey),
    };
}

/** The htpasswd file of `auth.*`: the admin (generated password unless set) and the users, bcrypt-hashed. */
/** The htpasswd users from settings; `proxied` when the TLS proxy checks them and sends derived logins on. */
export function htpasswdFromSettings(settings: Settings, prefix: string, opts: pulumi.ComponentResourceOptions, proxied = false): Htpasswd {
    const auth = settings.auth;
    return new Htpasswd(
        `${prefix}-htpasswd`,
        {
            adminUser: auth.adminUser,
            adminPassword: auth.adminPassword === undefined ? undefined : pulumi.secret(auth.adminPassword),
            users: auth.users.map((u) => ({ name: u.name, password: pulumi.secret(u.password) })),
            bcryptCost: auth.bcryptCost,
            proxied,
        },
        opts,
    );
}

/** Each htpasswd user's permissions at the proxy: the admin everything, others their `access` (default everything). */
export function userAccess(auth: Settings["auth"]): Record<string, AccessRule[]> {
    const access: Record<string, AccessRule[]> = { [auth.adminUser]: FULL_ACCESS };
    for (const u of auth.users) access[u.name] = u.access ?? FULL_ACCESS;
    return access;
}

/** The proxy's credential check (`auth.*`) for a `proxied` htpasswd: its secrets, verdict lifetime and each user's permissions. */
export function proxyBasicAuth(settings: Settings, htpasswd: Htpasswd): TlsProxyBasicAuthArgs {
    return {
        proxySecret: htpasswd.proxySecret!,
        verdictKey: htpasswd.verdictKey!,
        verdictCacheSeconds: settings.auth.verdictCacheSeconds,
        access: userAccess(settings.auth),
    };
}

/** Copy-paste steps for a Docker client to trust the CA and log in. */
export function clientSetupText(host: string, selfSigned: boolean): string {
    const lines = [`# On each machine that pushes or pulls:`];
    if (selfSigned) {
        lines.push(`sudo mkdir -p /etc/docker/certs.d/${host}`, `pulumi stack output caCertificate | sudo tee /etc/docker/certs.d/${host}/ca.crt >/dev/null`);
    }
    lines.push(`pulumi stack output adminPassword --show-secrets | docker login ${host} --username "$(pulumi stack output adminUser)" --password-stdin`);
    return lines.join("\n") + "\n";
}

/** The stack outputs a client needs: the URL and host, the CA, and how to log in. */
export function clientOutputs(settings: Settings, certs: Certificates, htpasswd: Htpasswd) {
    const host = registryHost(settings.hostname, settings.proxy.httpsPort);
    return {
        registryUrl: pulumi.output(`https://${host}`),
        registryHost: pulumi.output(host),
        caCertificate: certs.caCertificatePem,
        dockerLogin: pulumi.interpolate`docker login ${host} --username ${htpasswd.adminUser}`,
        clientSetup: pulumi.output(clientSetupText(host, settings.tls.mode === "self-signed")),
    };
}
