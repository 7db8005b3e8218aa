/**
 * prometheus.yml as a typed object. Pure: no Pulumi, no I/O.
 */
import { stringify } from "yaml";
import { VOLUME_JOB } from "./registry-alerts";

export const PROMETHEUS_CONFIG_PATH = "/etc/prometheus/prometheus.yml";
export const PROMETHEUS_PORT = 9090;
export const PROMETHEUS_RULES_DIR = "/etc/prometheus/rules";

/** One Prometheus scrape job, as it appears under `scrape_configs`. */
export interface ScrapeJob {
    job_name: string;
    metrics_path: string;
    scheme: "http" | "https";
    /** URL parameters of every scrape, e.g. Harbor's `comp`. */
    params?: Record<string, string[]>;
    static_configs?: { targets: string[]; labels?: Record<string, string> }[];
    /** Targets from DNS: every record of `type` (A for Swarm's `tasks.<service>`) of each name, on `port`. */
    dns_sd_configs?: DnsSdConfig[];
}

/** Prometheus's `dns_sd_configs` entry. */
export interface DnsSdConfig {
    /** DNS names to query. */
    names: string[];
    /** Record type: A for Swarm's `tasks.<service>`. */
    type: string;
    /** Port scraped on each address. */
    port: number;
    /** How often the names are queried again. Default: Prometheus's 30s. */
    refresh_interval?: string;
}

/** A job scraping every task of a Swarm service, found through Docker's DNS (`tasks.<service>` has one A record per task). */
export function swarmTasksScrapeJob(jobName: string, dnsName: string, port: number): ScrapeJob {
    return { job_name: jobName, metrics_path: "/metrics", scheme: "http", dns_sd_configs: [{ names: [dnsName], type: "A", port, refresh_interval: "15s" }] };
}

/** The scrape job for a registry's debug server (`http.debug` with prometheus enabled). */
export function registryScrapeJob(targets: string[], labels: Record<string, string> = {}): ScrapeJob {
    return {
        job_name: "registry",
        metrics_path: "/metrics",
        scheme: "http",
        static_configs: [{ targets: [...targets], ...(Object.keys(labels).length ? { labels } : {}) }],
    };
}

/**
 * Harbor's four metrics endpoints, all behind its proxy's metrics port: the exporter at the metrics path,
 * core, registry and job service at the same path with `?comp=<component>` (Harbor docs, "Access Metrics").
 */
export function harborScrapeJobs(target: string, metricsPath: string): ScrapeJob[] {
    const job = (component: string | undefined): ScrapeJob => ({
        job_name: `harbor-${component ?? "exporter"}`,
        metrics_path: metricsPath,
        scheme: "http",
        ...(component ? { params: { comp: [component] } } : {}),
        static_configs: [{ targets: [target] }],
    });
    return [job(undefined), job("core"), job("registry"), job("jobservice")];
}

export interface PrometheusConfigInput {
    scrapeInterval: string;
    /** Jobs besides Prometheus's own. */
    jobs: ScrapeJob[];
    /** Labels added to every series when federated or remote-written. */
    externalLabels?: Record<string, string>;
    /** Alert rule files to load. Default: none. */
    ruleFiles?: string[];
    /** `host:port` of Alertmanagers that firing alerts are sent to. Default: none. */
    alertmanagers?: string[];
}

export function prometheusConfig(input: PrometheusConfigInput): Record<string, unknown> {
    const self: ScrapeJob = {
        job_name: "prometheus",
        metrics_path: "/metrics",
        scheme: "http",
        static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }],
    };
    return {
        global: {
            scrape_interval: input.scrapeInterval,
            evaluation_interval: input.scrapeInterval,
            ...(input.externalLabels && Object.keys(input.externalLabels).length ? { external_labels: input.externalLabels } : {}),
        },
        ...(input.alertmanagers && input.alertmanagers.length
            ? { alerting: { alertmanagers: [{ scheme: "http", static_configs: [{ targets: [...input.alertmanagers] }] }] } }
            : {}),
        ...(input.ruleFiles && input.ruleFiles.length ? { rule_files: input.ruleFiles } : {}),
        scrape_configs: [self, ...input.jobs],
    };
}

export function renderPrometheusConfig(input: PrometheusConfigInput): string {
    return stringify(prometheusConfig(input), { lineWidth: 0 });
}

/** One job for the pull-through mirrors: each mirror's debug server, labelled `mirror="<name>"`. */
export function mirrorScrapeJob(mirrors: { name: string; targets: string[] }[]): ScrapeJob {
    return {
        job_name: "registry-mirror",
        metrics_path: "/metrics",
        scheme: "http",
        static_configs: mirrors.map((m) => ({ targets: [...m.targets], labels: { mirror: m.name } })),
    };
}

/** The job for the volume exporter (node exporter, filesystem collector only), which the volume alert rules select. */
export function volumeScrapeJob(target: string): ScrapeJob {
    return { job_name: VOLUME_JOB, metrics_path: "/metrics", scheme: "http", static_configs: [{ targets: [target] }] };
}
