/**
 * SwarmMonitoring: Prometheus as a Docker Swarm service, its prometheus.yml and alert rules Swarm
 * configs versioned by content (swarm-common.ts). It finds every registry and proxy task through
 * Docker's DNS (`dns_sd_configs` on `tasks.<service>`), so scaling needs no config change.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { image } from "../primitives/images";
import { containerLogging } from "../primitives/logging";
import { goDuration, prometheusDuration } from "../primitives/durations";
import { port as portNumber } from "../primitives/network";
import { PROMETHEUS_CONFIG_PATH, PROMETHEUS_PORT, PROMETHEUS_RULES_DIR, renderPrometheusConfig, ScrapeJob } from "../renderers/prometheus-config";
import { ContainerLoggingArgs } from "./docker-common";
import {
    configRefs,
    placementSpec,
    RESTART_POLICY,
    serviceHealthcheck,
    serviceLogDriver,
    SwarmPlacementArgs,
    versionedConfig,
    replicatedService,
} from "./swarm-common";
import { validateArgs } from "./validate";

export interface SwarmMonitoringArgs {
    /** Id of the overlay network shared with the registry (the provider reads a service's networks back by id). Required. */
    networkName: pulumi.Input<string>;
    /** Scrape jobs (e.g. swarmTasksScrapeJob for the registry and the proxy). Required. */
    jobs: pulumi.Input<ScrapeJob[]>;
    /** Alert rule files (file name → YAML), loaded from the rules directory. Default: none. */
    alertRules?: pulumi.Input<Record<string, string>>;
    /** Prometheus image (every node pulls it). Default: prom/prometheus:v2.55.1. */
    image?: pulumi.Input<string>;
    /** Service name. Default: the component name. */
    serviceName?: pulumi.Input<string>;
    /** Port published in host mode on the node running Prometheus; undefined publishes nothing. Default: none. */
    publishPort?: pulumi.Input<number>;
    /** Scrape and evaluation interval. Default: 30s. */
    scrapeInterval?: pulumi.Input<string>;
    /** How long samples are kept. Default: 15d. */
    retentionTime?: pulumi.Input<string>;
    /** Local volume of the TSDB on the node running Prometheus (pin it with a constraint to keep history). Default: `<component name>-data`. */
    volumeName?: pulumi.Input<string>;
    /** Placement constraints. Default: none. */
    placement?: Pick<SwarmPlacementArgs, "constraints">;
    /** How long `pulumi up` waits for the service to converge, a Go duration. Default: 5m. */
    convergeTimeout?: pulumi.Input<string>;
    /** Log driver and options of its task. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** How often the health check runs, a Go duration; a new task counts as running from its first healthy check. Default: 10s. */
    healthInterval?: pulumi.Input<string>;
}

export class SwarmMonitoring extends pulumi.ComponentResource {
    /** The service. */
    public readonly service: docker.Service;
    /** The rendered prometheus.yml. */
    public readonly prometheusYaml: pulumi.Output<string>;

    constructor(name: string, args: SwarmMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:swarm:SwarmMonitoring", name, {}, opts);
        validateArgs("SwarmMonitoring", name, args, {
            logging: containerLogging,
            image,
            publishPort: portNumber,
            scrapeInterval: prometheusDuration,
            retentionTime: prometheusDuration,
            healthInterval: goDuration,
        });
        const child = { parent: this };
        const serviceName = pulumi.output(args.serviceName ?? name);
        const rules = pulumi.output(args.alertRules ?? {});
        this.prometheusYaml = pulumi
            .all([args.jobs, args.scrapeInterval ?? "30s", rules])
            .apply(([jobs, scrapeInterval, r]) =>
                renderPrometheusConfig({ scrapeInterval, jobs: jobs as ScrapeJob[], ruleFiles: Object.keys(r).map((f) => `${PROMETHEUS_RULES_DIR}/${f}`) }),
            );
        const main = versionedConfig(`${name}-config`, pulumi.interpolate`${serviceName}-config`, this.prometheusYaml, PROMETHEUS_CONFIG_PATH, child);
        // Rule files are plain-known at construction (they come from renderers), so each gets its own config.
        const ruleFiles = typeof args.alertRules === "object" && !pulumi.Output.isInstance(args.alertRules) ? Object.keys(args.alertRules as object) : [];
        const ruleConfigs = ruleFiles.map((f) =>
            versionedConfig(
                `${name}-rules-${f.replace(/\.ya?ml$/, "")}`,
                pulumi.interpolate`${serviceName}-rules-${f.replace(/\.ya?ml$/, "")}`,
                rules.apply((r) => r[f]),
                `${PROMETHEUS_RULES_DIR}/${f}`,
                child,
            ),
        );
        const volume = pulumi.output(args.volumeName ?? `${name}-data`);
        const command = pulumi
            .output(args.retentionTime ?? "15d")
            .apply((t) => [
                "/bin/prometheus",
                `--config.file=${PROMETHEUS_CONFIG_PATH}`,
                "--storage.tsdb.path=/prometheus",
                `--storage.tsdb.retention.time=${t}`,
                "--web.enable-lifecycle",
            ]);
        this.service = new docker.Service(
            name,
            {
                ...replicatedService(serviceName, "prometheus", 1),
                taskSpec: {
                    containerSpec: {
                        image: args.image ?? "prom/prometheus:v2.55.1",
                        commands: command,
                        configs: configRefs([main, ...ruleConfigs]),
                        mounts: [{ type: "volume", source: volume, target: "/prometheus", readOnly: false }],
                        healthcheck: serviceHealthcheck(["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${PROMETHEUS_PORT}/-/healthy`], {
                            interval: args.healthInterval,
                        }),
                        // Prometheus writes its head block and WAL on SIGTERM.
                        stopGracePeriod: "30s",
                    },
                    networksAdvanceds: [{ id: args.networkName, aliases: ["prometheus"] }],
                    placement: placementSpec(args.placement),
                    restartPolicy: RESTART_POLICY,
                    logDriver: serviceLogDriver(args.logging),
                },
                endpointSpec:
                    args.publishPort === undefined
                        ? { mode: "dnsrr" }
                        : { mode: "dnsrr", ports: [{ targetPort: PROMETHEUS_PORT, publishedPort: args.publishPort, publishMode: "host", protocol: "tcp" }] },
                // One TSDB: the old task stops before the new one opens it.
                updateConfig: { order: "stop-first", parallelism: 1, delay: "0s", monitor: "15s", failureAction: "rollback", maxFailureRatio: "0.0" },
                convergeConfig: { delay: "7s", timeout: args.convergeTimeout ?? "5m" },
            },
            child,
        );
        this.registerOutputs({ prometheusYaml: this.prometheusYaml });
    }
}
