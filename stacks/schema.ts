/**
 * The typed schema of registry-kit's stack configuration and its error messages.
 *
 * Every setting lives under the `registry-kit:` namespace of a Pulumi stack file. Plain values and
 * defaults are declared here once; `loadSettings` (config.ts) turns raw config into `Settings`. The value
 * types and validators they are built from live in primitives/.
 */
import { X509Certificate } from "node:crypto";
import { z } from "zod";
import { goDuration, isGoDuration, isPrometheusDuration, prometheusDuration } from "../primitives/durations";
import {
    HARBOR_DEFAULT_VERSION,
    HARBOR_LOG_LEVELS,
    HARBOR_PROXY_COMPONENTS,
    HARBOR_SCHEMA_VERSION,
    harborDataVolumeProblem,
    harborHostnameProblem,
    harborInstallerUrlProblem,
    harborPasswordProblem,
    parseHarborVersion,
} from "../primitives/harbor";
import { GITLAB_IMAGE, image, imageReferenceProblem } from "../primitives/images";
import { formatIssues as formatZodIssues } from "../primitives/issues";
import { bucketName, bucketNameProblem, dockerName, password, userName } from "../primitives/names";
import {
    cidr,
    dockerHostProblem,
    hostname,
    hostPortProblem,
    ipAddress,
    isCidr,
    isHostname,
    isHttpsUrl,
    isHttpUrl,
    isLoopbackHost,
    port,
    publicNameProblem,
    redactUrlCredentials,
} from "../primitives/network";
import { dialects, ignoresRedisPassword, inferDialect, logLevels, REDIS_PASSWORD_IMAGE_RULE, S3_DRIVER_REGIONS, s3RegionProblem } from "../primitives/registry";
import {
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

// What this module exported before primitives/ existed, for the modules and tests that import it from here.
export {
    ACME_DIRECTORIES,
    acmeCurves,
    acmeKeyTypes,
    bucketName,
    bucketNameProblem,
    caValidityDays,
    certificateNames,
    cidr,
    dialects,
    dockerHostProblem,
    dockerName,
    GITLAB_IMAGE,
    goDuration,
    hostname,
    hostPortProblem,
    ignoresRedisPassword,
    image,
    imageReferenceProblem,
    inferDialect,
    ipAddress,
    isCidr,
    isGoDuration,
    isHostname,
    isHttpsUrl,
    isHttpUrl,
    isPrometheusDuration,
    logLevels,
    looksLikePrivateKey,
    parseCertificateChain,
    parsePrivateKey,
    password,
    port,
    prometheusDuration,
    publicNameProblem,
    REDIS_PASSWORD_IMAGE_RULE,
    S3_DRIVER_REGIONS,
    s3RegionProblem,
    tlsModes,
    userName,
};

export const topologies = ["small-team", "gitlab", "harbor"] as const;
export const storageTypes = ["filesystem", "s3", "minio"] as const;

/**
 * The registry image of the gitlab topology: Distribution 2.8 posts notifications as
 * `application/vnd.docker.distribution.events.v1+json`, the only type GitLab's events endpoint takes;
 * Distribution 3 posts `events.v2+json`.
 */
export const GITLAB_REGISTRY_IMAGE = "registry:2.8.3";

/** Defaults that depend on the topology, applied to raw settings before the schema's own. */
export function withTopologyDefaults(raw: Record<string, unknown>): Record<string, unknown> {
    if (raw.topology !== "gitlab") return raw;
    const registry = raw.registry;
    if (registry !== undefined && (registry === null || typeof registry !== "object" || Array.isArray(registry))) return raw;
    const reg = (registry ?? {}) as Record<string, unknown>;
    return reg.image === undefined ? { ...raw, registry: { ...reg, image: GITLAB_REGISTRY_IMAGE } } : raw;
}

/** Default `iss` of GitLab's registry tokens; one setting feeds both sides. */
export const GITLAB_DEFAULT_ISSUER = "registry-kit-gitlab-issuer";

/**
 * Why GitLab would refuse this initial root password, or undefined. GitLab (15.7+) wants 8 to 128
 * characters and, below 64 characters, none of the words "gitlab" or "devops" nor the user's name,
 * username or email parts of four or more characters (root, Administrator); it also refuses about
 * 4500 known breached passwords, which are not checked here.
 */
export function gitlabPasswordProblem(password: string, rootEmail: string): string | undefined {
    if (password.length < 8) return "at least 8 characters";
    if (password.length > 128) return "at most 128 characters";
    if (password.length >= 64) return undefined;
    const lower = password.toLowerCase();
    const words = [
        "gitlab",
        "devops",
        "root",
        "administrator",
        ...rootEmail
            .toLowerCase()
            .split(/[^a-z0-9]+/)
            .filter((w) => w.length >= 4),
    ];
    const found = [...new Set(words)].find((w) => lower.includes(w));
    return found ? `no "${found}" in it (GitLab refuses passwords containing gitlab, devops or the root user's name, username or email parts)` : undefined;
}

/** gitlab.rb settings that registry-kit owns: an extra line must not set them a second way. */
export const GITLAB_OWNED_SETTINGS = [
    "external_url",
    "registry_external_url",
    "registry['enable']",
    "registry_enabled",
    "registry_host",
    "registry_port",
    "registry_api_url",
    "registry_issuer",
    "registry_key_path",
    "internal_key",
    "registry_notification_secret",
    "initial_root_password",
    "monitoring_whitelist",
];

const gitlabSchema = z
    .strictObject({
        /** GitLab's URL, `https://<name>[:port]` (topology gitlab). Its port is published by the proxy. Required there. */
        externalUrl: z.string().optional(),
        /** GitLab CE image. Default: gitlab/gitlab-ce:19.4.1-ce.0. */
        image: image.default(GITLAB_IMAGE),
        /** Initial root password, a secret (used once, when GitLab first seeds its database). Default: generated (64 characters, kept in state). */
        rootPassword: z.string().optional(),
        /** Email of the root user. Default: `admin@<GitLab host name>`. */
        rootEmail: z.email({ message: "an email address such as admin@example.com" }).optional(),
        /** `iss` of the registry tokens GitLab signs; the registry is configured with the same value. Default: registry-kit-gitlab-issuer. */
        registryIssuer: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, { message: "letters, digits, '.', '_', ':' and '-', such as gitlab-issuer" })
            .default(GITLAB_DEFAULT_ISSUER),
        /**
         * Registry notifications to GitLab's events endpoint. Distribution 3 posts them as events.v2+json,
         * which GitLab refuses, so registry 3 needs false. Default: true.
         */
        notifications: z.boolean().default(true),
        /** Host port of GitLab's SSH (git over SSH); 0 leaves SSH unpublished. Default: 2222. */
        sshPort: z
            .number()
            .int()
            .min(0, { message: "0 (not published) or a port from 1 to 65535" })
            .max(65535, { message: "0 (not published) or a port from 1 to 65535" })
            .default(2222),
        /** Shared memory of the GitLab container in MiB (GitLab's documented minimum is 256). Default: 256. */
        shmSizeMb: z.number().int().min(256, { message: "at least 256 (GitLab's documented minimum)" }).default(256),
        /** How long `pulumi up` waits for GitLab to become healthy (its first start takes minutes). Default: 900. */
        startTimeoutSeconds: z.number().int().min(60).max(7200).default(900),
        /** Keep GitLab's config, logs and data volumes on destroy. Default: true. */
        retainOnDelete: z.boolean().default(true),
        /** PEM certificate chain for GitLab's host (tls.mode provided). Default: the registry's certificate. */
        certificate: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "a PEM certificate chain" }).optional(),
        /** PEM private key of that certificate, a secret (tls.mode provided). */
        privateKey: z.string().optional(),
        /** More gitlab.rb lines (Ruby), appended after registry-kit's; they may not touch the registry wiring. Default: none. */
        extraConfig: z.string().optional(),
    })
    .prefault({});

