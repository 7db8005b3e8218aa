/**
 * What every topology sets up the same way: the Docker target and network, the registry's storage
 * (and Redis for replicas), and certbot in ACME mode.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { AcmeCertbot } from "../components/acme-certbot";
import { Certificates } from "../components/certificates";
import { Redis } from "../components/redis";
import { Storage, StorageArgs } from "../components/storage";
import { TlsProxy } from "../components/tls-proxy";
import { ACME_DIRECTORIES, Settings } from "./schema";

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
            ...(settings.docker.subnet ? { ipamConfigs: [{ subnet: settings.docker.subnet }] } : {}),
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
export function registryStorage(settings: Settings, { prefix, network, childOpts }: StackTarget) {
    const reg = settings.registry;
    const { s3: s3Settings, minio: minioSettings } = reg.storage;
    const storage = new Storage(
        `${prefix}-storage`,
        {
            kind: reg.storage.type,
            networkName: network.name,
            ...s3StorageArgs(settings),
            bucket: reg.storage.type === "minio" ? minioSettings.bucket : (s3Settings.bucket ?? `${prefix}-registry`),
            retainOnDelete: reg.storage.type === "minio" ? minioSettings.retainOnDelete : true,
            minioImage: minioSettings.image,
            mcImage: minioSettings.mcImage,
            rootUser: minioSettings.rootUser,
            rootPassword: minioSettings.rootPassword === undefined ? undefined : pulumi.secret(minioSettings.rootPassword),
            volumeName: minioSettings.volumeName ?? `${prefix}-minio-data`,
        },
        childOpts,
    );
    // Replicas share a blob-descriptor cache: your Redis, or a container of ours.
    const redis = reg.redis.address
        ? { address: pulumi.output(reg.redis.address), password: reg.redis.password === undefined ? undefined : pulumi.secret(reg.redis.password) }
        : reg.replicas > 1
          ? new Redis(`${prefix}-redis`, { networkName: network.name, image: reg.redis.image }, childOpts)
          : undefined;
    return { storage, redis };
}

/** ACME mode: certbot on the proxy's volumes, for these names; undefined otherwise. */
export function acmeCertbot(settings: Settings, { prefix, network, childOpts }: StackTarget, proxy: TlsProxy, domains: string[]): AcmeCertbot | undefined {
    const acme = settings.tls.mode === "acme" ? settings.tls.acme : undefined;
    return acme
        ? new AcmeCertbot(
              `${prefix}-certbot`,
              {
                  networkName: network.name,
                  webrootVolume: proxy.acmeWebrootVolume,
                  letsencryptVolume: proxy.letsencryptVolume!,
                  domains,
                  directoryUrl: ACME_DIRECTORIES[acme.directory] ?? acme.directory,
                  certName: ACME_CERT_NAME,
                  caBundle: acme.caBundle,
                  email: acme.email,
                  keyType: acme.keyType,
                  rsaKeySize: acme.rsaKeySize,
                  ellipticCurve: acme.ellipticCurve,
                  image: acme.image,
                  renewIntervalHours: acme.renewIntervalHours,
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
            certificatePem: settings.tls.certificate,
            privateKeyPem: settings.tls.privateKey === undefined ? undefined : pulumi.secret(settings.tls.privateKey),
        },
        opts,
    );
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
        versioning: s3.versioning,
        abortIncompleteUploadDays: s3.abortIncompleteUploadDays,
        accessKey: s3.accessKey,
        secretKey: s3.secretKey === undefined ? undefined : pulumi.secret(s3.secretKey),
    };
}
