/**
 * The typed schema of registry-kit's stack configuration: the sections (stacks/settings/<section>.ts)
 * assembled, and the checks that span several of them.
 *
 * Every setting lives under the `registry-kit:` namespace of a Pulumi stack file. Each section declares its
 * plain values, defaults and messages once, in its own file; `loadSettings` (config.ts) turns raw config
 * into `Settings`. To add a section, write stacks/settings/<section>.ts and add it to `sections` below.
 */
import { X509Certificate } from "node:crypto";
import { z } from "zod";
import { HARBOR_SCHEMA_VERSION, harborDataVolumeProblem, harborHostnameProblem, parseHarborVersion } from "../primitives/harbor";
import { formatIssues as formatZodIssues } from "../primitives/issues";
import { bucketNameProblem } from "../primitives/names";
import { hostname, isHttpUrl, isLoopbackHost, publicNameProblem } from "../primitives/network";
import { ignoresRedisPassword, inferDialect, REDIS_PASSWORD_IMAGE_RULE, s3RegionProblem } from "../primitives/registry";
import { pinsNode } from "../primitives/swarm";
import { ACME_DIRECTORIES, certificateNames, looksLikePrivateKey, parseCertificateChain, parsePrivateKey } from "../primitives/tls";
import { authSchema } from "./settings/auth";
import { catalogSchema } from "./settings/catalog";
import { dockerSchema } from "./settings/docker";
import { gitlabEndpoint, gitlabPasswordProblem, gitlabSchema, GITLAB_OWNED_SETTINGS, GITLAB_REGISTRY_IMAGE } from "./settings/gitlab";
import { harborSchema } from "./settings/harbor";
import { monitoringSchema } from "./settings/monitoring";
import { proxySchema } from "./settings/proxy";
import { registrySchema } from "./settings/registry";
import { minioEndpointPort } from "./settings/storage";
import { maintenanceSchema } from "./settings/maintenance";
import { mirrorsSchema } from "./settings/mirrors";
import { notificationsSchema } from "./settings/notifications";
import { tlsSchema } from "./settings/tls";

// What this module exported before the split, for the modules and tests that import it from here.
export { goDuration, isGoDuration, isPrometheusDuration, prometheusDuration } from "../primitives/durations";
export { GITLAB_IMAGE, image, imageReferenceProblem } from "../primitives/images";
export { bucketName, bucketNameProblem, dockerName, password, userName } from "../primitives/names";
export {
    cidr,
    dockerHostProblem,
    hostname,
    hostPortProblem,
    ipAddress,
    isCidr,
    isHostname,
    isHttpsUrl,
    isHttpUrl,
    port,
    publicNameProblem,
} from "../primitives/network";
export { dialects, ignoresRedisPassword, inferDialect, logLevels, REDIS_PASSWORD_IMAGE_RULE, S3_DRIVER_REGIONS, s3RegionProblem } from "../primitives/registry";
export {
    ACME_DIRECTORIES,
    acmeCurves,
    acmeKeyTypes,
    caValidityDays,
    certificateNames,
    looksLikePrivateKey,
    parseCertificateChain,
    parsePrivateKey,
    tlsModes,
} from "../primitives/tls";
export { GITLAB_DEFAULT_ISSUER, GITLAB_OWNED_SETTINGS, GITLAB_REGISTRY_IMAGE, gitlabEndpoint, gitlabPasswordProblem } from "./settings/gitlab";
export { minioEndpointPort, storageTypes } from "./settings/storage";

export const topologies = ["small-team", "gitlab", "harbor"] as const;

/** The sections under `registry-kit:`, one file each in stacks/settings/; adding one is one line here. */
const sections = {
    docker: dockerSchema,
    registry: registrySchema,
    proxy: proxySchema,
    tls: tlsSchema,
    auth: authSchema,
    monitoring: monitoringSchema,
    /** GitLab CE, the registry's token issuer (topology gitlab). */
    gitlab: gitlabSchema,
    harbor: harborSchema,
    /** Retention rules and scheduled garbage collection (small-team, gitlab). */
    maintenance: maintenanceSchema,
    catalog: catalogSchema,
    /** Pull-through mirrors of other registries (small-team). */
    mirrors: mirrorsSchema,
    /** Webhooks: the registry's notification endpoints (small-team, gitlab). */
    notifications: notificationsSchema,
};

export const settingsSchema = z
    .strictObject({
        /** Which topology to deploy. Default: small-team. */
        topology: z.enum(topologies).default("small-team"),
        /** DNS name (or IP) clients use to reach the registry. Required. */
        hostname,
        ...sections,
    })
    .superRefine(checkCrossSettings);

export type Settings = z.output<typeof settingsSchema>;
export type RawSettings = z.input<typeof settingsSchema>;

/** One readable line per problem: the setting, the bad value (unless secret) and what is allowed. */
export function formatIssues(issues: z.core.$ZodIssue[], input: unknown, prefix = "registry-kit:", root: z.ZodType = settingsSchema): string {
    return formatZodIssues(issues, input, prefix, root);
}

/** Defaults that depend on the topology, applied to raw settings before the schema's own. */
export function withTopologyDefaults(raw: Record<string, unknown>): Record<string, unknown> {
    if (raw.topology !== "gitlab") return raw;
    const registry = raw.registry;
    if (registry !== undefined && (registry === null || typeof registry !== "object" || Array.isArray(registry))) return raw;
    const reg = (registry ?? {}) as Record<string, unknown>;
    return reg.image === undefined ? { ...raw, registry: { ...reg, image: GITLAB_REGISTRY_IMAGE } } : raw;
}

