/**
 * harbor.yml for Harbor's offline installer, and the facts about Harbor that decide what we accept.
 * Pure: no Pulumi, no I/O beyond reading the template.
 */
import * as net from "node:net";
import { stringify } from "yaml";
import { renderTemplate } from "./template";

/** The Harbor minor version whose installer template (harbor.yml.tmpl) templates/harbor.yml.mustache follows. */
export const HARBOR_SCHEMA_VERSION = "2.15.0";
/** The Harbor version installed unless one is pinned. */
export const HARBOR_DEFAULT_VERSION = "v2.15.0";
/** Drivers Harbor's `prepare` accepts under `storage_service` (make/photon/prepare/utils/configs.py). */
export const HARBOR_STORAGE_DRIVERS = ["filesystem", "azure", "gcs", "s3", "swift", "oss"] as const;
/** The drivers registry-kit renders (its Storage component's kinds). */
export const HARBOR_RENDERED_DRIVERS = ["filesystem", "s3"] as const;
/** Log levels Harbor's `prepare` accepts. */
export const HARBOR_LOG_LEVELS = ["debug", "info", "warning", "error", "fatal"] as const;
/** Components that may go through the HTTP proxy (the installer template's list). */
export const HARBOR_PROXY_COMPONENTS = ["core", "jobservice", "registry", "trivy"] as const;

/** The offline installer's download URL on GitHub releases for a version such as v2.15.0. */
export function harborInstallerUrl(version: string): string {
    return `https://github.com/goharbor/harbor/releases/download/${version}/harbor-offline-installer-${version}.tgz`;
}

