/**
 * gitlab: GitLab CE and registry-kit's registry on one Docker host, GitLab issuing the registry's
 * tokens and receiving its notifications, both behind one TLS proxy (two virtual hosts), with
 * Prometheus scraping the registry and GitLab.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Certificates } from "../components/certificates";
import { Gitlab } from "../components/gitlab";
import { TokenSigningKey } from "../components/token-signing-key";
import { GITLAB_EVENTS_PATH, GITLAB_HTTP_PORT, gitlabScrapeJobs } from "../renderers/gitlab-rb";
import { REGISTRY_PORT } from "../renderers/registry-config";
import {
    acmeCertbot,
    certificateNote,
    certificatesFromSettings,
    maintenanceControlVolume,
    maintenanceFromSettings,
    registryMonitoring,
    alertmanagerFromSettings,
    monitoringFromSettings,
    networkSubnets,
    proxyFromSettings,
    registryFromSettings,
    stackTarget,
} from "./common";
import { gitlabEndpoint, Settings } from "./schema";
import { registryHost } from "./small-team";

/** GitLab's and the registry's aliases on the stack's network. */
const GITLAB_ALIAS = "gitlab";
const REGISTRY_ALIAS = "registry";

export interface GitlabOutputs {
    gitlabUrl: pulumi.Output<string>;
    registryUrl: pulumi.Output<string>;
    registryHost: pulumi.Output<string>;
    rootUser: pulumi.Output<string>;
    rootPassword: pulumi.Output<string>;
    caCertificate: pulumi.Output<string>;
    tokenIssuer: pulumi.Output<string>;
    tokenKeyId: pulumi.Output<string>;
    tokenCertificate: pulumi.Output<string>;
    gitlabRb: pulumi.Output<string>;
    gitlabVolumes: pulumi.Output<string[]>;
    dataVolume: pulumi.Output<string> | undefined;
    prometheusUrl: pulumi.Output<string> | undefined;
    /** Alertmanager's UI and API (`monitoring.alertmanager.enabled`). */
    alertmanagerUrl: pulumi.Output<string> | undefined;
    certificate: pulumi.Output<string>;
    certificateIssuer: pulumi.Output<string> | undefined;
    certificateNotAfter: pulumi.Output<string> | undefined;
}