/** Checks of the harbor topology: what Harbor itself would refuse, and what registry-kit cannot wire to it. */
function checkHarbor(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const h = settings.harbor;
    const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: "custom", path, input, message });
    const v = parseHarborVersion(h.version);
    if (v && `${v.major}.${v.minor}.0` !== HARBOR_SCHEMA_VERSION) {
        issue(
            ["harbor", "version"],
            h.version,
            `a ${HARBOR_SCHEMA_VERSION.replace(/\.0$/, "")}.x release (registry-kit renders Harbor ${HARBOR_SCHEMA_VERSION.replace(/\.0$/, "")}'s harbor.yml; another minor version needs Harbor's migration, see the README's "Upgrading Harbor")`,
        );
    }
    if (!h.installerSha256) {
        issue(
            ["harbor", "installerSha256"],
            undefined,
            "the SHA-256 of the offline installer (64 hex digits, from the release page's .sha256 file or `sha256sum`): required, registry-kit never installs an unverified download",
        );
    }
    const dataProblem = harborDataVolumeProblem(h.dataVolume, h.installDir);
    if (dataProblem) issue(["harbor", "dataVolume"], h.dataVolume, dataProblem);
    const hostProblem = harborHostnameProblem(settings.hostname);
    if (hostProblem) issue(["hostname"], settings.hostname, `a DNS name or IP address clients can reach (this is ${hostProblem})`);
    if (settings.tls.mode === "acme" && settings.tls.acme.directory in ACME_DIRECTORIES && h.httpPort !== 80) {
        issue(
            ["harbor", "httpPort"],
            h.httpPort,
            `80 in tls.mode "acme" with the ${settings.tls.acme.directory} directory: the CA checks HTTP-01 challenges on port 80 of the hostname, which Harbor's proxy must answer`,
        );
    }
    if (settings.registry.storage.type === "minio" && !settings.registry.storage.minio.endpoint) {
        issue(
            ["registry", "storage", "minio", "endpoint"],
            undefined,
            "the URL at which Harbor's registry container reaches MinIO, such as http://10.0.0.5:9000 (an address of the Docker host running MinIO, whose port is published there): required for minio storage with topology harbor, since Harbor's compose network cannot reach registry-kit's network",
        );
    }
    if (h.ssh && !h.ssh.privateKey && !h.ssh.password) {
        issue(["harbor", "ssh", "privateKey"], undefined, "a private key or harbor.ssh.password (set with --secret): required to log in over SSH");
    }
    const ports: [string, number][] = [
        ["httpPort", h.httpPort],
        ["httpsPort", h.httpsPort],
        ["metrics.port", h.metrics.port],
    ];
    ports.forEach(([key, p], i) => {
        const clash = ports.slice(0, i).find(([, q]) => q === p);
        if (clash) issue(["harbor", ...key.split(".")], p, `a host port not already used by registry-kit:harbor.${clash[0]}`);
    });
    // Prometheus on this machine's Docker and Harbor on this machine share host ports.
    if (settings.monitoring.enabled && !h.ssh && !settings.docker.host) {
        const clash = ports.find(([, p]) => p === settings.monitoring.port);
        if (clash)
            issue(
                ["monitoring", "port"],
                settings.monitoring.port,
                `a host port not already used by registry-kit:harbor.${clash[0]} (Harbor and Prometheus run on the same host)`,
            );
    }
    // MinIO is published on registry-kit's Docker host, which Prometheus shares, and Harbor too when both run here.
    const minio = settings.registry.storage.minio;
    if (settings.registry.storage.type === "minio" && minio.endpoint && isHttpUrl(minio.endpoint) && isLoopbackHost(new URL(minio.endpoint).hostname)) {
        issue(
            ["registry", "storage", "minio", "endpoint"],
            minio.endpoint,
            "an address of the Docker host running MinIO that Harbor's registry container can reach, such as http://10.0.0.5:9000: not localhost or a loopback address, which inside that container is the container itself",
        );
    }
    if (settings.registry.storage.type === "minio" && minio.endpoint && isHttpUrl(minio.endpoint)) {
        const port = minio.hostPort ?? minioEndpointPort(minio.endpoint);
        const where = minio.hostPort !== undefined ? "hostPort" : "endpoint";
        const harborClash = !h.ssh && !settings.docker.host ? ports.find(([, p]) => p === port) : undefined;
        if (settings.monitoring.enabled && port === settings.monitoring.port) {
            issue(
                ["registry", "storage", "minio", where],
                minio[where],
                `a host port for MinIO not already used by registry-kit:monitoring.port (${port}; MinIO and Prometheus run on the same Docker host)`,
            );
        } else if (harborClash) {
            issue(
                ["registry", "storage", "minio", where],
                minio[where],
                `a host port for MinIO not already used by registry-kit:harbor.${harborClash[0]} (${port}; Harbor and MinIO run on the same host)`,
            );
        }
    }
}