/** `v2.15.1` → { major: 2, minor: 15, patch: 1 }, or undefined when it is not such a version. */
export function parseHarborVersion(version: string): { major: number; minor: number; patch: number } | undefined {
    const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
    return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** `localhost` or a name under it. */
function isLocalhostName(lower: string): boolean {
    return lower === "localhost" || lower.endsWith(".localhost");
}

/** 127.0.0.0/8, ::1, or the unspecified 0.0.0.0 and ::. */
function isLoopbackOrUnspecifiedAddress(lower: string): boolean {
    if (net.isIP(lower) === 4) return lower.startsWith("127.") || lower === "0.0.0.0";
    return net.isIP(lower) === 6 && (lower === "::1" || lower === "::");
}

/** A host (a URL's hostname: IPv6 in brackets) that means "this machine" wherever it is read. */
export function isLoopbackHost(host: string): boolean {
    const lower = host
        .toLowerCase()
        .replace(/\.$/, "")
        .replace(/^\[(.*)\]$/, "$1");
    return isLocalhostName(lower) || isLoopbackOrUnspecifiedAddress(lower);
}

/** Why Harbor would refuse this hostname, or undefined. Its prepare refuses 127.0.0.1; its installer says never localhost. */
export function harborHostnameProblem(hostname: string): string | undefined {
    const lower = hostname.toLowerCase().replace(/\.$/, "");
    if (isLocalhostName(lower)) return "localhost, which clients on other machines cannot reach (Harbor's installer refuses it)";
    if (lower === "reg.mydomain.com") return "the installer template's placeholder (Harbor's prepare refuses it)";
    if (isLoopbackOrUnspecifiedAddress(lower)) return "a loopback or unspecified address (Harbor's prepare refuses 127.0.0.1)";
    return undefined;
}

/** Why Harbor would refuse this password (src/server/v2.0/handler/user.go: 8 to 128 characters, an upper, a lower, a digit), or undefined. */
export function harborPasswordProblem(password: string): string | undefined {
    const missing: string[] = [];
    if (password.length < 8 || password.length > 128) missing.push("8 to 128 characters");
    if (!/[A-Z]/.test(password)) missing.push("an uppercase letter");
    if (!/[a-z]/.test(password)) missing.push("a lowercase letter");
    if (!/[0-9]/.test(password)) missing.push("a digit");
    return missing.length ? `Harbor's password rules: ${missing.join(", ")}` : undefined;
}

/** The registry's s3 driver parameters under `storage_service.s3` (Distribution's names). */
export interface HarborS3Storage {
    bucket: string;
    region: string;
    regionEndpoint?: string;
    forcePathStyle?: boolean;
    encrypt?: boolean;
    secure?: boolean;
    chunkSize?: number;
    rootDirectory?: string;
    accessKey: string;
    secretKey: string;
}

export interface HarborYmlInput {
    /** Harbor version being installed, e.g. v2.15.0. */
    version: string;
    hostname: string;
    httpPort: number;
    /** HTTPS settings; undefined serves plain HTTP (Harbor warns against it). */
    https?: { port: number; certificatePath: string; privateKeyPath: string; strongSslCiphers: boolean };
    externalUrl?: string;
    adminPassword: string;
    databasePassword: string;
    dataVolume: string;
    /** undefined keeps images on the filesystem under data_volume. */
    s3?: HarborS3Storage;
    trivy: { ignoreUnfixed: boolean; skipUpdate: boolean; skipJavaDbUpdate: boolean; offlineScan: boolean; insecure: boolean; timeout: string };
    jobservice: { maxJobWorkers: number; maxJobDurationHours: number; loggerSweeperDays: number };
    log: { level: string; rotateCount: number; rotateSize: string; location: string };
    proxy: { httpProxy?: string; httpsProxy?: string; noProxy?: string; components: string[] };
    metric: { enabled: boolean; port: number; path: string };
    uploadPurging: { enabled: boolean; age: string; interval: string; dryrun: boolean };
}

/** A YAML double-quoted scalar (JSON's string syntax is a subset of YAML's). */
const q = (s: string) => JSON.stringify(s);
/** An empty proxy setting stays empty (null), as in the installer's template. */
const qOrEmpty = (s: string | undefined) => (s ? q(s) : "");

/** `storage_service:` with the s3 driver's parameters, or nothing for the filesystem. */
export function storageServiceBlock(s3: HarborS3Storage | undefined): string {
    if (!s3) return "";
    const params: Record<string, unknown> = {
        region: s3.region,
        bucket: s3.bucket,
        accesskey: s3.accessKey,
        secretkey: s3.secretKey,
        ...(s3.regionEndpoint ? { regionendpoint: s3.regionEndpoint } : {}),
        forcepathstyle: s3.forcePathStyle ?? s3.regionEndpoint !== undefined,
        encrypt: s3.encrypt ?? true,
        secure: s3.secure ?? true,
        chunksize: s3.chunkSize ?? 10 * 1024 * 1024,
        rootdirectory: s3.rootDirectory ?? "/registry",
    };
    return stringify({ storage_service: { s3: params } }, { lineWidth: 0, defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN" }) + "\n";
}

/** The view the template renders: every string already a YAML scalar. */
export function harborYmlView(input: HarborYmlInput): Record<string, unknown> {
    const v = parseHarborVersion(input.version);
    if (!v) throw new Error(`harbor.yml: version ${JSON.stringify(input.version)} is not vMAJOR.MINOR.PATCH`);
    return {
        version: input.version,
        schemaVersion: `${v.major}.${v.minor}.0`,
        hostname: q(input.hostname),
        httpPort: input.httpPort,
        https: input.https && {
            port: input.https.port,
            certificate: q(input.https.certificatePath),
            privateKey: q(input.https.privateKeyPath),
            strongSslCiphers: input.https.strongSslCiphers,
        },
        externalUrl: input.externalUrl && q(input.externalUrl),
        adminPassword: q(input.adminPassword),
        databasePassword: q(input.databasePassword),
        database: { maxIdleConns: 100, maxOpenConns: 900, connMaxLifetime: q("5m"), connMaxIdleTime: 0 },
        dataVolume: q(input.dataVolume),
        storageService: storageServiceBlock(input.s3),
        trivy: { ...input.trivy, timeout: q(input.trivy.timeout) },
        jobservice: input.jobservice,
        log: { level: q(input.log.level), rotateCount: input.log.rotateCount, rotateSize: q(input.log.rotateSize), location: q(input.log.location) },
        proxy: {
            httpProxy: qOrEmpty(input.proxy.httpProxy),
            httpsProxy: qOrEmpty(input.proxy.httpsProxy),
            noProxy: qOrEmpty(input.proxy.noProxy),
            components: `[${input.proxy.components.map(q).join(", ")}]`,
        },
        metric: { enabled: input.metric.enabled, port: input.metric.port, path: q(input.metric.path) },
        uploadPurging: { ...input.uploadPurging, age: q(input.uploadPurging.age), interval: q(input.uploadPurging.interval) },
    };
}

export function renderHarborYml(input: HarborYmlInput): string {
    return renderTemplate("harbor.yml", harborYmlView(input));
}
