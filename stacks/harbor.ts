/**
 * harbor: Harbor from its offline installer on one host (over SSH, or this machine), with the TLS
 * certificate from Certificates, images on the filesystem (data_volume) or S3 (Storage), and
 * Prometheus scraping Harbor's exporter, core, registry and job service.
 */
import * as pulumi from "@pulumi/pulumi";
import { HARBOR_LOCAL_SCRAPE_HOST, HarborInstaller } from "../components/harbor-installer";
import { Storage } from "../components/storage";
import { ScrapeJob } from "../renderers/prometheus-config";
import { acmeCertbotSettings, certificatesFromSettings, monitoringFromSettings, s3StorageArgs, stackTarget, storageArgs } from "./common";
import { minioEndpointPort, Settings } from "./schema";
import { clientSetupText, registryHost } from "./small-team";

export interface HarborOutputs {
    harborUrl: pulumi.Output<string>;
    registryHost: pulumi.Output<string>;
    adminUser: pulumi.Output<string>;
    adminPassword: pulumi.Output<string>;
    /** The database password (secret): save it before a destroy, the database in data_volume keeps it. */
    databasePassword: pulumi.Output<string>;
    /** The CA to trust, when the certificate is self-signed. */
    caCertificate: pulumi.Output<string> | undefined;
    clientSetup: pulumi.Output<string>;
    dataVolume: pulumi.Output<string>;
    installDir: pulumi.Output<string>;
    prometheusUrl: pulumi.Output<string> | undefined;
    harborScrapeJobs: pulumi.Output<ScrapeJob[]>;
}

export function harbor(settings: Settings, opts: pulumi.ComponentResourceOptions = {}): HarborOutputs {
    const prefix = settings.docker.namePrefix ?? `rk-${pulumi.getStack()}`;
    const h = settings.harbor;

    const certs = certificatesFromSettings(settings, prefix, opts);
    const st = settings.registry.storage;
    // Containers of ours (Prometheus, MinIO) run on this machine's Docker or docker.host, on one network.
    const target = settings.monitoring.enabled || st.type === "minio" ? stackTarget(settings, opts) : undefined;
    const storage =
        st.type === "s3"
            ? new Storage(`${prefix}-storage`, { ...s3StorageArgs(settings), kind: "s3", bucket: st.s3.bucket ?? `${prefix}-registry` }, opts)
            : st.type === "minio" && target
              ? // Harbor's registry runs in Harbor's compose network: it reaches MinIO at minio.endpoint, where MinIO's port is published.
                new Storage(
                    `${prefix}-storage`,
                    {
                        ...storageArgs(settings, prefix),
                        kind: "minio",
                        networkName: target.network.name,
                        minioEndpoint: st.minio.endpoint,
                        minioPublishPort: st.minio.hostPort ?? minioEndpointPort(st.minio.endpoint!),
                    },
                    target.childOpts,
                )
              : undefined;

    // tls.mode acme: certbot on Harbor's host, HTTP-01 through Harbor's own proxy; Certificates' self-signed one bootstraps.
    const acme = settings.tls.mode === "acme" ? settings.tls.acme : undefined;
    const ssh = h.ssh;
    // Where Prometheus reaches Harbor's metrics port, resolved in its container (Docker's DNS, not /etc/hosts):
    // the SSH host; the Docker host through host-gateway when both run here; else the hostname clients use.
    const localHarborLocalPrometheus = !ssh && !settings.docker.host;
    const scrapeHost = ssh ? ssh.host : localHarborLocalPrometheus ? HARBOR_LOCAL_SCRAPE_HOST : settings.hostname;
    const installer = new HarborInstaller(
        `${prefix}-harbor`,
        {
            connection: ssh && {
                host: ssh.host,
                port: ssh.port,
                user: ssh.user,
                privateKey: ssh.privateKey === undefined ? undefined : pulumi.secret(ssh.privateKey),
                password: ssh.password === undefined ? undefined : pulumi.secret(ssh.password),
            },
            version: h.version,
            installerUrl: h.installerUrl,
            installerSha256: h.installerSha256!,
            hostname: settings.hostname,
            installDir: h.installDir,
            dataVolume: h.dataVolume,
            httpPort: h.httpPort,
            httpsPort: h.httpsPort,
            certificatePem: certs.certificatePem,
            privateKeyPem: certs.privateKeyPem,
            acme: acme && {
                ...acmeCertbotSettings(acme),
                domains: [settings.hostname, ...settings.tls.extraSans.filter((n) => n !== settings.hostname)],
                containerName: `${prefix}-certbot`,
            },
            strongSslCiphers: h.strongSslCiphers,
            externalUrl: h.externalUrl,
            adminPassword: h.adminPassword === undefined ? undefined : pulumi.secret(h.adminPassword),
            databasePassword: h.databasePassword === undefined ? undefined : pulumi.secret(h.databasePassword),
            s3: storage?.s3,
            trivy: h.trivy,
            jobservice: h.jobservice,
            log: h.log,
            proxy: h.proxy,
            metrics: { ...h.metrics, scrapeHost },
            uploadPurging: h.uploadPurging,
        },
        // MinIO's bucket and user exist before Harbor starts.
        st.type === "minio" && storage ? pulumi.mergeOptions(opts, { dependsOn: [storage] }) : opts,
    );

    // Prometheus only: Harbor runs its own compose project, not on this network.
    const monitoring = settings.monitoring.enabled
        ? monitoringFromSettings(
              settings,
              target!,
              [],
              installer.scrapeJobs,
              localHarborLocalPrometheus ? [{ host: HARBOR_LOCAL_SCRAPE_HOST, ip: "host-gateway" }] : undefined,
          )
        : undefined;

    const host = registryHost(settings.hostname, h.httpsPort);
    const selfSigned = settings.tls.mode === "self-signed";
    return {
        harborUrl: installer.url,
        registryHost: pulumi.output(host),
        adminUser: installer.adminUser,
        adminPassword: installer.adminPassword,
        databasePassword: installer.databasePassword,
        caCertificate: selfSigned ? certs.caCertificatePem : undefined,
        clientSetup: pulumi.output(clientSetupText(host, selfSigned)),
        dataVolume: pulumi.output(installer.dataVolume),
        installDir: pulumi.output(installer.installDir),
        prometheusUrl: monitoring?.url,
        harborScrapeJobs: installer.scrapeJobs,
    };
}