/** Maintenance against the topology and the registry it maintains. */
function checkMaintenance(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const m = settings.maintenance;
    const issue = (path: (string | number)[], input: unknown, message: string) =>
        ctx.addIssue({ code: "custom", path: ["maintenance", ...path], input, message });
    if (!m.enabled) return;
    if (settings.topology === "harbor") {
        issue(["enabled"], true, "false with topology harbor (Harbor runs its own tag retention and garbage collection: configure them in Harbor)");
        return;
    }
    const self = [`${settings.hostname}:${settings.proxy.httpsPort}`.toLowerCase()];
    if (settings.proxy.httpsPort === 443) self.push(settings.hostname.toLowerCase());
    m.replication.forEach((r, i) => {
        if (self.includes(r.registry.toLowerCase())) {
            issue(["replication", i, "registry"], r.registry, "another registry than this one (it is this stack's own hostname)");
        }
    });
    if (settings.topology === "gitlab" && m.replication.length > 0) {
        issue(["replication"], m.replication, "[] with topology gitlab (GitLab issues the registry's tokens; this job has no GitLab user)");
    }
    if (settings.topology === "gitlab" && m.retention.length > 0) {
        issue(["retention"], undefined, "[] with topology gitlab (GitLab's cleanup policies delete tags through its API; this job runs garbage collection)");
    }
    const reg = settings.registry;
    if (m.retention.length > 0 && !reg.deleteEnabled) {
        issue(["retention"], undefined, "[] while registry.deleteEnabled is false (retention deletes manifests through the API)");
    }
    if (m.backup.enabled && reg.storage.type !== "filesystem") {
        issue(
            ["backup", "enabled"],
            true,
            `false with registry.storage.type ${reg.storage.type}: the snapshot copies the data volume; back a bucket up with its versioning (registry.storage.s3.versioning) and replication (README, "Backup and restore")`,
        );
    }
    if (m.gc.enabled && m.gc.deleteUntagged && (reg.dialect ?? inferDialect(reg.image)) === "v2") {
        issue(
            ["gc", "deleteUntagged"],
            true,
            `false with ${reg.image}: before Distribution 3.0.0, --delete-untagged deletes the children of multi-arch images`,
        );
    }
}

/** The catalog page against the topology and the registry it shows. */
function checkCatalog(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const c = settings.catalog;
    const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: "custom", path: ["catalog", ...path], input, message });
    if (settings.topology !== "small-team") {
        const own = settings.topology === "gitlab" ? "GitLab's own registry UI (Deploy > Container Registry)" : "Harbor's own web portal";
        const why = `with topology ${settings.topology} (the page signs in with htpasswd users, which only small-team has; use ${own})`;
        if (c.enabled) issue(["enabled"], true, `false ${why}`);
        if (c.allowedOrigins.length > 0) issue(["allowedOrigins"], undefined, `[] ${why}`);
        if (c.hostName !== undefined) issue(["hostName"], c.hostName, `none ${why}`);
        return;
    }
    if (c.hostName !== undefined) {
        const name = c.hostName.toLowerCase();
        if (!c.enabled) issue(["hostName"], c.hostName, "none while catalog.enabled is false (it is where the page is served)");
        else if (name === settings.hostname.toLowerCase())
            issue(["hostName"], c.hostName, "a name other than hostname (to serve the page on the registry's host, leave hostName out and set path)");
        else if (settings.mirrors.some((m) => m.hostname?.toLowerCase() === name)) issue(["hostName"], c.hostName, "a name no mirror has");
    }
    if (c.delete && !c.enabled) issue(["delete"], true, "false while catalog.enabled is false (it shows the page's delete buttons)");
    else if (c.delete && !settings.registry.deleteEnabled)
        issue(["delete"], true, "false while registry.deleteEnabled is false (the registry refuses deletes)");
}

/** Mirrors against each other, the registry's name and port, and the topology. */
function checkMirrors(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const mirrors = settings.mirrors;
    const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: "custom", path: ["mirrors", ...path], input, message });
    if (mirrors.length === 0) return;
    if (settings.topology !== "small-team") {
        const why =
            settings.topology === "gitlab"
                ? "GitLab issues the registry's tokens for its projects' paths, and a mirror serves the upstream's paths"
                : "Harbor has its own proxy-cache projects: configure them in Harbor";
        issue([], undefined, `[] with topology ${settings.topology} (${why}); mirrors run with topology small-team`);
        return;
    }
    const registryPort = settings.proxy.httpsPort;
    const registryHost = settings.hostname.toLowerCase();
    const dialect = settings.registry.dialect ?? inferDialect(settings.registry.image);
    mirrors.forEach((m, i) => {
        const first = mirrors.findIndex((o) => o.name === m.name);
        if (first < i) issue([i, "name"], m.name, `a name not used by another mirror (mirrors[${first}] is ${m.name})`);
        const port = m.httpsPort ?? registryPort;
        const host = (m.hostname ?? settings.hostname).toLowerCase();
        if (m.httpsPort === registryPort && m.hostname === undefined) {
            issue(
                [i, "httpsPort"],
                m.httpsPort,
                `a port other than proxy.httpsPort (${registryPort}), which serves the registry; or a hostname of the mirror's own`,
            );
        } else if (m.httpsPort === registryPort) {
            issue([i, "httpsPort"], m.httpsPort, `nothing (a mirror with a hostname is served on proxy.httpsPort, ${registryPort}, by name), or another port`);
        } else if (host === registryHost && port === registryPort && m.hostname !== undefined) {
            issue(
                [i, "hostname"],
                m.hostname,
                `a host name other than the registry's (${settings.hostname}) on port ${registryPort}, or httpsPort: a port of the mirror's own`,
            );
        }
        const clash = mirrors.slice(0, i).findIndex((o) => (o.hostname ?? settings.hostname).toLowerCase() === host && (o.httpsPort ?? registryPort) === port);
        if (clash >= 0 && m.httpsPort !== registryPort) {
            const key = m.httpsPort !== undefined ? "httpsPort" : "hostname";
            issue(
                [i, key],
                m[key],
                `a host name and port not used by another mirror (mirrors[${clash}], ${mirrors[clash].name}, is served at ${host}:${port})`,
            );
        } else if (m.httpsPort !== undefined && m.httpsPort !== registryPort) {
            const samePort = mirrors.slice(0, i).findIndex((o) => o.httpsPort === m.httpsPort);
            if (samePort >= 0) issue([i, "httpsPort"], m.httpsPort, `a port not used by another mirror (mirrors[${samePort}], ${mirrors[samePort].name})`);
        }
        if (dialect === "v2" && m.ttl !== "168h") {
            issue(
                [i, "ttl"],
                m.ttl,
                `168h with ${settings.registry.image}: Distribution 2.8 has no proxy.ttl (it keeps cached content 168h and ignores the setting); use a registry:3 image for another TTL`,
            );
        }
    });
}

