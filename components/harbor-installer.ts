/**
 * HarborInstaller: Harbor from its offline installer on the local host or a remote host over SSH, as one
 * @pulumi/command resource whose create, update and delete run templates/harbor-lifecycle.sh:
 *
 * - create downloads the pinned installer, checks its SHA-256 before extracting anything, writes
 *   harbor.yml and the TLS files, loads the images, runs `prepare` and starts the compose project;
 * - update (harbor.yml, certificate or patch version changed) re-runs `prepare` and brings the project
 *   up again; it never runs install.sh or anything that deletes volumes;
 * - delete stops the project and keeps `data_volume` (images, database) and the install directory,
 *   unless another command resource took Harbor over (a replacement after a connection change or by
 *   `pulumi up --replace`, which Pulumi runs as create-new then delete-old): then the old delete leaves
 *   Harbor running. The command's `triggers` carry its owner id, since @pulumi/command 1.2.1 replaces a
 *   command on a `triggers` change only (a changed connection alone would be an update, run on the new
 *   host, leaving the old Harbor running). The owner id is the same for a resource and its `--replace`
 *   replacement: each create and update also draws an owner token on the host and prints it, and update
 *   and delete read their own back from PULUMI_COMMAND_STDOUT (see templates/harbor-lifecycle.sh);
 * - a database password other than the one data_volume's database was initialised with is refused.
 *
 * A minor or major version change needs Harbor's migration: refused here for versions whose harbor.yml
 * registry-kit does not render, and by the update script for what is installed on the host.
 */
import { createHmac } from "node:crypto";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { goDuration } from "../primitives/durations";
import {
    HARBOR_DEFAULT_VERSION,
    HARBOR_LOG_LEVELS,
    HARBOR_PROXY_COMPONENTS,
    HARBOR_RENDERED_DRIVERS,
    HARBOR_SCHEMA_VERSION,
    HARBOR_STORAGE_DRIVERS,
    harborDataVolumeProblem,
    harborHostnameProblem,
    harborInstallerUrlProblem,
    harborPasswordProblem,
    parseHarborVersion,
} from "../primitives/harbor";
import { image as imageRef } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { hostname as hostnameSchema, isHttpsUrl, port as portSchema, redactUrlCredentials } from "../primitives/network";
import { acmeCurves, acmeKeyTypes } from "../primitives/tls";
import { harborInstallerUrl, renderHarborYml } from "../renderers/harbor-yml";
import { harborCommand, harborPaths, HarborScriptParams, harborStdin } from "../renderers/harbor-scripts";
import { harborAcmeEnv, harborAcmeScripts, renderHarborAcmeServerConf } from "../renderers/harbor-acme";
import { harborScrapeJobs, ScrapeJob } from "../renderers/prometheus-config";
import { AcmeCertbotArgs } from "./acme-certbot";
import { S3StorageArgs } from "./registry";
import { validateArgs } from "./validate";

/** Where HarborInstaller puts the installer, harbor.yml and the TLS files by default. */
export const HARBOR_DEFAULT_INSTALL_DIR = "/opt/registry-kit/harbor";

/** The name a Prometheus container on the same host reaches Harbor by, with `extra_hosts: host.docker.internal:host-gateway`. */
export const HARBOR_LOCAL_SCRAPE_HOST = "host.docker.internal";

/** The certbot image HarborInstaller's ACME runs on Harbor's host by default. */
export const ACME_DEFAULT_IMAGE = "certbot/certbot:v3.3.0";

/** The admin user Harbor creates; its password is `harbor_admin_password`. */
export const HARBOR_ADMIN_USER = "admin";

/** ACME (HTTP-01) for Harbor's own proxy: certbot on Harbor's host, no Docker socket (see templates/harbor-acme.sh). */
export interface HarborAcmeArgs extends Pick<
    AcmeCertbotArgs,
    "directoryUrl" | "caBundle" | "email" | "keyType" | "rsaKeySize" | "ellipticCurve" | "image" | "renewIntervalHours" | "retrySeconds"
> {
    /** Names for the certificate, the first one its subject. Default: [hostname]. */
    domains?: pulumi.Input<pulumi.Input<string>[]>;
    /** Name of the renewal container on Harbor's host. Plain. Default: `<component name>-certbot`. */
    containerName?: string;
}

