/**
 * registry-kit's components for Python, Go, YAML, C# and Java programs: the entry of the source-based
 * component plugin (../PulumiPlugin.yaml, `pulumi package add`). Pulumi reads the constructors'
 * argument types with the TypeScript compiler to write a schema and generate an SDK in the consumer's
 * language; its inference takes interfaces of plain types, arrays, maps, enums and Inputs, but no
 * union of literals (`"v2" | "v3"`) and no inline object type. Each class here is a component under the
 * plugin's `registry-kit:index:<Name>` token that creates registry-kit's own component of that name as
 * its child with the same arguments, and exposes its string outputs. Where registry-kit's args use a
 * literal union or an inline type, the args interface here extends it with an enum or a named
 * interface in its place (assignable to the original, so the arguments pass through unchanged).
 *
 * TypeScript and JavaScript programs import registry-kit itself, not this.
 */
import * as pulumi from "@pulumi/pulumi";
import * as kit from "../index";

/** Copies the named outputs of `inner` onto `outer` and registers them as `outer`'s outputs. */
function adopt<T extends object>(outer: pulumi.ComponentResource, inner: T, keys: (keyof T & string)[]): void {
    const outputs: Record<string, unknown> = {};
    for (const k of keys) outputs[k] = (outer as unknown as Record<string, unknown>)[k] = inner[k];
    (outer as unknown as { registerOutputs(o: Record<string, unknown>): void }).registerOutputs(outputs);
}

const child = (outer: pulumi.ComponentResource): pulumi.ComponentResourceOptions => ({ parent: outer });

/** The registry's config dialect (registry-kit's RegistryDialect as an enum, for schema inference). */
export enum Dialect {
    /** Distribution 2.x: /etc/docker/registry/config.yml. */
    v2 = "v2",
    /** Distribution 3.x: /etc/distribution/config.yml. */
    v3 = "v3",
}

/** Arguments of the plugin's {@link Registry}: registry-kit's RegistryArgs, `dialect` an enum, `extraConfig` of Any. */
export interface RegistryArgs extends kit.RegistryArgs {
    /** Config dialect, `v2` or `v3`. Default: from the image tag (`:2…` is v2, anything else v3). */
    dialect?: pulumi.Input<Dialect>;
    /** Raw registry config deep-merged over the generated one (escape hatch). Default: {}. */
    extraConfig?: pulumi.Input<Record<string, any>>;
}

/** The Distribution registry (see registry-kit's Registry). */
export class Registry extends pulumi.ComponentResource {
    /** Address of the registry on the Docker network, `host:port`. */
    public readonly address!: pulumi.Output<string>;
    /** The registry's generated config.yml. */
    public readonly configYaml!: pulumi.Output<string>;
    /** `host:port` of each replica's debug server, for Prometheus. */
    public readonly metricsAddresses!: pulumi.Output<string[]>;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:index:Registry", name, {}, opts);
        adopt(this, new kit.Registry(name, args, child(this)), ["address", "configYaml", "metricsAddresses"]);
    }
}

/** How {@link Certificates} gets the certificate (registry-kit's literal union as an enum). */
export enum CertificateMode {
    /** A private CA and a server certificate made and kept by Pulumi. */
    selfSigned = "self-signed",
    /** Your certificate and key. */
    provided = "provided",
    /** A self-signed certificate that bootstraps the proxy until certbot (AcmeCertbot) has the real one. */
    acme = "acme",
}

/** Arguments of the plugin's {@link Certificates}: registry-kit's CertificatesArgs, `mode` an enum. */
export interface CertificatesArgs extends kit.CertificatesArgs {
    /** `self-signed`, `provided` or `acme`. Default: self-signed. */
    mode?: CertificateMode;
}

/** The registry's TLS certificate: self-signed with its own CA, provided, or an ACME bootstrap. */
export class Certificates extends pulumi.ComponentResource {
    /** PEM chain of the server certificate. */
    public readonly certificatePem!: pulumi.Output<string>;
    /** PEM private key of the server certificate (secret). */
    public readonly privateKeyPem!: pulumi.Output<string>;
    /** PEM of the CA that clients trust (empty when there is none). */
    public readonly caCertificatePem!: pulumi.Output<string>;

    constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:index:Certificates", name, {}, opts);
        adopt(this, new kit.Certificates(name, args, child(this)), ["certificatePem", "privateKeyPem", "caCertificatePem"]);
    }
}

/** htpasswd users for the registry: a generated admin password, or yours, and more users. */
export class Htpasswd extends pulumi.ComponentResource {
    /** The admin user's name. */
    public readonly adminUser!: pulumi.Output<string>;
    /** The admin password (secret). */
    public readonly adminPassword!: pulumi.Output<string>;
    /** The htpasswd file (secret). */
    public readonly content!: pulumi.Output<string>;

    constructor(name: string, args: kit.HtpasswdArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:index:Htpasswd", name, {}, opts);
        adopt(this, new kit.Htpasswd(name, args, child(this)), ["adminUser", "adminPassword", "content"]);
    }
}

/** The nginx TLS proxy in front of the registry. */
export class TlsProxy extends pulumi.ComponentResource {
    /** The generated nginx.conf. */
    public readonly nginxConf!: pulumi.Output<string>;
    /** Name of the ACME webroot volume. */
    public readonly acmeWebrootVolume!: pulumi.Output<string>;

    constructor(name: string, args: kit.TlsProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:index:TlsProxy", name, {}, opts);
        adopt(this, new kit.TlsProxy(name, args, child(this)), ["nginxConf", "acmeWebrootVolume"]);
    }
}

/** URL scheme of a scrape job. */
export enum Scheme {
    http = "http",
    https = "https",
}

/** Targets of a scrape job, with their labels. */
export interface StaticConfig {
    /** `host:port` addresses. */
    targets: string[];
    /** Labels added to every series. Default: none. */
    labels?: Record<string, string>;
}

/** One Prometheus scrape job (registry-kit's ScrapeJob with named types, for schema inference). */
export interface ScrapeJobArgs extends kit.ScrapeJob {
    scheme: Scheme;
    static_configs: StaticConfig[];
}

/** Arguments of the plugin's {@link Monitoring}: registry-kit's MonitoringArgs, `extraJobs` with named types. */
export interface MonitoringArgs extends kit.MonitoringArgs {
    /** More scrape jobs. Default: []. */
    extraJobs?: pulumi.Input<ScrapeJobArgs[]>;
}

/** Prometheus scraping the registry. */
export class Monitoring extends pulumi.ComponentResource {
    /** Prometheus's URL on the host. */
    public readonly url!: pulumi.Output<string>;
    /** The generated prometheus.yml. */
    public readonly prometheusYaml!: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:index:Monitoring", name, {}, opts);
        adopt(this, new kit.Monitoring(name, args, child(this)), ["url", "prometheusYaml"]);
    }
}

/** A Redis container for the registry's blob-descriptor cache (replicas). */
export class Redis extends pulumi.ComponentResource {
    /** `host:port` on the Docker network. */
    public readonly address!: pulumi.Output<string>;
    /** Its password (secret). */
    public readonly password!: pulumi.Output<string>;

    constructor(name: string, args: kit.RedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:index:Redis", name, {}, opts);
        adopt(this, new kit.Redis(name, args, child(this)), ["address", "password"]);
    }
}

/** A MinIO container with a bucket and a user limited to it, as the registry's S3 storage. */
export class Minio extends pulumi.ComponentResource {
    /** The S3 endpoint on the Docker network. */
    public readonly endpoint!: pulumi.Output<string>;
    /** The bucket. */
    public readonly bucket!: pulumi.Output<string>;
    /** The registry user's access key. */
    public readonly accessKey!: pulumi.Output<string>;
    /** The registry user's secret key (secret). */
    public readonly secretKey!: pulumi.Output<string>;

    constructor(name: string, args: kit.MinioArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:index:Minio", name, {}, opts);
        adopt(this, new kit.Minio(name, args, child(this)), ["endpoint", "bucket", "accessKey", "secretKey"]);
    }
}