/** Checks that span several settings: published ports, mode-dependent requirements, unique users. */
/** Webhooks and log drivers apply to containers registry-kit runs (not Harbor's); GitLab's endpoint keeps its name. */
function checkNotifications(settings: Settings, ctx: z.core.$RefinementCtx): void {
    if (settings.topology === "harbor" && settings.docker.logging !== undefined) {
        ctx.addIssue({
            code: "custom",
            path: ["docker", "logging"],
            input: settings.docker.logging.driver ?? "json-file",
            message: "nothing with topology harbor (Harbor's installer runs its own containers, whose logging harbor.yml sets)",
        });
    }
    settings.notifications.endpoints.forEach((e, i) => {
        if (settings.topology === "harbor" && i === 0) {
            ctx.addIssue({
                code: "custom",
                path: ["notifications", "endpoints"],
                input: `${settings.notifications.endpoints.length} endpoint(s)`,
                message: "none with topology harbor (Harbor runs its own registry; use Harbor's webhooks)",
            });
        }
        // Distribution 2.8 parses `ignore` but its app never hands it to the endpoint (measured with 2.8.2:
        // pull events reached an endpoint whose ignore.actions listed pull); 3.x applies it.
        if ((settings.registry.dialect ?? inferDialect(settings.registry.image)) === "v2") {
            for (const key of ["events", "ignore"] as const) {
                if (e[key] === undefined) continue;
                ctx.addIssue({
                    code: "custom",
                    path: ["notifications", "endpoints", i, key],
                    input: key === "events" ? e.events!.join(", ") : e.ignore,
                    message: `nothing with a Distribution 2 registry (${settings.registry.image}), which reads ignore.actions and ignore.mediatypes but never applies them; ignoredMediaTypes works on 2 and 3, action filters need a registry 3 image (or a receiver that filters on the event's action)`,
                });
            }
        }
        if (settings.topology === "gitlab" && settings.gitlab.notifications && e.name === "gitlab") {
            ctx.addIssue({
                code: "custom",
                path: ["notifications", "endpoints", i, "name"],
                input: e.name,
                message: 'a name other than "gitlab", which names GitLab\'s own endpoint (gitlab.notifications)',
            });
        }
    });
}

/** The volume exporter needs a volume and a Prometheus; Alertmanager a Prometheus with the kit's rules. */
function checkMonitoring(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const m = settings.monitoring;
    const issue = (path: (string | number)[], input: unknown, message: string) =>
        ctx.addIssue({ code: "custom", path: ["monitoring", ...path], input, message });
    if (m.volumes.enabled) {
        if (settings.topology === "harbor") issue(["volumes", "enabled"], true, "false with topology harbor (Harbor keeps its own volumes)");
        else if (settings.registry.storage.type !== "filesystem")
            issue(
                ["volumes", "enabled"],
                true,
                `false with registry.storage.type ${settings.registry.storage.type} (no registry volume to watch; the object store reports its own usage)`,
            );
        else if (!m.enabled) issue(["volumes", "enabled"], true, "false with monitoring.enabled false (Prometheus scrapes the exporter)");
    }
    if (m.alertmanager.enabled) {
        if (!m.enabled) issue(["alertmanager", "enabled"], true, "false with monitoring.enabled false (Prometheus sends the alerts)");
        else if (settings.topology === "harbor")
            issue(
                ["alertmanager", "enabled"],
                true,
                "false with topology harbor (the kit's alert rules watch its own proxy and registry, which Harbor replaces)",
            );
    }
}

/** Whether the volume exporter runs: `monitoring.volumes.enabled`, by default with filesystem storage outside Harbor. */
export function volumeExporterEnabled(settings: Settings): boolean {
    return (
        settings.monitoring.volumes.enabled ??
        (settings.monitoring.enabled && settings.docker.mode !== "swarm" && settings.topology !== "harbor" && settings.registry.storage.type === "filesystem")
    );
}

/**
 * docker.mode swarm: what the swarm stack builds (small-team's registry, proxy, Prometheus and Redis as
 * services on S3 or a pinned volume), and the placements Swarm could never satisfy.
 */
