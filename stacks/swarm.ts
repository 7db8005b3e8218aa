/**
 * small-team on Docker Swarm (`docker.mode: swarm`): the registry replicated over the nodes on S3 (or
 * one pinned node's volume), the TLS proxy published in host mode or through the routing mesh,
 * Prometheus finding every task through Docker's DNS, Redis for the replicas: all Swarm services on an
 * overlay network, their files Swarm configs and secrets. Same outputs as the standalone small-team.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { Storage } from "../components/storage";
import { SwarmMonitoring } from "../components/swarm-monitoring";
import { SwarmProxy } from "../components/swarm-proxy";
import { SwarmRedis } from "../components/swarm-redis";
import { SwarmRegistry } from "../components/swarm-registry";
import { firstHostAddress } from "../primitives/network";
import { swarmTasksScrapeJob } from "../renderers/prometheus-config";
import { REGISTRY_DEBUG_PORT } from "../renderers/registry-config";
import { PROXY_METRICS_PORT, renderGrafanaDashboard, renderRegistryAlertRules } from "../renderers/registry-alerts";
import { certificateNote, certificatesFromSettings, htpasswdFromSettings, clientOutputs, proxyBasicAuth, storageArgs } from "./common";
import { Settings } from "./schema";

/** The same outputs as SmallTeamOutputs (stacks/small-team.ts checks it), those of single-host features undefined or empty. */
export function smallTeamSwarm(settings: Settings, opts: pulumi.ComponentResourceOptions) {
    const prefix = settings.docker.namePrefix ?? `rk-${pulumi.getStack()}`;
    const sw = settings.docker.swarm;
    const reg = settings.registry;
    const provider = settings.docker.host ? new docker.Provider(`${prefix}-docker`, { host: settings.docker.host }) : undefined;
    const childOpts = pulumi.mergeOptions(opts, provider ? { providers: [provider] } : {});
    // Attachable: a container outside the stack (a client, a debugging shell) can join it.
    const network = new docker.Network(
        `${prefix}-net`,
        {
            name: `${prefix}-net`,
            driver: "overlay",
            attachable: true,
            labels: [{ label: "registry-kit.stack", value: prefix }],
            ...(settings.docker.subnet ? { ipamConfigs: [{ subnet: settings.docker.subnet, gateway: firstHostAddress(settings.docker.subnet) }] } : {}),
        },
        pulumi.mergeOptions(opts, provider ? { provider } : {}),
    );
    const certs = certificatesFromSettings(settings, prefix, opts);
    // The proxy checks the users (as small-team's does): the registry knows each by a derived login too.
    const htpasswd = htpasswdFromSettings(settings, prefix, opts, true);

    // S3 (created or yours) is reached by every node; filesystem storage is one pinned node's volume.
    const storage =
        reg.storage.type === "s3"
            ? new Storage(
                  `${prefix}-storage`,
                  { kind: "s3", networkName: network.id, ...storageArgs(settings, prefix), logging: settings.docker.logging },
                  childOpts,
              )
            : undefined;
    const redis = reg.redis.address
        ? { address: pulumi.output(reg.redis.address), password: reg.redis.password === undefined ? undefined : pulumi.secret(reg.redis.password) }
        : reg.replicas > 1
          ? new SwarmRedis(
                `${prefix}-redis`,
                { networkName: network.id, image: reg.redis.image, placement: sw.redis, logging: settings.docker.logging, healthInterval: sw.healthInterval },
                childOpts,
            )
          : undefined;
    const registry = new SwarmRegistry(
        `${prefix}-registry`,
        {
            networkName: network.id,
            image: reg.image,
            dialect: reg.dialect,
            s3: storage?.s3,
            volumeName: reg.storage.filesystem.volumeName,
            replicas: reg.replicas,
            redisAddress: redis?.address,
            redisPassword: redis?.password,
            htpasswd: htpasswd.content,
            deleteEnabled: reg.deleteEnabled,
            uploadPurging: reg.uploadPurging,
            logLevel: reg.logLevel,
            extraConfig: reg.extraConfig,
            placement: { constraints: sw.registry.constraints, spread: [sw.registry.spread], maxReplicasPerNode: sw.registry.maxReplicasPerNode },
            update: sw.registry.update,
            convergeTimeout: sw.convergeTimeout,
            healthInterval: sw.healthInterval,
            logging: settings.docker.logging,
        },
        childOpts,
    );
    const proxy = new SwarmProxy(
        `${prefix}-proxy`,
        {
            networkName: network.id,
            hostname: settings.hostname,
            upstream: registry.address,
            certificatePem: certs.certificatePem,
            privateKeyPem: certs.privateKeyPem,
            image: settings.proxy.image,
            httpsPort: settings.proxy.httpsPort,
            httpPort: settings.proxy.httpPort,
            publishMode: sw.proxy.publishMode,
            replicas: sw.proxy.replicas,
            allowCidrs: settings.proxy.allowCidrs,
            hstsMaxAge: settings.proxy.hstsMaxAge,
            metrics: settings.monitoring.enabled,
            placement: sw.proxy,
            update: sw.proxy.update,
            convergeTimeout: sw.convergeTimeout,
            healthInterval: sw.healthInterval,
            logging: settings.docker.logging,
            basicAuth: proxyBasicAuth(settings, htpasswd),
        },
        pulumi.mergeOptions(childOpts, { dependsOn: [registry] }),
    );
    const mon = settings.monitoring;
    // Published only when asked for every address: Swarm cannot bind one host address.
    const publishPrometheus = mon.hostIp === "0.0.0.0";
    const monitoring = mon.enabled
        ? new SwarmMonitoring(
              `${prefix}-prometheus`,
              {
                  networkName: network.id,
                  jobs: pulumi
                      .all([registry.metricsDnsName, proxy.service.name])
                      .apply(([registryTasks, proxyService]) => [
                          swarmTasksScrapeJob("registry", registryTasks, REGISTRY_DEBUG_PORT),
                          swarmTasksScrapeJob("proxy", `tasks.${proxyService}`, PROXY_METRICS_PORT),
                      ]),
                  alertRules: { "registry.yml": renderRegistryAlertRules() },
                  image: mon.image,
                  publishPort: publishPrometheus ? mon.port : undefined,
                  scrapeInterval: mon.scrapeInterval,
                  retentionTime: mon.retentionTime,
                  placement: sw.prometheus,
                  convergeTimeout: sw.convergeTimeout,
                  healthInterval: sw.healthInterval,
                  logging: settings.docker.logging,
              },
              childOpts,
          )
        : undefined;

    return {
        ...clientOutputs(settings, certs, htpasswd),
        alertmanagerUrl: undefined,
        prometheusUrl: monitoring && publishPrometheus ? pulumi.output(`http://<any node>:${mon.port}`) : undefined,
        registryScrapeJob: registry.metricsDnsName.apply((n) => swarmTasksScrapeJob("registry", n, REGISTRY_DEBUG_PORT)),
        adminUser: htpasswd.adminUser,
        adminPassword: htpasswd.adminPassword,
        dataVolume: registry.volumeName,
        certificate: pulumi.output(certificateNote(settings)),
        certificateIssuer: undefined,
        certificateNotAfter: undefined,
        maintenanceRunCommand: undefined,
        backupVolume: undefined,
        grafanaDashboard: pulumi.output(renderGrafanaDashboard()),
        mirrors: pulumi.output({}) as pulumi.Output<Record<string, unknown>>,
        mirrorDockerDaemonJson: pulumi.output(""),
        mirrorContainerdHosts: pulumi.output<Record<string, string>>({}),
    };
}
