/**
 * gitlab.rb for GITLAB_OMNIBUS_CONFIG, from templates/gitlab.rb.mustache, and the Prometheus jobs for
 * GitLab's metrics endpoints. Pure: no Pulumi, no I/O. Secrets are referenced by environment
 * variable name only, so the text can be printed and diffed.
 */
import { isCidr, isHostname } from "../primitives/network";
import { ScrapeJob } from "./prometheus-config";
import { renderTemplate } from "./template";

/** Environment variables of the GitLab container that carry secrets. */
export const GITLAB_ENV = {
    omnibusConfig: "GITLAB_OMNIBUS_CONFIG",
    /** Read by the image itself as the initial root password (it wins over gitlab.rb). */
    rootPassword: "GITLAB_ROOT_PASSWORD",
    rootEmail: "GITLAB_ROOT_EMAIL",
    tokenKey: "RK_REGISTRY_TOKEN_KEY",
    notificationSecret: "RK_REGISTRY_NOTIFICATION_SECRET",
} as const;

/** Where omnibus writes `registry['internal_key']` (its default path). */
export const GITLAB_TOKEN_KEY_PATH = "/var/opt/gitlab/gitlab-rails/etc/gitlab-registry.key";
/** GitLab's nginx on the Docker network. */
export const GITLAB_HTTP_PORT = 80;
/** GitLab's endpoint for registry notifications. */
export const GITLAB_EVENTS_PATH = "/api/v4/container_registry_event/events";

/** Metrics ports GitLab's exporters listen on (omnibus defaults). */
export const GITLAB_METRICS_PORTS = { workhorse: 9229, sidekiq: 8082, exporter: 9168, redis: 9121, postgres: 9187 } as const;

export interface GitlabRbInput {
    /** `https://gitlab.example.com` or `https://gitlab.example.com:8443`. */
    externalUrl: string;
    /** The registry's public host name and HTTPS port, as GitLab shows them (`docker login <host>`). */
    registryHost: string;
    registryPort: number;
    /** URL GitLab calls the registry API on, inside the network: `http://registry:5000`. */
    registryApiUrl: string;
    /** `iss` of GitLab's registry tokens; the registry's `auth.token.issuer`. */
    issuer: string;
    /** Addresses of the proxy (X-Forwarded-For is trusted from them). */
    trustedCidrs: string[];
    /** Addresses allowed to read /-/metrics and the health checks, besides loopback. */
    monitoringCidrs: string[];
    /** Host port of GitLab's SSH, shown in clone URLs; 0 when not published. */
    sshPort: number;
    /** Ruby lines appended as they are. */
    extraConfig?: string;
}

/** A Ruby single-quoted string literal. */
export function rubyString(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function rubyList(values: string[]): string {
    return `[${values.map(rubyString).join(", ")}]`;
}

export function renderGitlabRb(input: GitlabRbInput): string {
    const url = new URL(input.externalUrl);
    if (url.protocol !== "https:" || url.pathname !== "/")
        throw new Error(`gitlab.rb: externalUrl ${JSON.stringify(input.externalUrl)} is not https://<host>[:port]`);
    if (!isHostname(input.registryHost)) throw new Error(`gitlab.rb: registry host ${JSON.stringify(input.registryHost)} is not a DNS name or IP address`);
    for (const c of [...input.trustedCidrs, ...input.monitoringCidrs]) {
        if (!isCidr(c)) throw new Error(`gitlab.rb: ${JSON.stringify(c)} is not an IP address or CIDR block`);
    }
    if (input.trustedCidrs.length === 0) throw new Error("gitlab.rb: no trusted proxy address");
    const view = {
        externalUrl: rubyString(`https://${url.host}`),
        trustedCidrs: rubyList(input.trustedCidrs),
        monitoringCidrs: rubyList(["127.0.0.0/8", "::1/128", ...input.monitoringCidrs]),
        sshPort: input.sshPort > 0 ? String(input.sshPort) : "",
        registryHost: rubyString(input.registryHost),
        registryPort: input.registryPort === 443 ? "" : rubyString(String(input.registryPort)),
        registryApiUrl: rubyString(input.registryApiUrl),
        issuer: rubyString(input.issuer),
        tokenKeyEnv: rubyString(GITLAB_ENV.tokenKey),
        tokenKeyPath: rubyString(GITLAB_TOKEN_KEY_PATH),
        notificationSecretEnv: rubyString(GITLAB_ENV.notificationSecret),
        workhorsePort: String(GITLAB_METRICS_PORTS.workhorse),
        sidekiqPort: String(GITLAB_METRICS_PORTS.sidekiq),
        exporterPort: String(GITLAB_METRICS_PORTS.exporter),
        redisExporterPort: String(GITLAB_METRICS_PORTS.redis),
        postgresExporterPort: String(GITLAB_METRICS_PORTS.postgres),
        extraConfig: input.extraConfig?.trim() ? input.extraConfig.trim() : "",
    };
    return renderTemplate("gitlab.rb", view);
}

/** Prometheus jobs for GitLab's metrics: Rails through its nginx (/-/metrics), Workhorse, Sidekiq and the exporters. */
export function gitlabScrapeJobs(host: string): ScrapeJob[] {
    const job = (name: string, port: number, metricsPath = "/metrics"): ScrapeJob => ({
        job_name: name,
        metrics_path: metricsPath,
        scheme: "http",
        static_configs: [{ targets: [`${host}:${port}`] }],
    });
    return [
        job("gitlab-rails", GITLAB_HTTP_PORT, "/-/metrics"),
        job("gitlab-workhorse", GITLAB_METRICS_PORTS.workhorse),
        job("gitlab-sidekiq", GITLAB_METRICS_PORTS.sidekiq),
        job("gitlab-exporter-database", GITLAB_METRICS_PORTS.exporter, "/database"),
        job("gitlab-exporter-sidekiq", GITLAB_METRICS_PORTS.exporter, "/sidekiq"),
        job("gitlab-redis", GITLAB_METRICS_PORTS.redis),
        job("gitlab-postgres", GITLAB_METRICS_PORTS.postgres),
    ];
}