function checkSwarm(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: "custom", path, input, message });
    const sw = settings.docker.swarm;
    const reg = settings.registry;
    if (settings.topology !== "small-team") {
        issue(["docker", "mode"], "swarm", `"standalone" with topology ${settings.topology} (swarm mode deploys the small-team topology only)`);
        return;
    }
    if (reg.storage.type === "minio") {
        issue(
            ["registry", "storage", "type"],
            "minio",
            "s3 or filesystem in swarm mode (registry-kit runs MinIO as a container on one host; use an external S3 or S3-compatible endpoint)",
        );
    }
    if (reg.storage.type === "filesystem" && reg.replicas === 1 && !sw.registry.constraints.some(pinsNode)) {
        issue(
            ["docker", "swarm", "registry", "constraints"],
            sw.registry.constraints,
            "a constraint that pins one node (node.hostname==…, node.id==… or node.labels.<name>==…) with filesystem storage: the data volume lives on one node",
        );
    }
    const perNode = sw.registry.maxReplicasPerNode;
    if (perNode > 0 && reg.replicas > perNode * sw.nodes) {
        issue(
            ["registry", "replicas"],
            reg.replicas,
            `at most docker.swarm.registry.maxReplicasPerNode × docker.swarm.nodes (${perNode} × ${sw.nodes}); the others would never be scheduled`,
        );
    }
    const proxy = sw.proxy;
    if (proxy.publishMode === "host" && proxy.replicas > sw.nodes) {
        issue(
            ["docker", "swarm", "proxy", "replicas"],
            proxy.replicas,
            `at most docker.swarm.nodes (${sw.nodes}) in host publish mode: each node's ports fit one proxy task`,
        );
    }
    if (proxy.publishMode === "host" && proxy.update.order === "start-first") {
        issue(
            ["docker", "swarm", "proxy", "update", "order"],
            "start-first",
            "stop-first in host publish mode (the new task needs the ports the old one still holds on its node)",
        );
    }
    if (proxy.publishMode === "ingress" && settings.proxy.allowCidrs.length > 0) {
        issue(
            ["docker", "swarm", "proxy", "publishMode"],
            "ingress",
            "host with proxy.allowCidrs (behind the routing mesh nginx sees the mesh's addresses, not the clients')",
        );
    }
    if (settings.proxy.hostIp !== "0.0.0.0") {
        issue(["proxy", "hostIp"], settings.proxy.hostIp, "0.0.0.0 in swarm mode (Swarm publishes a service's ports on every address of a node)");
    }
    const refused: [(string | number)[], boolean, unknown, string][] = [
        [
            ["maintenance", "enabled"],
            settings.maintenance.enabled,
            true,
            "false in swarm mode (the maintenance job shares volumes with the registry on one host)",
        ],
        [["mirrors"], settings.mirrors.length > 0, `${settings.mirrors.length} mirrors`, "no mirrors in swarm mode"],
        [["tls", "mode"], settings.tls.mode === "acme", "acme", "self-signed or provided in swarm mode (certbot shares volumes with the proxy on one host)"],
        [["catalog", "enabled"], settings.catalog.enabled, true, "false in swarm mode"],
        [["monitoring", "alertmanager", "enabled"], settings.monitoring.alertmanager.enabled, true, "false in swarm mode"],
        [
            ["monitoring", "volumes", "enabled"],
            settings.monitoring.volumes.enabled === true,
            true,
            "false in swarm mode (the exporter would share the registry's volume on one host)",
        ],
        [
            ["notifications", "endpoints"],
            settings.notifications.endpoints.length > 0,
            `${settings.notifications.endpoints.length} endpoints`,
            "none in swarm mode",
        ],
    ];
    for (const [path, bad, input, message] of refused) if (bad) issue(path, input, message);
}

