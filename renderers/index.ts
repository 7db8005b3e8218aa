/**
 * The pure renderers (settings → file text): no Pulumi, no I/O beyond reading templates/. Also
 * `registry-kit/renderers` for a user who only wants the text (no @pulumi/* provider is loaded).
 */
export { renderHarborYml, HarborYmlInput, harborInstallerUrl } from "./harbor-yml";
export { HARBOR_DEFAULT_VERSION, HARBOR_STORAGE_DRIVERS } from "../primitives/harbor";
export { RegistryDialect } from "../primitives/registry";
export { harborCommand, harborPaths, harborStdin } from "./harbor-scripts";
export { renderHtpasswd, bcryptSalt } from "./htpasswd";
export { renderCatalogConfig, catalogFiles, CatalogConfigInput, CATALOG_FILES } from "./catalog";
export { renderNginxConf, NginxConfInput, NginxMirrorSite } from "./nginx-conf";
export {
    alertmanagerConfig,
    renderAlertmanagerConfig,
    AlertmanagerConfigInput,
    AlertReceiverInput,
    ALERTMANAGER_CONFIG_PATH,
    ALERTMANAGER_PORT,
} from "./alertmanager-config";
export {
    prometheusConfig,
    renderPrometheusConfig,
    registryScrapeJob,
    harborScrapeJobs,
    mirrorScrapeJob,
    volumeScrapeJob,
    ScrapeJob,
} from "./prometheus-config";
export { containerdHostsFiles, dockerDaemonJson, mirrorPullExample, MirrorClientInput, upstreamNamespace } from "./mirror-clients";
export {
    registryConfig,
    renderRegistryConfig,
    RegistryConfigInput,
    DIALECTS,
    StorageDriver,
    notificationEndpointsYaml,
    NOTIFICATIONS_ENV,
} from "./registry-config";
export { renderGitlabRb, gitlabScrapeJobs, GitlabRbInput, GITLAB_ENV } from "./gitlab-rb";
export { registryS3Policy } from "./s3-policy";
export {
    renderMaintenanceConfig,
    MaintenanceConfigInput,
    RetentionRuleInput,
    retentionRules,
    globToRegex,
    maintenanceAlertRules,
    renderMaintenanceAlertRules,
} from "./maintenance-config";
export { issuerJwks, libtrustKeyId, tokenAuthSection } from "./token-auth";
export {
    registryAlertRules,
    renderRegistryAlertRules,
    RegistryAlertInput,
    grafanaDashboard,
    renderGrafanaDashboard,
    proxyMetricsText,
    PROXY_METRICS_PORT,
    volumeAlertRules,
    renderVolumeAlertRules,
    VolumeAlertInput,
    VOLUME_JOB,
    VOLUME_MOUNT_ROOT,
} from "./registry-alerts";