export interface HarborInstallerArgs {
    /** SSH connection to Harbor's host (host, port, user, privateKey or password). Default: none, the local host (local.Command). */
    connection?: pulumi.Input<command.types.input.remote.ConnectionArgs>;
    /** Harbor version, a 2.15 patch release such as v2.15.0 (the harbor.yml schema registry-kit renders). Plain. Default: v2.15.0. */
    version?: string;
    /** URL of the offline installer: https://, http:// or file://, without credentials (use ~/.netrc on the host). Default: the GitHub release of `version`. */
    installerUrl?: pulumi.Input<string>;
    /** SHA-256 (hex) of the installer; a mismatch aborts before anything is extracted. Required: no default. */
    installerSha256: pulumi.Input<string>;
    /** DNS name (or IP address) clients use; not localhost or a loopback address. Required. */
    hostname: pulumi.Input<string>;
    /** Directory on the host for the installer, harbor.yml, TLS files and downloads. Plain. Default: /opt/registry-kit/harbor. */
    installDir?: string;
    /** Harbor's `data_volume`: images (filesystem storage), database, job logs; not /, not inside installDir nor containing it. Kept on delete. Plain. Default: /data. */
    dataVolume?: string;
    /** Serve HTTPS; false serves plain HTTP, which Harbor warns against. Plain. Default: true. */
    https?: boolean;
    /** Host port for HTTP (a redirect to HTTPS when https is on). Default: 80. */
    httpPort?: pulumi.Input<number>;
    /** Host port for HTTPS. Default: 443. */
    httpsPort?: pulumi.Input<number>;
    /** PEM certificate chain served by Harbor's proxy (e.g. Certificates.certificatePem). Required when https. */
    certificatePem?: pulumi.Input<string>;
    /** PEM private key of that certificate, kept secret. Required when https. */
    privateKeyPem?: pulumi.Input<string>;
    /**
     * Obtain and renew the certificate from an ACME directory over HTTP-01 through Harbor's own proxy; the certificate
     * and key above then only bootstrap Harbor until the first issuance. Needs https. Default: none.
     */
    acme?: HarborAcmeArgs;
    /** Only TLS 1.2+ AEAD ciphers (`strong_ssl_ciphers`). Default: false. */
    strongSslCiphers?: pulumi.Input<boolean>;
    /** `external_url` when Harbor sits behind another proxy. Default: none. */
    externalUrl?: pulumi.Input<string>;
    /**
     * Initial admin password (Harbor's rules: 8-128 characters, an upper, a lower, a digit), kept secret; Harbor
     * reads it at its first start only, later changes are made in Harbor's UI. Default: generated (32 characters, kept in state).
     */
    adminPassword?: pulumi.Input<string>;
    /**
     * Password of Harbor's database, kept secret. The database in data_volume keeps the one it was initialised with:
     * another one is refused on the host. Default: generated (32 characters, kept in state: lost with the stack unless saved).
     */
    databasePassword?: pulumi.Input<string>;
    /** `storage_service` driver: filesystem or s3. Plain. Default: s3 when `s3` is given, else filesystem. */
    storageDriver?: string;
    /** s3 driver settings (e.g. Storage.s3). Required for storageDriver s3. */
    s3?: S3StorageArgs;
    /** Trivy scanner settings; Trivy is always installed (prepare --with-trivy). Default: every flag false, timeout 5m0s. */
    trivy?: {
        /** Only report fixed vulnerabilities. Default: false. */
        ignoreUnfixed?: pulumi.Input<boolean>;
        /** Do not download the vulnerability DB (air-gapped hosts). Default: false. */
        skipUpdate?: pulumi.Input<boolean>;
        /** Do not download the Java DB. Default: false. */
        skipJavaDbUpdate?: pulumi.Input<boolean>;
        /** No API requests while scanning. Default: false. */
        offlineScan?: pulumi.Input<boolean>;
        /** Skip verifying the registry's certificate. Default: false. */
        insecure?: pulumi.Input<boolean>;
        /** Scan timeout. Default: 5m0s. */
        timeout?: pulumi.Input<string>;
    };
    /** Job service. */
    jobservice?: {
        /** Concurrent job workers. Default: 10. */
        maxJobWorkers?: pulumi.Input<number>;
        /** Longest a task may run, in hours. Default: 24. */
        maxJobDurationHours?: pulumi.Input<number>;
    };
    /** Harbor's own log files on the host. */
    log?: {
        /** debug, info, warning, error or fatal. Default: info. */
        level?: pulumi.Input<string>;
        /** Rotated files kept. Default: 50. */
        rotateCount?: pulumi.Input<number>;
        /** Size that triggers rotation, e.g. 200M. Default: 200M. */
        rotateSize?: pulumi.Input<string>;
        /** Directory of the log files. Default: /var/log/harbor. */
        location?: pulumi.Input<string>;
    };
    /** HTTP proxy for outgoing connections (replication, Trivy DB downloads). */
    proxy?: {
        /** Default: none. */
        httpProxy?: pulumi.Input<string>;
        /** Default: none. */
        httpsProxy?: pulumi.Input<string>;
        /** Comma-separated hosts reached directly. Default: none. */
        noProxy?: pulumi.Input<string>;
        /** Components that use the proxy. Default: core, jobservice, trivy. */
        components?: pulumi.Input<string[]>;
    };
    /** Prometheus metrics (always on), served by Harbor's proxy on the host, unauthenticated, on all interfaces. */
    metrics?: {
        /**
         * Host name or address at which Prometheus reaches the metrics port (resolved by Prometheus's container: Docker's DNS,
         * not the host's /etc/hosts). Default: the SSH connection's host, or host.docker.internal without a connection (give
         * the Prometheus container `host.docker.internal:host-gateway`, as Monitoring's `extraHosts`).
         */
        scrapeHost?: pulumi.Input<string>;
        /** Host port. Default: 9091 (Harbor's own default, 9090, is Prometheus's). */
        port?: pulumi.Input<number>;
        /** Path. Default: /metrics. */
        path?: pulumi.Input<string>;
    };
    /** Purging of abandoned uploads. Default: enabled, age 168h, interval 24h, dryrun false. */
    uploadPurging?: { enabled?: pulumi.Input<boolean>; age?: pulumi.Input<string>; interval?: pulumi.Input<string>; dryrun?: pulumi.Input<boolean> };
}

