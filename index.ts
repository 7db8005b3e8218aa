// registry-kit's public API: import components, renderers and topologies from the package root.
export * from "./components/acme-certbot";
export * from "./components/certificates";
export * from "./components/harbor-installer";
export * from "./components/htpasswd";
export * from "./components/minio";
export * from "./components/monitoring";
export * from "./components/redis";
export * from "./components/s3-bucket";
export * from "./components/storage";
export * from "./components/registry";
export * from "./components/tls-proxy";
export * from "./components/gitlab";
export * from "./components/token-signing-key";
export { renderHarborYml, HarborYmlInput, harborInstallerUrl, HARBOR_DEFAULT_VERSION, HARBOR_STORAGE_DRIVERS } from "./renderers/harbor-yml";
export { harborCommand, harborPaths, harborStdin } from "./renderers/harbor-scripts";
export { renderHtpasswd, bcryptSalt } from "./renderers/htpasswd";
export { renderNginxConf, NginxConfInput } from "./renderers/nginx-conf";
export { prometheusConfig, renderPrometheusConfig, registryScrapeJob, harborScrapeJobs, ScrapeJob } from "./renderers/prometheus-config";
export {
    registryConfig,
    renderRegistryConfig,
    RegistryConfigInput,
    RegistryDialect,
    DIALECTS,
    StorageDriver,
    notificationEndpointsYaml,
    NOTIFICATIONS_ENV,
} from "./renderers/registry-config";
export { renderGitlabRb, gitlabScrapeJobs, GitlabRbInput, GITLAB_ENV } from "./renderers/gitlab-rb";
export { registryS3Policy } from "./renderers/s3-policy";
export { issuerJwks, libtrustKeyId, tokenAuthSection } from "./renderers/token-auth";
export { runTopology } from "./stacks";
export { loadSettings, parseSettings, ConfigError } from "./stacks/config";
export { Settings, settingsSchema, inferDialect } from "./stacks/schema";
export { smallTeam, SmallTeamOutputs } from "./stacks/small-team";
export { gitlabTopology, GitlabOutputs } from "./stacks/gitlab";
export { harbor, HarborOutputs } from "./stacks/harbor";
