/**
 * small-team: one Docker host running the registry behind the Nginx TLS proxy, htpasswd users,
 * filesystem storage and Prometheus, on a network of its own.
 */
import * as pulumi from "@pulumi/pulumi";
import { registryScrapeJob } from "../renderers/prometheus-config";
import { renderGrafanaDashboard } from "../renderers/registry-alerts";
import {
    acmeCertbot,
    certificateNote,
    certificatesFromSettings,
    clientOutputs,
    clientSetupText,
    htpasswdFromSettings,
    proxyBasicAuth,
    maintenanceControlVolume,
    maintenanceFromSettings,
    registryMonitoring,
    alertmanagerFromSettings,
    monitoringFromSettings,
    proxyFromSettings,
    registryFromSettings,
    registryHost,
    stackTarget,
} from "./common";
import { mirrorOutputs, mirrorsFromSettings } from "./mirrors";
import { Settings } from "./schema";
import { smallTeamSwarm } from "./swarm";

export interface SmallTeamOutputs {
    registryUrl: pulumi.Output<string>;
    registryHost: pulumi.Output<string>;
    caCertificate: pulumi.Output<string>;
    dockerLogin: pulumi.Output<string>;
    clientSetup: pulumi.Output<string>;
    prometheusUrl: pulumi.Output<string> | undefined;
    /** Alertmanager's UI and API (`monitoring.alertmanager.enabled`). */
    alertmanagerUrl: pulumi.Output<string> | undefined;
    registryScrapeJob: pulumi.Output<unknown>;
    adminUser: pulumi.Output<string>;
    adminPassword: pulumi.Output<string>;
    dataVolume: pulumi.Output<string> | undefined;
    certificate: pulumi.Output<string>;
    certificateIssuer: pulumi.Output<string> | undefined;
    certificateNotAfter: pulumi.Output<string> | undefined;
    maintenanceRunCommand: pulumi.Output<string> | undefined;
    backupVolume: pulumi.Output<string> | undefined;
    /** A Grafana dashboard (JSON) of the registry's, the proxy's and the maintenance job's metrics. */
    grafanaDashboard: pulumi.Output<string>;
    /** Per mirror: its URL, host, upstream and `docker pull` form. */
    mirrors: pulumi.Output<Record<string, unknown>>;
    /** daemon.json's `registry-mirrors` (Docker Hub mirrors only); empty without one. */
    mirrorDockerDaemonJson: pulumi.Output<string>;
    /** containerd's hosts.toml per upstream (and the CA, self-signed), path → content. */
    mirrorContainerdHosts: pulumi.Output<Record<string, string>>;
}

export { clientSetupText, registryHost };

export function smallTeam(settings: Settings, opts: pulumi.ComponentResourceOptions = {}): SmallTeamOutputs {
    if (settings.docker.mode === "swarm") return smallTeamSwarm(settings, opts);
    const target = stackTarget(settings, opts);
    const { prefix } = target;

    // Names the proxy answers to besides hostname: mirrors' and the catalog page's own.
    const ownNames = [
        ...settings.mirrors.flatMap((m) => (m.hostname ? [m.hostname] : [])),
        ...(settings.catalog.enabled && settings.catalog.hostName ? [settings.catalog.hostName] : []),
    ];
    const certs = certificatesFromSettings(settings, prefix, opts, [...settings.tls.extraSans, ...ownNames.filter((n) => !settings.tls.extraSans.includes(n))]);

    const htpasswd = htpasswdFromSettings(settings, prefix, opts, true);

    const control = maintenanceControlVolume(settings, target);
    const deployment = registryFromSettings(settings, target, { htpasswd: htpasswd.content }, control);
    const registry = deployment.registry;

    // Mirrors get the users' own entries: their sites pass the client's credentials through.
    const mirrors = mirrorsFromSettings(settings, target, deployment, htpasswd.userContent);
    const proxy = proxyFromSettings(settings, target, registry, certs, undefined, control, mirrors, { basicAuth: proxyBasicAuth(settings, htpasswd) });

    const certbot = acmeCertbot(settings, target, proxy, [...new Set([settings.hostname, ...settings.tls.extraSans, ...ownNames])]);

    const maintenance = maintenanceFromSettings(settings, target, deployment, control, {
        username: htpasswd.adminUser,
        password: htpasswd.registryAdminPassword,
    });
    const watch = registryMonitoring(settings, target, deployment, maintenance);
    const scrapeJobs = mirrors.scrapeJobs.apply((jobs) => [...watch.jobs, ...jobs]);
    const alertmanager = alertmanagerFromSettings(settings, target);
    const monitoring = monitoringFromSettings(
        settings,
        target,
        registry.metricsAddresses,
        scrapeJobs,
        undefined,
        watch.alertRules,
        alertmanager && [alertmanager.address],
    );

    const selfSigned = settings.tls.mode === "self-signed";
    return {
        ...clientOutputs(settings, certs, htpasswd),
        prometheusUrl: monitoring?.url,
        alertmanagerUrl: alertmanager?.url,
        registryScrapeJob: registry.metricsAddresses.apply((targets) => registryScrapeJob(targets)),
        adminUser: htpasswd.adminUser,
        adminPassword: htpasswd.adminPassword,
        dataVolume: registry.volumeName,
        certificate: pulumi.output(certificateNote(settings)),
        certificateIssuer: certbot?.issuer,
        certificateNotAfter: certbot?.notAfter,
        maintenanceRunCommand: maintenance?.runCommand,
        backupVolume: deployment.backupVolumeName,
        grafanaDashboard: pulumi.output(renderGrafanaDashboard()),
        ...mirrorOutputs(mirrors, certs.caCertificatePem, selfSigned),
    };
}