function checkCrossSettings(s: z.output<z.ZodObject<any>>, ctx: z.core.$RefinementCtx): void {
    const settings = s as unknown as Omit<Settings, never>;
    if (settings.topology === "harbor") checkHarbor(settings, ctx);
    else if (settings.registry.storage.minio.endpoint) {
        ctx.addIssue({
            code: "custom",
            path: ["registry", "storage", "minio", "endpoint"],
            input: settings.registry.storage.minio.endpoint,
            message: "nothing outside topology harbor (the registry reaches MinIO on the stack's network)",
        });
    }
    checkMaintenance(settings, ctx);
    checkCatalog(settings, ctx);
    checkMirrors(settings, ctx);
    checkNotifications(settings, ctx);
    checkMonitoring(settings, ctx);
    if (settings.docker.mode === "swarm") checkSwarm(settings, ctx);
    const published: { path: (string | number)[]; ip: string; port: number }[] = [
        { path: ["proxy", "httpsPort"], ip: settings.proxy.hostIp, port: settings.proxy.httpsPort },
        { path: ["proxy", "httpPort"], ip: settings.proxy.hostIp, port: settings.proxy.httpPort },
    ];
    if (settings.monitoring.enabled) {
        published.push({ path: ["monitoring", "port"], ip: settings.monitoring.hostIp, port: settings.monitoring.port });
        const am = settings.monitoring.alertmanager;
        if (am.enabled) published.push({ path: ["monitoring", "alertmanager", "port"], ip: am.hostIp, port: am.port });
    }
    const minio = settings.registry.storage.minio;
    if (settings.topology !== "harbor" && settings.registry.storage.type === "minio" && minio.hostPort !== undefined) {
        published.push({ path: ["registry", "storage", "minio", "hostPort"], ip: minio.hostIp, port: minio.hostPort });
    }
    settings.mirrors.forEach((m, i) => {
        // A port equal to the registry's is refused in checkMirrors; two mirrors' equal ports there too.
        if (m.httpsPort !== undefined && m.httpsPort !== settings.proxy.httpsPort && settings.mirrors.findIndex((o) => o.httpsPort === m.httpsPort) === i) {
            published.push({ path: ["mirrors", i, "httpsPort"], ip: settings.proxy.hostIp, port: m.httpsPort });
        }
    });
    const gitlab = settings.topology === "gitlab" ? checkGitlab(settings, ctx) : undefined;
    if (gitlab && gitlab.port !== settings.proxy.httpsPort) {
        published.push({ path: ["gitlab", "externalUrl"], ip: settings.proxy.hostIp, port: gitlab.port });
    }
    if (gitlab && settings.gitlab.sshPort !== 0) {
        published.push({ path: ["gitlab", "sshPort"], ip: settings.proxy.hostIp, port: settings.gitlab.sshPort });
    }
    published.forEach((a, i) => {
        const clash = published.slice(0, i).find((b) => b.port === a.port && overlaps(a.ip, b.ip));
        if (clash) {
            ctx.addIssue({
                code: "custom",
                path: a.path,
                input: a.port,
                message: `a host port not already used by registry-kit:${clash.path.join(".")} (${clash.ip}:${clash.port})`,
            });
        }
    });
    if (settings.tls.caValidityDays < settings.tls.validityDays) {
        ctx.addIssue({
            code: "custom",
            path: ["tls", "caValidityDays"],
            input: settings.tls.caValidityDays,
            message: `at least tls.validityDays (${settings.tls.validityDays}): the CA must outlive the server certificates it signs`,
        });
    }
    if (settings.tls.mode === "provided") {
        for (const key of ["certificate", "privateKey"] as const) {
            if (!settings.tls[key]) {
                ctx.addIssue({
                    code: "custom",
                    path: ["tls", key],
                    input: undefined,
                    message: `a PEM ${key === "certificate" ? "certificate chain" : "private key (set it with --secret)"}: required when tls.mode is "provided"`,
                });
            }
        }
    }
    if (settings.tls.mode === "acme" && settings.tls.acme.directory in ACME_DIRECTORIES) {
        const names: [string, (string | number)[]][] = [
            [settings.hostname, ["hostname"]],
            ...(gitlab ? [[gitlab.hostname, ["gitlab", "externalUrl"]] as [string, (string | number)[]]] : []),
            ...settings.tls.extraSans.map((n, i): [string, (string | number)[]] => [n, ["tls", "extraSans", i]]),
            ...settings.mirrors.flatMap((m, i): [string, (string | number)[]][] => (m.hostname ? [[m.hostname, ["mirrors", i, "hostname"]]] : [])),
        ];
        for (const [name, path] of names) {
            const problem = publicNameProblem(name);
            if (problem) {
                ctx.addIssue({
                    code: "custom",
                    path,
                    input: name,
                    message: `a public DNS name in tls.mode "acme" (this is ${problem}, which no public CA issues for), or tls.acme.directory set to your own ACME server`,
                });
            }
        }
    }
    if (settings.tls.acme.caBundle && settings.tls.acme.directory in ACME_DIRECTORIES) {
        ctx.addIssue({ code: "custom", path: ["tls", "acme", "caBundle"], input: "(PEM)", message: "a CA bundle only with a custom tls.acme.directory URL" });
    }
    const names = [settings.auth.adminUser, ...settings.auth.users.map((u) => u.name)];
    names.forEach((name, i) => {
        if (i > 0 && names.indexOf(name) < i) {
            ctx.addIssue({
                code: "custom",
                path: ["auth", "users", i - 1, "name"],
                input: name,
                message: "a user name not used twice (the admin user counts)",
            });
        }
    });
    const reg = settings.registry;
    if (reg.replicas > 1 && reg.storage.type === "filesystem") {
        ctx.addIssue({
            code: "custom",
            path: ["registry", "replicas"],
            input: reg.replicas,
            message:
                'replicas: 1 with filesystem storage (a volume belongs to one container on one host; replicas must share object storage: set registry.storage.type to "s3" or "minio")',
        });
    }
    if (reg.storage.type === "s3" && !reg.storage.s3.create) {
        for (const key of ["bucket", "accessKey", "secretKey"] as const) {
            if (!reg.storage.s3[key]) {
                ctx.addIssue({
                    code: "custom",
                    path: ["registry", "storage", "s3", key],
                    input: undefined,
                    message: `a value: required for an existing bucket (registry.storage.s3.create is false)${key === "secretKey" ? "; set it with --secret" : ""}`,
                });
            }
        }
    }
    if (reg.storage.s3.redirect && (reg.storage.type !== "s3" || settings.topology === "harbor")) {
        ctx.addIssue({
            code: "custom",
            path: ["registry", "storage", "s3", "redirect"],
            input: true,
            message:
                reg.storage.type === "minio"
                    ? "false with registry.storage.type minio (the stack's own MinIO is on its Docker network, which clients cannot reach; redirects need type s3 with an endpoint clients reach)"
                    : settings.topology === "harbor"
                      ? "false with topology harbor (Harbor's registry is configured by Harbor's installer, not by registry-kit's registry config)"
                      : `false with registry.storage.type ${reg.storage.type} (redirects send clients to an S3 bucket: type s3 only)`,
        });
    }
    if (reg.storage.type === "s3" && reg.storage.s3.regionEndpoint === undefined) {
        const line = settings.topology === "harbor" || (reg.dialect ?? inferDialect(reg.image)) === "v2" ? "2.8" : "3";
        const problem = s3RegionProblem(reg.storage.s3.region, line);
        if (problem) ctx.addIssue({ code: "custom", path: ["registry", "storage", "s3", "region"], input: reg.storage.s3.region, message: problem });
    }
    if (reg.storage.type === "s3" && reg.storage.s3.create && (reg.storage.s3.accessKey || reg.storage.s3.secretKey)) {
        ctx.addIssue({
            code: "custom",
            path: ["registry", "storage", "s3", "accessKey"],
            input: "(set)",
            message: "no credentials when registry-kit creates the bucket and its IAM user (create: true); set create: false to bring your own",
        });
    }
    // The Redis container (replicas without an address) always has a password; your Redis has one when you set it.
    const redisPassword = reg.redis.address ? reg.redis.password !== undefined : reg.replicas > 1;
    if (settings.topology !== "harbor" && redisPassword && ignoresRedisPassword(reg.image)) {
        ctx.addIssue({ code: "custom", path: ["registry", "image"], input: reg.image, message: REDIS_PASSWORD_IMAGE_RULE });
    }
    checkDerivedBucketName(settings, ctx);
    if (settings.topology !== "harbor") checkExtraConfig(settings, ctx);
    const { image: registryImage, dialect } = settings.registry;
    if (dialect && dialect !== inferDialect(registryImage) && /:\d/.test(registryImage)) {
        ctx.addIssue({
            code: "custom",
            path: ["registry", "dialect"],
            input: dialect,
            message: `the dialect of ${registryImage} (${inferDialect(registryImage)}), or leave it unset`,
        });
    }
}