const dockerSchema = z
    .strictObject({
        /** Docker endpoint: unix socket, tcp:// or ssh://user@host. Default: the Docker provider's (DOCKER_HOST or the local socket). */
        host: z
            .string()
            .superRefine((v, ctx) => {
                const problem = dockerHostProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
        /** Prefix of every container, volume and network name. Default: `rk-<stack>`. */
        namePrefix: dockerName.optional(),
        /** Subnet of the stack's network, e.g. 172.30.0.0/24. Default: one Docker picks. */
        subnet: cidr.refine((v) => v.includes("/"), { message: "a CIDR block such as 172.30.0.0/24" }).optional(),
    })
    .prefault({});

const s3Schema = z
    .strictObject({
        /** Create the bucket and a least-privilege IAM user with @pulumi/aws; false brings your own. Default: true. */
        create: z.boolean().default(true),
        /** Bucket name. Default: `<prefix>-registry` when created; required when not. */
        bucket: bucketName.optional(),
        /** AWS region (or the region an S3-compatible endpoint expects). Default: us-east-1. */
        region: z
            .string()
            .regex(/^[a-z0-9-]+$/, { message: "a region name such as eu-west-1" })
            .default("us-east-1"),
        /** Endpoint of an S3-compatible service, e.g. https://s3.example.com:9000. Default: AWS. */
        regionEndpoint: z.string().refine(isHttpUrl, { message: "an http:// or https:// URL such as https://minio.example.com:9000" }).optional(),
        /** Path-style requests. Default: true with regionEndpoint, false on AWS. */
        forcePathStyle: z.boolean().optional(),
        /** Server-side encryption of stored objects. Default: true. */
        encrypt: z.boolean().default(true),
        /** Use TLS to the endpoint. Default: true. */
        secure: z.boolean().default(true),
        /** Multipart chunk size in bytes, at least 5 MiB. Default: 10485760 (10 MiB). */
        chunkSize: z
            .number()
            .int()
            .min(5 * 1024 * 1024, { message: "at least 5242880 (5 MiB, S3's minimum part size)" })
            .default(10 * 1024 * 1024),
        /** Prefix of every object the registry writes. Default: /registry. */
        rootDirectory: z
            .string()
            .regex(/^\/([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/, { message: "an absolute path such as /registry" })
            .refine((v) => !v.split("/").some((segment) => segment === "." || segment === ".."), {
                message:
                    "an absolute path without '.' or '..' segments, such as /registry (the registry cleans the path, and the IAM policy's prefix would differ from it)",
            })
            .default("/registry"),
        /** Keep previous object versions (created bucket). Default: false. */
        versioning: z.boolean().default(false),
        /** Days after which incomplete multipart uploads are aborted (created bucket). Default: 7. */
        abortIncompleteUploadDays: z.number().int().min(1).max(365).default(7),
        /** Access key id (existing bucket). */
        accessKey: z.string().min(1).optional(),
        /** Secret access key (existing bucket), a secret. */
        secretKey: z.string().min(1, { message: "a non-empty secret key" }).optional(),
    })
    .prefault({});

const minioSchema = z
    .strictObject({
        /** MinIO server image. Default: minio/minio:RELEASE.2025-04-22T22-12-26Z. */
        image: image.default("minio/minio:RELEASE.2025-04-22T22-12-26Z"),
        /** MinIO client image, to create the bucket and the registry's user. Default: minio/mc:RELEASE.2025-04-16T18-13-26Z. */
        mcImage: image.default("minio/mc:RELEASE.2025-04-16T18-13-26Z"),
        /** Bucket for the registry. Default: registry. */
        bucket: bucketName.default("registry"),
        /** Root user name. Default: registry-kit-root. */
        rootUser: z.string().min(3, { message: "at least 3 characters (MinIO's minimum)" }).default("registry-kit-root"),
        /** Root password, a secret, at least 8 characters. Default: generated (40 characters, kept in state). */
        rootPassword: z.string().min(8, { message: "at least 8 characters (MinIO refuses shorter root passwords)" }).optional(),
        /** Volume holding MinIO's data. Default: `<prefix>-minio-data`. */
        volumeName: dockerName.optional(),
        /** Keep that volume on destroy. Default: true. */
        retainOnDelete: z.boolean().default(true),
        /**
         * S3 endpoint at which Harbor's registry container reaches this MinIO, e.g. http://10.0.0.5:9000 (an address of the
         * Docker host that runs MinIO, where its port is published). Topology harbor only, and required there. Default: none.
         */
        endpoint: z.string().refine(isHttpUrl, { message: "an http:// or https:// URL such as http://10.0.0.5:9000" }).optional(),
        /** Host port MinIO's S3 API (container port 9000) is published on. Default: none (on the stack's network only); with topology harbor, the endpoint's port. */
        hostPort: port.optional(),
        /** Host address that port is published on. Default: 0.0.0.0. */
        hostIp: ipAddress.default("0.0.0.0"),
    })
    .prefault({});

const REDIS_ADDRESS_RULES = {
    form: "",
    host: " or [2001:db8::5]:6379: a DNS name, an IPv4 address or an IPv6 address in brackets",
    port: ", with a port from 1 to 65535",
};

const redisSchema = z
    .strictObject({
        /** `host:port` (`[IPv6]:port`) of your Redis; unset runs a Redis container when replicas > 1. Default: none. */
        address: z
            .string()
            .superRefine((v, ctx) => {
                const problem = hostPortProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: `host:port such as redis.internal:6379${REDIS_ADDRESS_RULES[problem]}` });
            })
            .optional(),
        /** Password of that Redis, a secret. Default: none (generated for the Redis container). */
        password: z.string().min(1).optional(),
        /** Redis image for the container. Default: redis:7.4. */
        image: image.default("redis:7.4"),
    })
    .prefault({});

const storageSchema = z
    .strictObject({
        /** Storage driver: filesystem (a Docker volume), s3 (AWS or S3-compatible) or minio (a MinIO container). Default: filesystem. */
        type: z.enum(storageTypes).default("filesystem"),
        s3: s3Schema,
        minio: minioSchema,
        filesystem: z
            .strictObject({
                /** Name of the Docker volume that holds the images. Default: `<prefix>-registry-data`. */
                volumeName: dockerName.optional(),
                /** Keep the volume (and the images) on `pulumi destroy`. Default: true. */
                retainOnDelete: z.boolean().default(true),
            })
            .prefault({}),
    })
    .prefault({});

/** Purging of abandoned uploads (the registry's, and Harbor's upload_purging). */
const uploadPurgingSchema = z
    .strictObject({
        enabled: z.boolean().default(true),
        /** Purge uploads older than this. Default: 168h. */
        age: goDuration.default("168h"),
        /** How often to look. Default: 24h. */
        interval: goDuration.default("24h"),
        dryrun: z.boolean().default(false),
    })
    .prefault({});

const registrySchema = z
    .strictObject({
        /** Distribution image. Default: registry:3. */
        image: image.default("registry:3"),
        /** Config dialect: v2 or v3. Default: inferred from the image tag (`:2…` → v2, anything else v3). */
        dialect: z.enum(dialects).optional(),
        storage: storageSchema,
        /** Registry containers behind the proxy; more than one needs s3 or minio storage. Default: 1. */
        replicas: z.number().int().min(1, { message: "1 to 16 replicas" }).max(16, { message: "1 to 16 replicas" }).default(1),
        /** Redis for the blob-descriptor cache (used when replicas > 1 or an address is set). */
        redis: redisSchema,
        /** Allow manifest and blob deletion through the API. Default: true. */
        deleteEnabled: z.boolean().default(true),
        uploadPurging: uploadPurgingSchema,
        /** Registry log level. Default: info. */
        logLevel: z.enum(logLevels).default("info"),
        /** Raw registry configuration deep-merged over the generated one (escape hatch). Default: {}. */
        extraConfig: z.record(z.string(), z.unknown()).default({}),
    })
    .prefault({});

const proxySchema = z
    .strictObject({
        /** Nginx image. Default: nginx:1.27. */
        image: image.default("nginx:1.27"),
        /** Host address the proxy ports are published on. Default: 0.0.0.0. */
        hostIp: ipAddress.default("0.0.0.0"),
        /** Host port for HTTPS. Default: 443. */
        httpsPort: port.default(443),
        /** Host port for HTTP (redirect and ACME challenges). Default: 80. */
        httpPort: port.default(80),
        /** Source addresses allowed to reach the registry; empty means everyone. Default: []. */
        allowCidrs: z.array(cidr).default([]),
        /** Strict-Transport-Security max-age in seconds; 0 turns the header off. Default: 31536000. */
        hstsMaxAge: z.number().int().min(0, { message: "a number of seconds, 0 or more" }).default(31536000),
    })
    .prefault({});

const acmeSchema = z
    .strictObject({
        /** `production` (Let's Encrypt), `staging`, or the https:// URL of any ACME directory. Default: production. */
        directory: z
            .string()
            .refine((v) => v in ACME_DIRECTORIES || isHttpsUrl(v), { message: '"production", "staging" or an https:// URL of an ACME directory' })
            .default("production"),
        /** PEM CA bundle to trust a custom directory's HTTPS certificate. Default: the system's CAs. */
        caBundle: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "PEM certificates" }).optional(),
        /** Contact address for the ACME account (expiry notices). Default: none. */
        email: z.email({ message: "an email address such as ops@example.com" }).optional(),
        /** Key type of the certificate. Default: ecdsa. */
        keyType: z.enum(acmeKeyTypes).default("ecdsa"),
        /** RSA key size (keyType rsa). Default: 2048. */
        rsaKeySize: z
            .number()
            .refine((n) => [2048, 3072, 4096].includes(n), { message: "2048, 3072 or 4096" })
            .default(2048),
        /** Curve (keyType ecdsa). Default: secp256r1. */
        ellipticCurve: z.enum(acmeCurves).default("secp256r1"),
        /** Certbot image. Default: certbot/certbot:v3.3.0. */
        image: image.default("certbot/certbot:v3.3.0"),
        /** Hours between renewal checks; certbot renews 30 days before expiry. Default: 12 (twice a day). */
        renewIntervalHours: z.number().int().min(1).max(24).default(12),
        /** Seconds between the proxy's checks for a new certificate (then a graceful reload). Default: 30. */
        reloadCheckSeconds: z.number().int().min(1).max(3600).default(30),
        /** How long `pulumi up` waits for the first certificate. Default: 300. */
        issueTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
    })
    .prefault({});

