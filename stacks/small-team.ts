/**
 * small-team: one Docker host running the registry behind the Nginx TLS proxy, htpasswd users,
 * filesystem storage and Prometheus, on a network of its own.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { AcmeCertbot } from "../components/acme-certbot";
import { Htpasswd } from "../components/htpasswd";
import { Monitoring } from "../components/monitoring";
import { Redis } from "../components/redis";
import { Registry } from "../components/registry";
import { Storage } from "../components/storage";
import { TlsProxy } from "../components/tls-proxy";
import { registryScrapeJob } from "../renderers/prometheus-config";
import { certificatesFromSettings, s3StorageArgs } from "./common";
import { ACME_DIRECTORIES, Settings } from "./schema";

export interface SmallTeamOutputs {
    registryUrl: pulumi.Output<string>;
    registryHost: pulumi.Output<string>;
    caCertificate: pulumi.Output<string>;
    dockerLogin: pulumi.Output<string>;
    clientSetup: pulumi.Output<string>;
    prometheusUrl: pulumi.Output<string> | undefined;
    registryScrapeJob: pulumi.Output<unknown>;
    adminUser: pulumi.Output<string>;
    adminPassword: pulumi.Output<string>;
    dataVolume: pulumi.Output<string> | undefined;
    certificate: pulumi.Output<string>;
    certificateIssuer: pulumi.Output<string> | undefined;
    certificateNotAfter: pulumi.Output<string> | undefined;
}

/** certbot's name for the registry's certificate: /etc/letsencrypt/live/registry-kit/. */
export const ACME_CERT_NAME = "registry-kit";

/** `host` or `host:port` as clients write it (the port is left out when it is 443). */
export function registryHost(hostname: string, httpsPort: number): string {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return httpsPort === 443 ? host : `${host}:${httpsPort}`;
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

export function smallTeam(settings: Settings, opts: pulumi.ComponentResourceOptions = {}): SmallTeamOutputs {
    const prefix = settings.docker.namePrefix ?? `rk-${pulumi.getStack()}`;
    const providerOpts: pulumi.CustomResourceOptions = {};
    if (settings.docker.host) {
        providerOpts.provider = new docker.Provider(`${prefix}-docker`, { host: settings.docker.host });
    }
    const childOpts = pulumi.mergeOptions(opts, providerOpts.provider ? { providers: [providerOpts.provider] } : {});

    const network = new docker.Network(
        `${prefix}-net`,
        { name: `${prefix}-net`, driver: "bridge", labels: [{ label: "registry-kit.stack", value: prefix }] },
        pulumi.mergeOptions(opts, providerOpts),
    );

    const certs = certificatesFromSettings(settings, prefix, opts);

    const auth = settings.auth;
    const htpasswd = new Htpasswd(
        `${prefix}-htpasswd`,
        {
            adminUser: auth.adminUser,
            adminPassword: auth.adminPassword === undefined ? undefined : pulumi.secret(auth.adminPassword),
            users: auth.users.map((u) => ({ name: u.name, password: pulumi.secret(u.password) })),
            bcryptCost: auth.bcryptCost,
        },
        opts,
    );

    const reg = settings.registry;
    const { s3: s3Settings, minio: minioSettings } = reg.storage;
    const storage = new Storage(
        `${prefix}-storage`,
        {
            ...s3StorageArgs(settings),
            kind: reg.storage.type,
            networkName: network.name,
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
    const registry = new Registry(
        `${prefix}-registry`,
        {
            networkName: network.name,
            image: reg.image,
            dialect: reg.dialect,
            volumeName: reg.storage.filesystem.volumeName,
            retainDataOnDelete: reg.storage.filesystem.retainOnDelete,
            s3: storage.s3,
            replicas: reg.replicas,
            redisAddress: redis?.address,
            redisPassword: redis?.password,
            htpasswd: htpasswd.content,
            deleteEnabled: reg.deleteEnabled,
            uploadPurging: reg.uploadPurging,
            logLevel: reg.logLevel,
            extraConfig: reg.extraConfig,
        },
        childOpts,
    );

    const acme = settings.tls.mode === "acme" ? settings.tls.acme : undefined;
    const proxy = new TlsProxy(
        `${prefix}-proxy`,
        {
            networkName: network.name,
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
        },
        pulumi.mergeOptions(childOpts, { dependsOn: [registry] }),
    );

    const certbot = acme
        ? new AcmeCertbot(
              `${prefix}-certbot`,
              {
                  networkName: network.name,
                  webrootVolume: proxy.acmeWebrootVolume,
                  letsencryptVolume: proxy.letsencryptVolume!,
                  domains: [settings.hostname, ...settings.tls.extraSans],
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

    const mon = settings.monitoring;
    const monitoring = mon.enabled
        ? new Monitoring(
              `${prefix}-prometheus`,
              {
                  networkName: network.name,
                  registryTargets: registry.metricsAddresses,
                  image: mon.image,
                  hostIp: mon.hostIp,
                  port: mon.port,
                  retentionTime: mon.retentionTime,
                  retentionSize: mon.retentionSize,
                  scrapeInterval: mon.scrapeInterval,
              },
              childOpts,
          )
        : undefined;

    const host = registryHost(settings.hostname, settings.proxy.httpsPort);
    const selfSigned = settings.tls.mode === "self-signed";
    const certificateNote = acme
        ? "issued by the ACME directory; certbot renews it 30 days before expiry"
        : selfSigned
          ? "self-signed: clients must trust caCertificate"
          : "provided";
    return {
        registryUrl: pulumi.output(`https://${host}`),
        registryHost: pulumi.output(host),
        caCertificate: certs.caCertificatePem,
        dockerLogin: pulumi.interpolate`docker login ${host} --username ${htpasswd.adminUser}`,
        clientSetup: pulumi.output(clientSetupText(host, selfSigned)),
        prometheusUrl: monitoring?.url,
        registryScrapeJob: registry.metricsAddresses.apply((targets) => registryScrapeJob(targets)),
        adminUser: htpasswd.adminUser,
        adminPassword: htpasswd.adminPassword,
        dataVolume: registry.volumeName,
        certificate: pulumi.output(certificateNote),
        certificateIssuer: certbot?.issuer,
        certificateNotAfter: certbot?.notAfter,
    };
}
