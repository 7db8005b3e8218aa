/**
 * harbor.yml for Harbor's offline installer (the facts about Harbor that decide what we accept are in
 * primitives/harbor.ts).
 * Pure: no Pulumi, no I/O beyond reading the template.
 */
import { stringify } from "yaml";
import { parseHarborVersion } from "../primitives/harbor";
import { renderTemplate } from "./template";

/** The offline installer's download URL on GitHub releases for a version such as v2.15.0. */
export function harborInstallerUrl(version: string): string {
    return `https://github.com/goharbor/harbor/releases/download/${version}/harbor-offline-installer-${version}.tgz`;
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
