// registry-kit's public API: import components, renderers and topologies from the package root.
export * from "./components/acme-certbot";
export * from "./components/certificates";
export * from "./components/htpasswd";
export * from "./components/monitoring";
export * from "./components/registry";
export * from "./components/tls-proxy";
export { renderHtpasswd, bcryptSalt } from "./renderers/htpasswd";
export { renderNginxConf, NginxConfInput } from "./renderers/nginx-conf";
export { prometheusConfig, renderPrometheusConfig, registryScrapeJob, ScrapeJob } from "./renderers/prometheus-config";
export { registryConfig, renderRegistryConfig, RegistryConfigInput, RegistryDialect, DIALECTS } from "./renderers/registry-config";
export { runTopology } from "./stacks";
export { loadSettings, parseSettings, ConfigError } from "./stacks/config";
export { Settings, settingsSchema, inferDialect } from "./stacks/schema";
export { smallTeam, SmallTeamOutputs } from "./stacks/small-team";