const tlsSchema = z
    .strictObject({
        /** self-signed (a CA and a server certificate made by Pulumi), provided, or acme (certbot). Default: self-signed. */
        mode: z.enum(tlsModes).default("self-signed"),
        /** More DNS names or IP addresses for the certificate. Default: []. */
        extraSans: z.array(hostname).default([]),
        /** Server certificate lifetime in days (self-signed). Default: 365. */
        validityDays: z.number().int().min(1).max(3650).default(365),
        /**
         * Lifetime in days of the private CA (self-signed), its own setting: a change replaces the CA, which every client
         * then trusts anew. At least validityDays. Default: 3650 (87600 hours, the CA lifetime of releases that derived it
         * as ten times validityDays, with validityDays 365).
         */
        caValidityDays: caValidityDays.default(3650),
        /** PEM certificate chain (provided mode). */
        certificate: z.string().optional(),
        /** PEM private key (provided mode), a secret. */
        privateKey: z.string().optional(),
        /** ACME settings (acme mode). */
        acme: acmeSchema,
    })
    .prefault({});

const authSchema = z
    .strictObject({
        /** Name of the admin user. Default: admin. */
        adminUser: userName.default("admin"),
        /** Admin password, a secret. Default: generated (32 characters, kept in state). */
        adminPassword: password.optional(),
        /** More users: `{ name, password }`, passwords set as secrets. Default: []. */
        users: z.array(z.strictObject({ name: userName, password })).default([]),
        /** bcrypt cost of htpasswd entries. Default: 10. */
        bcryptCost: z.number().int().min(4).max(14).default(10),
    })
    .prefault({});