/** The bucket name registry-kit makes up from the name prefix (s3, created, no bucket set), or undefined. */
export function defaultBucketName(settings: Settings, prefix: string): string | undefined {
    const { type, s3 } = settings.registry.storage;
    return type === "s3" && s3.create && s3.bucket === undefined ? `${prefix}-registry` : undefined;
}

/** A docker.namePrefix that makes the default bucket name invalid is the user's setting, not S3Bucket's argument. */
function checkDerivedBucketName(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const prefix = settings.docker.namePrefix;
    const bucket = prefix === undefined ? undefined : defaultBucketName(settings, prefix);
    const problem = bucket === undefined ? undefined : bucketNameProblem(bucket);
    if (!problem) return;
    ctx.addIssue({
        code: "custom",
        path: ["docker", "namePrefix"],
        input: prefix,
        message: `a prefix that makes the default bucket name ${bucket} an S3 bucket name (${problem}), or registry.storage.s3.bucket set`,
    });
}

/** Keys of the registry's `storage` section that are not a driver (Distribution's configuration.go, Storage.UnmarshalYAML). */
const STORAGE_NON_DRIVER_KEYS = ["maintenance", "cache", "delete", "redirect", "tag"];

/**
 * registry.extraConfig is merged over what registry-kit generates: a second storage driver makes the registry refuse
 * to start, and any auth section would add a method next to registry-kit's or change it (the registry picks one auth
 * method of several at random: Go's map order).
 */
function checkExtraConfig(settings: Settings, ctx: z.core.$RefinementCtx): void {
    const extra = settings.registry.extraConfig;
    const issue = (key: string[], input: unknown, message: string) =>
        ctx.addIssue({ code: "custom", path: ["registry", "extraConfig", ...key], input, message });
    const driver = settings.registry.storage.type === "filesystem" ? "filesystem" : "s3";
    const storage = extra.storage;
    if (storage !== undefined && (storage === null || typeof storage !== "object" || Array.isArray(storage))) {
        issue(["storage"], storage, "an object of storage settings (anything else replaces the storage registry-kit configures from registry.storage.*)");
    } else if (storage !== undefined) {
        for (const [key, value] of Object.entries(storage)) {
            if (key === driver || STORAGE_NON_DRIVER_KEYS.includes(key)) continue;
            issue(
                ["storage", key],
                value,
                `no second storage driver: registry-kit configures ${driver} (from registry.storage.type), and the registry refuses to start with two; set registry.storage.type instead`,
            );
        }
    }
    if (extra.auth !== undefined) {
        issue(
            ["auth"],
            extra.auth,
            "no auth section: registry-kit configures the registry's auth (htpasswd from auth.*, or GitLab's token auth), and a second method or a change there would change who may push",
        );
    }
    if (extra.version !== undefined && String(extra.version) !== "0.1") issue(["version"], extra.version, "0.1, or leave it out");
}

/** The gitlab topology's own rules; returns GitLab's endpoint when the URL is usable. */
function checkGitlab(settings: Settings, ctx: z.core.$RefinementCtx): { hostname: string; port: number } | undefined {
    const g = settings.gitlab;
    const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: "custom", path, input, message });
    if (g.externalUrl === undefined) {
        issue(["gitlab", "externalUrl"], undefined, 'GitLab\'s https:// URL, such as https://gitlab.example.com: required when topology is "gitlab"');
        return undefined;
    }
    const endpoint = gitlabEndpoint(g.externalUrl);
    if (!endpoint) {
        const http = /^http:/i.test(g.externalUrl);
        issue(
            ["gitlab", "externalUrl"],
            g.externalUrl,
            http
                ? "an https:// URL: the proxy terminates TLS for GitLab, and GitLab builds its links, OAuth callbacks and registry realm from this URL"
                : "an https:// URL with a host name and optional port only (no path, user, query or fragment), such as https://gitlab.example.com",
        );
        return undefined;
    }
    if (endpoint.hostname.toLowerCase() === settings.hostname.toLowerCase() && endpoint.port === settings.proxy.httpsPort) {
        issue(
            ["gitlab", "externalUrl"],
            g.externalUrl,
            `a host name or port other than the registry's (${settings.hostname}:${settings.proxy.httpsPort}): GitLab and the registry are two virtual hosts on one proxy`,
        );
    }
    if (g.notifications && (settings.registry.dialect ?? inferDialect(settings.registry.image)) === "v3") {
        issue(
            ["registry", "image"],
            settings.registry.image,
            `a Distribution 2 image such as ${GITLAB_REGISTRY_IMAGE}, or gitlab.notifications: false (registry 3 posts notifications as events.v2+json, which GitLab's /api/v4/container_registry_event/events refuses: it takes events.v1+json)`,
        );
    }
    const rootEmail = g.rootEmail ?? `admin@${endpoint.hostname}`;
    const problem = g.rootPassword === undefined ? undefined : gitlabPasswordProblem(g.rootPassword, rootEmail);
    if (problem) issue(["gitlab", "rootPassword"], "(secret)", `a password GitLab accepts: ${problem}`);
    if (g.extraConfig !== undefined) {
        const owned = GITLAB_OWNED_SETTINGS.filter((k) => g.extraConfig!.includes(k));
        if (owned.length > 0) {
            issue(
                ["gitlab", "extraConfig"],
                "(Ruby)",
                `lines that leave registry-kit's settings alone (found ${owned.join(", ")}; set them through registry-kit:hostname, gitlab.externalUrl, gitlab.registryIssuer and gitlab.rootPassword, so both sides agree)`,
            );
        }
    }
    if (settings.auth.users.length > 0 || settings.auth.adminPassword !== undefined) {
        issue(
            ["auth", settings.auth.users.length > 0 ? "users" : "adminPassword"],
            "(set)",
            'no htpasswd users with topology "gitlab": GitLab issues the registry\'s tokens, so manage access with GitLab users, deploy tokens and CI job tokens',
        );
    }
    if (settings.tls.mode === "provided" && (g.certificate === undefined) !== (g.privateKey === undefined)) {
        issue(
            ["gitlab", g.certificate === undefined ? "certificate" : "privateKey"],
            undefined,
            "both gitlab.certificate and gitlab.privateKey, or neither (then the registry's certificate must also name GitLab's host)",
        );
    }
    if (settings.tls.mode !== "provided" && (g.certificate !== undefined || g.privateKey !== undefined)) {
        issue(["gitlab", "certificate"], "(PEM)", `no certificate of your own with tls.mode "${settings.tls.mode}" (set tls.mode "provided")`);
    }
    return endpoint;
}

