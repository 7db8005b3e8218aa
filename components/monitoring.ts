/**
 * Monitoring: a Prometheus container that scrapes the registry's metrics and itself, and the same
 * scrape job as an output for users who run their own Prometheus.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerLogging } from "../primitives/logging";
import { z } from "zod";
import {
    PROMETHEUS_CONFIG_PATH,
    PROMETHEUS_PORT,
    PROMETHEUS_RULES_DIR,
    registryScrapeJob,
    renderPrometheusConfig,
    ScrapeJob,
} from "../renderers/prometheus-config";
import { prometheusDuration } from "../primitives/durations";
import { image } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { ipAddress, port as portNumber } from "../primitives/network";
import { serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { validateArgs } from "./validate";

export interface MonitoringArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** Docker network shared with the registry. Required. */
    networkName: pulumi.Input<string>;
    /** `host:port` addresses of registry debug servers to scrape; an empty list adds no registry job. Required. */
    registryTargets: pulumi.Input<pulumi.Input<string>[]>;
    /** More scrape jobs, e.g. gitlabScrapeJobs(...) or harborScrapeJobs(...). Default: []. */
    extraJobs?: pulumi.Input<ScrapeJob[]>;
    /** Prometheus image. Default: prom/prometheus:v2.55.1. */
    image?: pulumi.Input<string>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** Host address Prometheus is published on. Default: 127.0.0.1. */
    hostIp?: pulumi.Input<string>;
    /** Host port of Prometheus. Default: 9090. */
    port?: pulumi.Input<number>;
    /** How long samples are kept. Default: 15d. */
    retentionTime?: pulumi.Input<string>;
    /** Upper bound of the TSDB size, e.g. 10GB. Default: none. */
    retentionSize?: pulumi.Input<string>;
    /** Scrape and rule evaluation interval. Default: 30s. */
    scrapeInterval?: pulumi.Input<string>;
    /** Extra /etc/hosts entries of the container (`extra_hosts`), e.g. host.docker.internal → host-gateway. Default: none. */
    extraHosts?: pulumi.Input<pulumi.Input<docker.types.input.ContainerHost>[]>;
    /** Alert rule files (Prometheus rule-file YAML) by file name, e.g. `{ "maintenance.yml": ... }`. Default: none. */
    alertRules?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** `host:port` of Alertmanagers Prometheus sends firing alerts to, e.g. `alertmanager:9093`. Default: none. */
    alertmanagers?: pulumi.Input<pulumi.Input<string>[]>;
}

export class Monitoring extends pulumi.ComponentResource {
    /** The Prometheus container. */
    public readonly container: docker.Container;
    /** The registry scrape job, to paste under `scrape_configs` of another Prometheus. */
    public readonly registryScrapeJob: pulumi.Output<ScrapeJob>;
    /** The rendered prometheus.yml. */
    public readonly prometheusYaml: pulumi.Output<string>;
    /** `http://<hostIp>:<port>`. */
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:monitoring:Monitoring", name, {}, opts);
        validateArgs("Monitoring", name, args, {
            logging: containerLogging,
            image,
            containerName: dockerName,
            hostIp: ipAddress,
            port: portNumber,
            retentionTime: prometheusDuration,
            retentionSize: z.string().regex(/^\d+(B|KB|MB|GB|TB|PB)$/, { message: "a size such as 512MB or 10GB" }),
            scrapeInterval: prometheusDuration,
            registryTargets: z.array(z.string().regex(/^[a-z0-9.-]+:\d+$/i, { message: "host:port" })),
            alertmanagers: z.array(z.string().regex(/^[a-z0-9.-]+:\d+$/i, { message: "host:port" })),
        });
        const port = pulumi.output(args.port ?? PROMETHEUS_PORT);
        const hostIp = pulumi.output(args.hostIp ?? "127.0.0.1");
        const ruleFiles = pulumi.output(args.alertRules ?? {}).apply((rules) => {
            for (const f of Object.keys(rules)) {
                if (!/^[A-Za-z0-9._-]+\.ya?ml$/.test(f))
                    throw new Error(
                        `Monitoring "${name}": invalid arguments:\nargs.alertRules: got a file named ${JSON.stringify(f)}; allowed: names such as maintenance.yml`,
                    );
            }
            return rules as Record<string, string>;
        });
        this.registryScrapeJob = pulumi.output(args.registryTargets).apply((targets) => registryScrapeJob(targets));
        this.prometheusYaml = pulumi
            .all([this.registryScrapeJob, args.extraJobs ?? [], args.scrapeInterval ?? "30s", ruleFiles, args.alertmanagers ?? []])
            .apply(([job, extra, scrapeInterval, rules, alertmanagers]) =>
                renderPrometheusConfig({
                    scrapeInterval,
                    jobs: [...(job.static_configs![0].targets.length ? [job] : []), ...(extra as ScrapeJob[])],
                    ruleFiles: Object.keys(rules).map((f) => `${PROMETHEUS_RULES_DIR}/${f}`),
                    alertmanagers,
                }),
            );

        const data = new docker.Volume(`${name}-data`, { name: `${name}-data` }, { parent: this });
        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "prom/prometheus:v2.55.1", keepLocally: true }, { parent: this });
        const command = pulumi
            .all([args.retentionTime ?? "15d", args.retentionSize])
            .apply(([time, size]) => [
                `--config.file=${PROMETHEUS_CONFIG_PATH}`,
                "--storage.tsdb.path=/prometheus",
                `--storage.tsdb.retention.time=${time}`,
                ...(size ? [`--storage.tsdb.retention.size=${size}`] : []),
                "--web.enable-lifecycle",
            ]);

        this.container = new docker.Container(
            name,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                command,
                uploads: pulumi
                    .all([this.prometheusYaml, ruleFiles])
                    .apply(([yaml, rules]) => [
                        { file: PROMETHEUS_CONFIG_PATH, content: yaml, permissions: "0644" },
                        ...Object.entries(rules).map(([f, content]) => ({ file: `${PROMETHEUS_RULES_DIR}/${f}`, content, permissions: "0644" })),
                    ]),
                volumes: [{ volumeName: data.name, containerPath: "/prometheus" }],
                ports: [{ internal: PROMETHEUS_PORT, external: port, ip: hostIp }],
                networksAdvanced: [{ name: args.networkName, aliases: ["prometheus"] }],
                ...(args.extraHosts ? { hosts: args.extraHosts } : {}),
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "prometheus",
                    configText: pulumi
                        .all([this.prometheusYaml, ruleFiles])
                        .apply(([yaml, rules]) => (Object.keys(rules).length ? yaml + JSON.stringify(rules) : yaml)),
                    healthTest: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${PROMETHEUS_PORT}/-/healthy`],
                    // Prometheus writes its head block and WAL on SIGTERM.
                    stopGraceSeconds: 30,
                }),
            },
            { parent: this, deleteBeforeReplace: true },
        );

        this.url = pulumi.interpolate`http://${hostIp}:${port}`;
        this.registerOutputs({ registryScrapeJob: this.registryScrapeJob, prometheusYaml: this.prometheusYaml, url: this.url });
    }
}