const monitoringSchema = z
    .strictObject({
        /** Run a Prometheus container. Default: true. */
        enabled: z.boolean().default(true),
        /** Prometheus image. Default: prom/prometheus:v2.55.1. */
        image: image.default("prom/prometheus:v2.55.1"),
        /** Host address Prometheus is published on. Default: 127.0.0.1. */
        hostIp: ipAddress.default("127.0.0.1"),
        /** Host port of Prometheus. Default: 9090. */
        port: port.default(9090),
        /** How long to keep samples. Default: 15d. */
        retentionTime: prometheusDuration.default("15d"),
        /** Cap on the TSDB size, e.g. 10GB; empty for none. Default: none. */
        retentionSize: z
            .string()
            .regex(/^\d+(B|KB|MB|GB|TB|PB)$/, { message: "a size such as 512MB or 10GB" })
            .optional(),
        /** Scrape interval. Default: 30s. */
        scrapeInterval: prometheusDuration.default("30s"),
    })
    .prefault({});

const absolutePath = z.string().regex(/^\/[A-Za-z0-9._/-]*$/, { message: "an absolute path such as /data" });

/** The `harbor:` section (topology harbor): Harbor from its offline installer, over SSH or on this machine. */
const harborSchema = z
    .strictObject({
        /** Harbor version, a 2.15 patch release (registry-kit renders Harbor 2.15's harbor.yml). Default: v2.15.0. */
        version: z
            .string()
            .regex(/^v\d+\.\d+\.\d+$/, { message: "a Harbor release such as v2.15.0" })
            .default(HARBOR_DEFAULT_VERSION),
        /** Offline installer URL: https://, http:// or file://, without credentials (~/.netrc on the host). Default: the GitHub release of `version`. */
        installerUrl: z
            .string()
            .superRefine((v, ctx) => {
                const problem = harborInstallerUrlProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem, input: redactUrlCredentials(v) });
            })
            .optional(),
        /** SHA-256 of the installer (64 hex digits). Required: no default, a mismatch aborts the install. */
        installerSha256: z
            .string()
            .regex(/^[0-9a-fA-F]{64}$/, { message: "the installer's SHA-256: 64 hex digits" })
            .optional(),
        /** SSH target for Harbor's host; unset installs on the machine running pulumi. Default: none. */
        ssh: z
            .strictObject({
                /** Host name or address. Required. */
                host: hostname,
                /** SSH port. Default: 22. */
                port: port.default(22),
                /** Login user (needs docker and write access to installDir and dataVolume). Default: root. */
                user: userName.default("root"),
                /** PEM/OpenSSH private key, a secret. Default: none (then password). */
                privateKey: z.string().includes("PRIVATE KEY", { message: "a PEM or OpenSSH private key" }).optional(),
                /** Password, a secret. Default: none. */
                password: z.string().min(1).optional(),
            })
            .optional(),
        /** Directory on the host for the installer, harbor.yml, TLS files and downloads. Default: /opt/registry-kit/harbor. */
        installDir: absolutePath.default("/opt/registry-kit/harbor"),
        /** Harbor's data_volume (images on filesystem storage, database, job logs); kept on destroy; not /, not overlapping installDir. Default: /data. */
        dataVolume: absolutePath.default("/data"),
        /** Host port for HTTP (redirects to HTTPS). Default: 80. */
        httpPort: port.default(80),
        /** Host port for HTTPS. Default: 443. */
        httpsPort: port.default(443),
        /** Only strong TLS ciphers. Default: false. */
        strongSslCiphers: z.boolean().default(false),
        /** external_url, when Harbor sits behind another proxy. Default: none. */
        externalUrl: z.string().refine(isHttpUrl, { message: "an http:// or https:// URL" }).optional(),
        /** Initial admin password, a secret (8-128 characters with an upper, a lower and a digit). Default: generated (kept in state). */
        adminPassword: z
            .string()
            .superRefine((v, ctx) => {
                const problem = harborPasswordProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
        /** Database password, a secret. Default: generated (kept in state). */
        databasePassword: z.string().min(8, { message: "at least 8 characters" }).optional(),
        trivy: z
            .strictObject({
                /** Only report fixed vulnerabilities. Default: false. */
                ignoreUnfixed: z.boolean().default(false),
                /** No vulnerability DB downloads (air-gapped). Default: false. */
                skipUpdate: z.boolean().default(false),
                /** No Java DB downloads. Default: false. */
                skipJavaDbUpdate: z.boolean().default(false),
                /** No API requests while scanning. Default: false. */
                offlineScan: z.boolean().default(false),
                /** Skip verifying the registry certificate. Default: false. */
                insecure: z.boolean().default(false),
                /** Scan timeout. Default: 5m0s. */
                timeout: goDuration.default("5m0s"),
            })
            .prefault({}),
        jobservice: z
            .strictObject({
                /** Concurrent job workers. Default: 10. */
                maxJobWorkers: z.number().int().min(1, { message: "1 to 100 workers" }).max(100, { message: "1 to 100 workers" }).default(10),
                /** Longest task in hours. Default: 24. */
                maxJobDurationHours: z.number().int().min(1).max(720).default(24),
            })
            .prefault({}),
        log: z
            .strictObject({
                /** Harbor's log level. Default: info. */
                level: z.enum(HARBOR_LOG_LEVELS).default("info"),
                /** Rotated files kept. Default: 50. */
                rotateCount: z.number().int().min(0).max(1000).default(50),
                /** Size that triggers rotation: bytes, or with k, M or G. Default: 200M. */
                rotateSize: z
                    .string()
                    .regex(/^\d+[kMG]?$/, { message: "a size such as 100, 100k, 200M or 1G" })
                    .default("200M"),
                /** Log directory on the host. Default: /var/log/harbor. */
                location: absolutePath.default("/var/log/harbor"),
            })
            .prefault({}),
        proxy: z
            .strictObject({
                /** Default: none. */
                httpProxy: z.string().refine(isHttpUrl, { message: "an http:// or https:// proxy URL" }).optional(),
                /** Default: none. */
                httpsProxy: z.string().refine(isHttpUrl, { message: "an http:// or https:// proxy URL" }).optional(),
                /** Comma-separated hosts reached directly. Default: none. */
                noProxy: z.string().optional(),
                /** Components that use the proxy. Default: [core, jobservice, trivy]. */
                components: z.array(z.enum(HARBOR_PROXY_COMPONENTS)).default(["core", "jobservice", "trivy"]),
            })
            .prefault({}),
        metrics: z
            .strictObject({
                /** Host port of Harbor's metrics (always on). Default: 9091 (Harbor's own default, 9090, is Prometheus's). */
                port: port.default(9091),
                /** Metrics path. Default: /metrics. */
                path: z
                    .string()
                    .regex(/^\/[A-Za-z0-9._/-]*$/, { message: "a path such as /metrics" })
                    .default("/metrics"),
            })
            .prefault({}),
        uploadPurging: uploadPurgingSchema,
    })
    .prefault({});

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