/**
 * Checks run once the settings are valid and their keys held as secrets (`parseSettings`): provided certificates, and
 * the bucket name the stack's name derives when docker.namePrefix is not set.
 */
export function settingsInStackSchema(stack: string | undefined) {
    return z.custom<Settings>().superRefine((settings, ctx) => {
        if (settings.tls.mode === "provided") {
            const gitlabHost = settings.topology === "gitlab" ? gitlabEndpoint(settings.gitlab.externalUrl)?.hostname : undefined;
            checkProvidedCertificates(settings, gitlabHost, ctx);
        }
        const bucket = stack === undefined || settings.docker.namePrefix !== undefined ? undefined : defaultBucketName(settings, `rk-${stack}`);
        const problem = bucket === undefined ? undefined : bucketNameProblem(bucket);
        if (problem) {
            ctx.addIssue({
                code: "custom",
                path: ["registry", "storage", "s3", "bucket"],
                input: undefined,
                message: `a bucket name: the default ${bucket} (from the stack name) is not an S3 bucket name (${problem}); or set docker.namePrefix`,
            });
        }
    });
}

/**
 * tls.mode provided: what nginx loads must parse, each key must belong to its certificate's first certificate, and
 * each certificate must name the host it is served for (GitLab's host on the registry's, when GitLab has none of its own).
 */
function checkProvidedCertificates(settings: Settings, gitlabHost: string | undefined, ctx: z.core.$RefinementCtx): void {
    const { certificate, privateKey } = settings.tls;
    if (!certificate || !privateKey) return;
    const registry = checkCertificatePair(["tls"], certificate, privateKey, ctx);
    if (registry) requireName(registry, ["tls", "certificate"], settings.hostname, "", ctx);
    for (const m of settings.mirrors) {
        if (registry && m.hostname) requireName(registry, ["tls", "certificate"], m.hostname, `mirror ${m.name} is served on it`, ctx);
    }
    if (gitlabHost === undefined) return;
    const g = settings.gitlab;
    if (g.certificate && g.privateKey) {
        const own = checkCertificatePair(["gitlab"], g.certificate, g.privateKey, ctx);
        if (own) requireName(own, ["gitlab", "certificate"], gitlabHost, "", ctx);
    } else if (registry && g.certificate === undefined) {
        requireName(registry, ["tls", "certificate"], gitlabHost, "gitlab.certificate is not set, so GitLab serves this one", ctx);
    }
}

/** A certificate chain and its key under `section` (`certificate`, `privateKey`); returns the server certificate when the pair is usable. */
function checkCertificatePair(section: string[], certificatePem: string, keyPem: string, ctx: z.core.$RefinementCtx): X509Certificate | undefined {
    const issue = (leaf: string, input: unknown, message: string) => ctx.addIssue({ code: "custom", path: [...section, leaf], input, message });
    const chain = parseCertificateChain(certificatePem);
    if (typeof chain === "string") issue("certificate", looksLikePrivateKey(certificatePem) ? certificatePem : "(PEM)", chain);
    const key = parsePrivateKey(keyPem);
    if (!key) issue("privateKey", undefined, "an unencrypted PEM private key that parses (PKCS#8, PKCS#1 or SEC1)");
    if (typeof chain === "string" || !key) return undefined;
    if (!chain[0].checkPrivateKey(key)) {
        issue("privateKey", undefined, `the private key of ${section.join(".")}.certificate's first certificate (this one belongs to another certificate)`);
        return undefined;
    }
    return chain[0];
}

/** Adds an issue unless the certificate names `name`; `also` says why a second host's name must be on it. */
function requireName(certificate: X509Certificate, path: string[], name: string, also: string, ctx: z.core.$RefinementCtx): void {
    if (certificateNames(certificate, name)) return;
    const names = certificate.subjectAltName ?? `no subject alternative names, subject ${certificate.subject.replace(/\n/g, ", ")}`;
    const message = `a certificate that names ${name}${also ? ` too (${also}; ` : " ("}this one names ${names})`;
    ctx.addIssue({ code: "custom", path, input: "(PEM)", message });
}

/** Two bind addresses overlap when either is the wildcard of the same family, or they are equal. */
function overlaps(a: string, b: string): boolean {
    const wildcard = (ip: string) => ip === "0.0.0.0" || ip === "::";
    return a === b || wildcard(a) || wildcard(b);
}