const absolutePath = z.string().regex(/^\/[A-Za-z0-9._/-]*$/, { message: "an absolute path such as /data" });
const sha256Hex = z.string().regex(/^[0-9a-fA-F]{64}$/, { message: "the installer's SHA-256: 64 hex digits" });

const harborVersionSchema = z.string().refine(
    (v) => {
        const p = parseHarborVersion(v);
        return p !== undefined && `${p.major}.${p.minor}.0` === HARBOR_SCHEMA_VERSION;
    },
    {
        message: `a Harbor ${HARBOR_SCHEMA_VERSION.replace(/\.0$/, "")}.x release such as ${HARBOR_DEFAULT_VERSION} (registry-kit renders the ${HARBOR_SCHEMA_VERSION.replace(/\.0$/, "")} harbor.yml; other minor versions need Harbor's migration: see the README)`,
    },
);
const harborHostname = hostnameSchema.superRefine((v, ctx) => {
    const problem = harborHostnameProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `a DNS name or IP address clients can reach; this is ${problem}` });
});
const harborPassword = z.string().superRefine((v, ctx) => {
    const problem = harborPasswordProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const storageDriverSchema = z.string().refine((v) => (HARBOR_RENDERED_DRIVERS as readonly string[]).includes(v), {
    message: `one of ${HARBOR_RENDERED_DRIVERS.map((d) => JSON.stringify(d)).join(", ")} (Harbor's storage_service knows ${HARBOR_STORAGE_DRIVERS.join(", ")}; registry-kit renders filesystem and s3, which covers MinIO and other S3-compatible services)`,
});

/** HMAC-SHA256 of the files, keyed: shows a change without letting anyone test password guesses against it. */
function configDigest(key: string, files: Record<string, string>): string {
    const h = createHmac("sha256", key);
    for (const name of Object.keys(files).sort()) h.update(name).update("\0").update(files[name]).update("\0");
    return h.digest("hex");
}

/** A password Harbor accepts, drawn once and kept in state. */
function generatedPassword(name: string, parent: pulumi.Resource): pulumi.Output<string> {
    return new random.RandomPassword(name, { length: 32, special: false, minUpper: 2, minLower: 2, minNumeric: 2 }, { parent }).result;
}

export class HarborInstaller extends pulumi.ComponentResource {
    /** `https://<hostname>[:port]` (or http:// without TLS). */
    public readonly url: pulumi.Output<string>;
    /** Harbor's admin user. */
    public readonly adminUser: pulumi.Output<string>;
    /** The initial admin password (secret). */
    public readonly adminPassword: pulumi.Output<string>;
    /** The database password (secret): save it, the database in data_volume outlives the stack. */
    public readonly databasePassword: pulumi.Output<string>;
    /** The rendered harbor.yml (secret: it holds passwords). */
    public readonly harborYml: pulumi.Output<string>;
    /** Keyed HMAC-SHA256 of harbor.yml and the TLS files, as the command shows it (RK_CONFIG_HMAC). */
    public readonly configDigest: pulumi.Output<string>;
    /** Where everything lives on the host. */
    public readonly installDir: string;
    public readonly dataVolume: string;
    /** Prometheus scrape jobs for Harbor's exporter, core, registry and job service. */
    public readonly scrapeJobs: pulumi.Output<ScrapeJob[]>;
    /** The lifecycle command (remote.Command over SSH, or local.Command). */
    public readonly command: command.remote.Command | command.local.Command;

    constructor(name: string, args: HarborInstallerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:harbor:HarborInstaller", name, {}, opts);
        validateArgs("HarborInstaller", name, args, {
            version: harborVersionSchema,
            installerSha256: sha256Hex,
            hostname: harborHostname,
            installDir: absolutePath,
            dataVolume: absolutePath,
            httpPort: portSchema,
            httpsPort: portSchema,
            adminPassword: harborPassword,
            storageDriver: storageDriverSchema,
        });
        if (args.acme)
            validateArgs("HarborInstaller", name, args.acme, {
                domains: z.array(hostnameSchema).min(1, { message: "at least one DNS name" }),
                directoryUrl: z.string().refine(isHttpsUrl, { message: "an https:// URL of an ACME directory" }),
                email: z.email({ message: "an email address" }),
                keyType: z.enum(acmeKeyTypes),
                ellipticCurve: z.enum(acmeCurves),
                image: imageRef,
                containerName: dockerName,
            });
        const useHttps = args.https ?? true;
        const driver = args.storageDriver ?? (args.s3 ? "s3" : "filesystem");
        const problems: string[] = [];
        if (args.installerSha256 === undefined)
            problems.push("args.installerSha256: got nothing; allowed: the installer's SHA-256 (64 hex digits): required, there is no default");
        if (useHttps && (args.certificatePem === undefined || args.privateKeyPem === undefined)) {
            problems.push("args.certificatePem, args.privateKeyPem: got nothing; allowed: a PEM certificate and key: required when https is on (the default)");
        }
        // Checked here, not by validateArgs: the message shows the URL without its credentials.
        const urlProblem = typeof args.installerUrl === "string" ? harborInstallerUrlProblem(args.installerUrl) : undefined;
        if (urlProblem) problems.push(`args.installerUrl: got ${JSON.stringify(redactUrlCredentials(args.installerUrl as string))}; allowed: ${urlProblem}`);
        const dataProblem = harborDataVolumeProblem(args.dataVolume ?? "/data", args.installDir ?? HARBOR_DEFAULT_INSTALL_DIR);
        if (dataProblem) problems.push(`args.dataVolume: got ${JSON.stringify(args.dataVolume ?? "/data")}; allowed: ${dataProblem}`);
        if (args.acme && !useHttps) problems.push("args.acme: got ACME settings; allowed: none when https is off (ACME needs HTTPS)");
        if (driver === "s3" && !args.s3) problems.push('args.s3: got nothing; allowed: the s3 driver settings: required for storageDriver "s3"');
        if (problems.length) throw new Error(`HarborInstaller "${name}": invalid arguments:\n${problems.join("\n")}`);

        const version = args.version ?? HARBOR_DEFAULT_VERSION;
        this.installDir = args.installDir ?? HARBOR_DEFAULT_INSTALL_DIR;
        this.dataVolume = args.dataVolume ?? "/data";
        const paths = harborPaths(this.installDir);
        this.adminUser = pulumi.output(HARBOR_ADMIN_USER);
        this.adminPassword = pulumi.secret(args.adminPassword ?? generatedPassword(`${name}-admin-password`, this));
        const databasePassword = pulumi.secret(args.databasePassword ?? generatedPassword(`${name}-database-password`, this));
        this.databasePassword = databasePassword;
        const hashKey = new random.RandomPassword(`${name}-config-digest-key`, { length: 32, special: false }, { parent: this }).result;

        const trivy = args.trivy ?? {};
        const js = args.jobservice ?? {};
        const log = args.log ?? {};
        const proxy = args.proxy ?? {};
        const metrics = args.metrics ?? {};
        const purge = args.uploadPurging ?? {};
        const s3 = driver === "s3" && args.s3 ? pulumi.output(args.s3) : pulumi.output(undefined);
        const metricsPort = pulumi.output(metrics.port ?? 9091);
        const metricsPath = pulumi.output(metrics.path ?? "/metrics");

        const rendered = pulumi
            .all([
                pulumi.all([args.hostname, args.httpPort ?? 80, args.httpsPort ?? 443, args.strongSslCiphers ?? false, args.externalUrl]),
                pulumi.all([this.adminPassword, databasePassword, s3]),
                pulumi.all([
                    trivy.ignoreUnfixed ?? false,
                    trivy.skipUpdate ?? false,
                    trivy.skipJavaDbUpdate ?? false,
                    trivy.offlineScan ?? false,
                    trivy.insecure ?? false,
                    trivy.timeout ?? "5m0s",
                ]),
                pulumi.all([js.maxJobWorkers ?? 10, js.maxJobDurationHours ?? 24]),
                pulumi.all([log.level ?? "info", log.rotateCount ?? 50, log.rotateSize ?? "200M", log.location ?? "/var/log/harbor"]),
                pulumi.all([proxy.httpProxy, proxy.httpsProxy, proxy.noProxy, proxy.components ?? ["core", "jobservice", "trivy"]]),
                pulumi.all([metricsPort, metricsPath]),
                pulumi.all([purge.enabled ?? true, purge.age ?? "168h", purge.interval ?? "24h", purge.dryrun ?? false]),
            ])
            .apply(([[host, httpPort, httpsPort, strong, externalUrl], [admin, db, s3v], tv, [workers, hours], lg, px, [mPort, mPath], pu]) => {
                const checks: string[] = [];
                const pw = harborPasswordProblem(admin);
                if (pw) checks.push(`args.adminPassword: got [secret]; allowed: ${pw}`);
                const hn = harborHostnameProblem(host);
                if (hn) checks.push(`args.hostname: got ${JSON.stringify(host)}; allowed: a name clients can reach, not ${hn}`);
                if (!(HARBOR_LOG_LEVELS as readonly string[]).includes(lg[0]))
                    checks.push(`args.log.level: got ${JSON.stringify(lg[0])}; allowed: one of ${HARBOR_LOG_LEVELS.join(", ")}`);
                const badComponent = px[3].find((c) => !(HARBOR_PROXY_COMPONENTS as readonly string[]).includes(c));
                if (badComponent) checks.push(`args.proxy.components: got ${JSON.stringify(badComponent)}; allowed: ${HARBOR_PROXY_COMPONENTS.join(", ")}`);
                for (const [key, value] of [
                    ["age", pu[1]],
                    ["interval", pu[2]],
                ] as const) {
                    const problem = goDuration.safeParse(value).error?.issues[0].message;
                    if (problem) checks.push(`args.uploadPurging.${key}: got ${JSON.stringify(value)}; allowed: ${problem}`);
                }
                if (checks.length) throw new Error(`HarborInstaller "${name}": invalid arguments:\n${checks.join("\n")}`);
                return renderHarborYml({
                    version,
                    hostname: host,
                    httpPort,
                    https: useHttps
                        ? { port: httpsPort, certificatePath: paths.certificate, privateKeyPath: paths.privateKey, strongSslCiphers: strong }
                        : undefined,
                    externalUrl,
                    adminPassword: admin,
                    databasePassword: db,
                    dataVolume: this.dataVolume,
                    s3: s3v && {
                        bucket: s3v.bucket as string,
                        region: (s3v.region as string | undefined) ?? "us-east-1",
                        regionEndpoint: s3v.regionEndpoint as string | undefined,
                        forcePathStyle: s3v.forcePathStyle as boolean | undefined,
                        encrypt: s3v.encrypt as boolean | undefined,
                        secure: s3v.secure as boolean | undefined,
                        chunkSize: s3v.chunkSize as number | undefined,
                        rootDirectory: s3v.rootDirectory as string | undefined,
                        accessKey: s3v.accessKey as string,
                        secretKey: s3v.secretKey as string,
                    },
                    trivy: { ignoreUnfixed: tv[0], skipUpdate: tv[1], skipJavaDbUpdate: tv[2], offlineScan: tv[3], insecure: tv[4], timeout: tv[5] },
                    jobservice: { maxJobWorkers: workers, maxJobDurationHours: hours, loggerSweeperDays: 1 },
                    log: { level: lg[0], rotateCount: lg[1], rotateSize: lg[2], location: lg[3] },
                    proxy: { httpProxy: px[0], httpsProxy: px[1], noProxy: px[2], components: px[3] },
                    metric: { enabled: true, port: mPort, path: mPath },
                    uploadPurging: { enabled: pu[0], age: pu[1], interval: pu[2], dryrun: pu[3] },
                });
            });
        this.harborYml = pulumi.secret(rendered);

        const acme = args.acme;
        const acmeFiles = acme
            ? pulumi
                  .all([
                      args.hostname,
                      args.httpsPort ?? 443,
                      acme.domains ?? [args.hostname],
                      acme.directoryUrl,
                      acme.caBundle,
                      acme.email,
                      pulumi.all([acme.keyType ?? "ecdsa", acme.rsaKeySize ?? 2048, acme.ellipticCurve ?? "secp256r1"]),
                      pulumi.all([acme.renewIntervalHours ?? 12, acme.retrySeconds ?? 900]),
                  ])
                  .apply(
                      ([host, httpsPort, domains, directoryUrl, caBundle, email, [keyType, rsaKeySize, ellipticCurve], [renewIntervalHours, retrySeconds]]) => {
                          const out: Record<string, string> = {
                              ...harborAcmeScripts(),
                              "acme.server.conf": renderHarborAcmeServerConf(host, httpsPort),
                              "acme.env": harborAcmeEnv({
                                  domains,
                                  certName: "registry-kit",
                                  directoryUrl,
                                  email,
                                  keyType,
                                  rsaKeySize,
                                  ellipticCurve,
                                  renewIntervalHours,
                                  retrySeconds,
                              }),
                          };
                          if (caBundle) out["acme-ca.pem"] = caBundle;
                          return out;
                      },
                  )
            : pulumi.output({} as Record<string, string>);
        const files = pulumi
            .all([this.harborYml, useHttps ? args.certificatePem : undefined, useHttps ? pulumi.secret(args.privateKeyPem) : undefined, acmeFiles])
            .apply(([yml, cert, key, extra]) => {
                const out: Record<string, string> = { "harbor.yml": yml, ...extra };
                if (cert !== undefined) out["server.crt"] = cert;
                if (key !== undefined) out["server.key"] = key;
                return out;
            });
        // The digests are not secret (keyed), though computed from secrets: unwrap them deliberately.
        this.configDigest = pulumi.unsecret(pulumi.all([hashKey, files]).apply(([key, f]) => configDigest(key, f)));
        // Unique to the command resource and its connection, and its `triggers`: a connection change (host, port,
        // user, key, password) replaces it, as do a move to local.Command and a rename (a new resource), and Pulumi
        // creates the new one before it deletes the old one. The new create records its owner id on its host; the
        // old delete, on the old host, finds its own id there and stops the old Harbor, or on the same host finds
        // another id and leaves Harbor running. Keyed: not secret, and no guess of the key can be tested against it.
        // `pulumi up --replace` keeps URN and connection, hence the id: the owner token, drawn on the host at run
        // time (never here: it would change the inputs), tells the old resource from the new one.
        // `generation` 2: the release that added `triggers` replaces every command once (no triggers before), and
        // the old delete must then see another id than the new create records.
        const owner = pulumi.unsecret(
            pulumi.all([hashKey, this.urn, args.connection ?? null]).apply(([key, urn, connection]) =>
                configDigest(key, {
                    urn,
                    type: connection ? "remote" : "local",
                    connection: JSON.stringify(connection ?? null),
                    generation: "2",
                }).slice(0, 32),
            ),
        );
        const params = pulumi
            .all([
                args.installerUrl ?? harborInstallerUrl(version),
                args.installerSha256,
                this.configDigest,
                owner,
                acme ? (acme.image ?? ACME_DEFAULT_IMAGE) : "",
            ])
            .apply(([installerUrl, sha, digest, ownerId, acmeImage]): HarborScriptParams => {
                const urlProblem = harborInstallerUrlProblem(installerUrl);
                if (urlProblem) throw new Error(`HarborInstaller "${name}": invalid arguments:\nargs.installerUrl: allowed: ${urlProblem}`);
                return {
                    version,
                    installerUrl,
                    installerSha256: sha,
                    installDir: this.installDir,
                    dataVolume: this.dataVolume,
                    configHmac: digest,
                    owner: ownerId,
                    prepareArgs: ["--with-trivy"],
                    acme: acme ? { image: acmeImage, container: acme.containerName ?? `${name}-certbot` } : undefined,
                };
            });
        const commandArgs = {
            triggers: [owner],
            create: params.apply((p) => harborCommand("create", p)),
            update: params.apply((p) => harborCommand("update", p)),
            delete: params.apply((p) => harborCommand("delete", p)),
            // The database password travels apart too: the host checks it against data_volume's fingerprint.
            stdin: pulumi.secret(pulumi.all([files, databasePassword]).apply(([f, db]) => harborStdin({ ...f, "database-password": db }))),
        };
        // No deleteBeforeReplace: a replacement is create-new (which takes Harbor over without a restart when nothing
        // else changed) then delete-old (which finds another owner and skips on the same host). With
        // deleteBeforeReplace Harbor would stop, then start again, and stay down if the new create failed.
        // Children do not inherit the component's dependsOn (e.g. the MinIO bucket and user Harbor stores images in): pass it on.
        const secretOutputs = (...extra: string[]): pulumi.CustomResourceOptions => ({
            parent: this,
            additionalSecretOutputs: ["stdin", ...extra],
            dependsOn: opts?.dependsOn,
        });
        this.command = args.connection
            ? new command.remote.Command(name, { connection: pulumi.secret(args.connection), ...commandArgs }, secretOutputs("connection"))
            : new command.local.Command(name, commandArgs, secretOutputs());

        const port = useHttps ? pulumi.output(args.httpsPort ?? 443) : pulumi.output(args.httpPort ?? 80);
        const scheme = useHttps ? "https" : "http";
        this.url = pulumi.all([args.hostname, port]).apply(([h, p]) => {
            const host = h.includes(":") ? `[${h}]` : h;
            return (scheme === "https" && p === 443) || (scheme === "http" && p === 80) ? `${scheme}://${host}` : `${scheme}://${host}:${p}`;
        });
        // Prometheus resolves the target in its container: the SSH host for a remote Harbor, the Docker host
        // (host.docker.internal, mapped to host-gateway on the Prometheus container) for a local one.
        const scrapeHost =
            metrics.scrapeHost ?? (args.connection ? pulumi.unsecret(pulumi.output(args.connection).apply((c) => c.host)) : HARBOR_LOCAL_SCRAPE_HOST);
        this.scrapeJobs = pulumi
            .all([scrapeHost, metricsPort, metricsPath])
            .apply(([h, p, path]) => harborScrapeJobs(`${h.includes(":") ? `[${h}]` : h}:${p}`, path));
        this.registerOutputs({
            url: this.url,
            adminUser: this.adminUser,
            adminPassword: this.adminPassword,
            databasePassword: this.databasePassword,
            harborYml: this.harborYml,
            configDigest: this.configDigest,
            scrapeJobs: this.scrapeJobs,
        });
    }
}