export function gitlabTopology(settings: Settings, opts: pulumi.ComponentResourceOptions = {}): GitlabOutputs {
    const endpoint = gitlabEndpoint(settings.gitlab.externalUrl);
    // The schema refuses the stack before this point; a library caller gets the same reason.
    if (!endpoint) throw new Error('gitlab topology: registry-kit:gitlab.externalUrl must be an https:// URL such as "https://gitlab.example.com"');
    const target = stackTarget(settings, opts);
    const { prefix, childOpts, network } = target;
    const g = settings.gitlab;
    const subnets = networkSubnets(network);

    // One key pair for both sides: GitLab signs with the key, the registry trusts its certificate.
    const signingKey = new TokenSigningKey(`${prefix}-token-key`, { commonName: "gitlab registry token issuer" }, opts);
    const notificationSecret = new random.RandomPassword(`${prefix}-registry-notification-secret`, { length: 48, special: false }, opts);
    // GitLab recommends a secret that starts with a letter.
    const notificationValue = pulumi.secret(pulumi.interpolate`rk${notificationSecret.result}`);
    // 64 characters: GitLab skips its word checks at that length, and no breached-password list has it.
    const rootPassword =
        g.rootPassword !== undefined
            ? pulumi.secret(g.rootPassword)
            : pulumi.secret(new random.RandomPassword(`${prefix}-gitlab-root-password`, { length: 64, special: false }, opts).result);

    const acme = settings.tls.mode === "acme" ? settings.tls.acme : undefined;
    // ACME: one certificate names both hosts; the bootstrap one does too.
    const certs = certificatesFromSettings(settings, prefix, opts, acme ? [...settings.tls.extraSans, endpoint.hostname] : settings.tls.extraSans);
    // Self-signed: GitLab's own certificate from the same CA, so clients trust one CA for both hosts.
    const gitlabCerts =
        settings.tls.mode === "self-signed"
            ? new Certificates(
                  `${prefix}-gitlab-tls`,
                  { mode: "self-signed", hostname: endpoint.hostname, validityDays: settings.tls.validityDays, ca: certs.ca },
                  opts,
              )
            : settings.tls.mode === "provided" && g.certificate !== undefined
              ? { certificatePem: pulumi.output(g.certificate), privateKeyPem: pulumi.secret(g.privateKey!) }
              : undefined;

    const control = maintenanceControlVolume(settings, target);
    const deployment = registryFromSettings(
        settings,
        target,
        {
            alias: REGISTRY_ALIAS,
            tokenAuth: { realm: `${endpoint.url}/jwt/auth`, issuer: g.registryIssuer, certificatePem: signingKey.certificatePem },
            notifications: g.notifications
                ? [{ name: "gitlab", url: `http://${GITLAB_ALIAS}:${GITLAB_HTTP_PORT}${GITLAB_EVENTS_PATH}`, secret: notificationValue }]
                : [],
        },
        control,
    );
    const registry = deployment.registry;

    const gitlab = new Gitlab(
        `${prefix}-gitlab`,
        {
            networkName: network.name,
            logging: settings.docker.logging,
            alias: GITLAB_ALIAS,
            externalUrl: endpoint.url,
            registryHost: settings.hostname,
            registryPort: settings.proxy.httpsPort,
            registryApiUrl: `http://${REGISTRY_ALIAS}:${REGISTRY_PORT}`,
            registryIssuer: g.registryIssuer,
            tokenKeyPem: signingKey.privateKeyPem,
            notificationSecret: notificationValue,
            rootPassword,
            rootEmail: g.rootEmail,
            trustedCidrs: subnets,
            image: g.image,
            sshHostIp: settings.proxy.hostIp,
            sshPort: g.sshPort,
            shmSizeMb: g.shmSizeMb,
            startTimeoutSeconds: g.startTimeoutSeconds,
            retainOnDelete: g.retainOnDelete,
            extraConfig: g.extraConfig,
        },
        childOpts,
    );

    const proxy = proxyFromSettings(
        settings,
        target,
        registry,
        certs,
        {
            hostname: endpoint.hostname,
            upstream: gitlab.address,
            httpsPort: endpoint.port,
            certificatePem: gitlabCerts?.certificatePem,
            privateKeyPem: gitlabCerts?.privateKeyPem,
        },
        control,
        undefined,
        // Token auth: the access log records whose token each request carried (its `sub`, never the token).
        { logTokenSubject: true },
    );
    const certbot = acmeCertbot(settings, target, proxy, [settings.hostname, endpoint.hostname, ...settings.tls.extraSans]);

    // GitLab's cleanup policies delete tags; this job collects the garbage they leave.
    const maintenance = maintenanceFromSettings(settings, target, deployment, control);
    const watch = registryMonitoring(settings, target, deployment, maintenance);
    const alertmanager = alertmanagerFromSettings(settings, target);
    const monitoring = monitoringFromSettings(
        settings,
        target,
        registry.metricsAddresses,
        [...gitlabScrapeJobs(GITLAB_ALIAS), ...watch.jobs],
        undefined,
        watch.alertRules,
        alertmanager && [alertmanager.address],
    );

    const host = registryHost(settings.hostname, settings.proxy.httpsPort);
    return {
        gitlabUrl: pulumi.output(endpoint.url),
        registryUrl: pulumi.output(`https://${host}`),
        registryHost: pulumi.output(host),
        rootUser: pulumi.output("root"),
        rootPassword,
        caCertificate: certs.caCertificatePem,
        tokenIssuer: pulumi.output(g.registryIssuer),
        tokenKeyId: signingKey.keyId,
        tokenCertificate: signingKey.certificatePem,
        gitlabRb: gitlab.gitlabRb,
        gitlabVolumes: pulumi.all(gitlab.volumeNames),
        dataVolume: registry.volumeName,
        prometheusUrl: monitoring?.url,
        alertmanagerUrl: alertmanager?.url,
        certificate: pulumi.output(certificateNote(settings)),
        certificateIssuer: certbot?.issuer,
        certificateNotAfter: certbot?.notAfter,
    };
}