/** The port of an http(s):// URL, or its scheme's default: where MinIO is published for Harbor. */
export function minioEndpointPort(endpoint: string): number {
    const url = new URL(endpoint);
    return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

export const settingsSchema = z
    .strictObject({
        /** Which topology to deploy. Default: small-team. */
        topology: z.enum(topologies).default("small-team"),
        /** DNS name (or IP) clients use to reach the registry. Required. */
        hostname,
        docker: dockerSchema,
        registry: registrySchema,
        proxy: proxySchema,
        tls: tlsSchema,
        auth: authSchema,
        monitoring: monitoringSchema,
        /** GitLab CE, the registry's token issuer (topology gitlab). */
        gitlab: gitlabSchema,
        harbor: harborSchema,
    })
    .superRefine(checkCrossSettings);

/** Checks that span several settings: published ports, mode-dependent requirements, unique users. */
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
    const published: { path: (string | number)[]; ip: string; port: number }[] = [
        { path: ["proxy", "httpsPort"], ip: settings.proxy.hostIp, port: settings.proxy.httpsPort },
        { path: ["proxy", "httpPort"], ip: settings.proxy.hostIp, port: settings.proxy.httpPort },
    ];
    if (settings.monitoring.enabled) {
        published.push({ path: ["monitoring", "port"], ip: settings.monitoring.hostIp, port: settings.monitoring.port });
    }
    const minio = settings.registry.storage.minio;
    if (settings.topology !== "harbor" && settings.registry.storage.type === "minio" && minio.hostPort !== undefined) {
        published.push({ path: ["registry", "storage", "minio", "hostPort"], ip: minio.hostIp, port: minio.hostPort });
    }
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

/** GitLab's public name and HTTPS port, from `gitlab.externalUrl`; undefined when it is not a usable https:// URL. */
export function gitlabEndpoint(externalUrl: string | undefined): { hostname: string; port: number; url: string } | undefined {
    if (externalUrl === undefined) return undefined;
    let u: URL;
    try {
        u = new URL(externalUrl);
    } catch {
        return undefined;
    }
    if (u.protocol !== "https:" || u.username || u.password || u.search || u.hash || (u.pathname !== "/" && u.pathname !== "")) return undefined;
    if (u.port === "0") return undefined;
    const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
    if (!isHostname(hostname)) return undefined;
    const port = u.port === "" ? 443 : Number(u.port);
    return { hostname, port, url: `https://${u.host}` };
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

export type Settings = z.output<typeof settingsSchema>;
export type RawSettings = z.input<typeof settingsSchema>;

/** One readable line per problem: the setting, the bad value (unless secret) and what is allowed. */
export function formatIssues(issues: z.core.$ZodIssue[], input: unknown, prefix = "registry-kit:", root: z.ZodType = settingsSchema): string {
    return formatZodIssues(issues, input, prefix, root);
}
