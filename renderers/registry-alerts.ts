/**
 * Prometheus alert rules for the registry and its proxy, and a Grafana dashboard of the same metrics.
 * Pure: no Pulumi, no I/O. Metric names are the ones Distribution's debug server and the proxy's
 * metrics location expose (checked against a real registry in test/e2e/alert-rules.test.ts).
 */
import { stringify } from "yaml";

/** The proxy's own metrics port on the Docker network (not published): liveness and certificate expiry. */
export const PROXY_METRICS_PORT = 9113;

/** The proxy's metrics text: it is up, and (when known at deploy time) when its certificate expires. */
export function proxyMetricsText(certificateNotAfterSeconds?: number): string {
    const lines = ["# TYPE registry_kit_proxy_up gauge", "registry_kit_proxy_up 1"];
    if (certificateNotAfterSeconds !== undefined) {
        if (!Number.isInteger(certificateNotAfterSeconds))
            throw new Error(`proxy metrics: certificate expiry ${certificateNotAfterSeconds} is not whole seconds`);
        lines.push(
            "# TYPE registry_kit_certificate_not_after_timestamp_seconds gauge",
            `registry_kit_certificate_not_after_timestamp_seconds ${certificateNotAfterSeconds}`,
        );
    }
    return lines.join("\n") + "\n";
}

export interface RegistryAlertInput {
    /** Days before the served certificate's expiry that an alert fires. Default: 21. */
    certificateDays?: number;
    /** How long a registry or the proxy must fail its scrapes before it counts as down (Prometheus duration). Default: 2m. */
    downFor?: string;
}

/** Alert rules: registry, mirror or proxy down; 5xx rate; slow API requests; slow storage; certificate expiring. */
export function registryAlertRules(input: RegistryAlertInput = {}): Record<string, unknown> {
    const days = input.certificateDays ?? 21;
    const downFor = input.downFor ?? "2m";
    const api = `handler=~"base|manifest|tags|catalog"`;
    return {
        groups: [
            {
                name: "registry-kit-registry",
                rules: [
                    {
                        alert: "RegistryDown",
                        expr: `up{job=~"registry|registry-mirror"} == 0`,
                        for: downFor,
                        labels: { severity: "critical" },
                        annotations: {
                            summary: "A registry (or mirror) replica does not answer Prometheus",
                            description: "{{ $labels.instance }} of job {{ $labels.job }} is down.",
                        },
                    },
                    {
                        alert: "RegistryProxyDown",
                        expr: `up{job="proxy"} == 0 or absent(up{job="proxy"})`,
                        for: downFor,
                        labels: { severity: "critical" },
                        annotations: { summary: "The TLS proxy in front of the registry does not answer" },
                    },
                    {
                        alert: "RegistryErrors",
                        expr: `sum by (job, instance) (rate(registry_http_requests_total{code=~"5.."}[5m])) / sum by (job, instance) (rate(registry_http_requests_total[5m])) > 0.05`,
                        for: "10m",
                        labels: { severity: "warning" },
                        annotations: {
                            summary: "More than 5% of the registry's responses are 5xx",
                            description: "{{ $labels.instance }}: {{ $value | humanizePercentage }} server errors.",
                        },
                    },
                    {
                        alert: "RegistrySlowRequests",
                        expr: `histogram_quantile(0.99, sum by (le, job, instance) (rate(registry_http_request_duration_seconds_bucket{${api}}[5m]))) > 5`,
                        for: "15m",
                        labels: { severity: "warning" },
                        annotations: { summary: "The registry's API (not blob transfers) answers slowly: p99 over 5 s" },
                    },
                    {
                        alert: "RegistryStorageSlow",
                        expr: `histogram_quantile(0.99, sum by (le, job, instance, driver) (rate(registry_storage_action_seconds_bucket[5m]))) > 10`,
                        for: "15m",
                        labels: { severity: "warning" },
                        annotations: { summary: "The registry's storage driver is slow or failing: p99 of its actions over 10 s" },
                    },
                    {
                        alert: "RegistryCertificateExpiring",
                        expr: `registry_kit_certificate_not_after_timestamp_seconds - time() < ${days * 86400}`,
                        labels: { severity: "warning" },
                        annotations: {
                            summary: `The proxy's certificate expires in less than ${days} days`,
                            description: "Renew it (tls.mode provided) or run pulumi up (self-signed: a new one is issued before expiry).",
                        },
                    },
                ],
            },
        ],
    };
}

export function renderRegistryAlertRules(input: RegistryAlertInput = {}): string {
    return stringify(registryAlertRules(input), { lineWidth: 0 });
}

/** Prometheus's job name for the volume exporter (node exporter, filesystem collector only). */
export const VOLUME_JOB = "registry-volumes";
/** Where the volume exporter mounts the volumes it watches: `<root>/<name>`, e.g. /volumes/registry. */
export const VOLUME_MOUNT_ROOT = "/volumes";

export interface VolumeAlertInput {
    /** The nearly-full alert fires when less than this share of a volume's filesystem is available, in percent. Default: 10. */
    nearlyFullPercent?: number;
    /** The filling-up alert fires when the last 6 hours' trend fills the filesystem within this many hours. Default: 24. */
    fullWithinHours?: number;
}

/**
 * Alert rules on the filesystems backing the registry's volumes, from the node exporter's filesystem
 * collector (`node_filesystem_avail_bytes`, `node_filesystem_size_bytes`) scraped as job VOLUME_JOB.
 */
export function volumeAlertRules(input: VolumeAlertInput = {}): Record<string, unknown> {
    const percent = input.nearlyFullPercent ?? 10;
    const hours = input.fullWithinHours ?? 24;
    if (!(percent > 0 && percent < 100)) throw new Error(`volume alerts: nearlyFullPercent ${percent} is not between 0 and 100`);
    if (!(Number.isInteger(hours) && hours > 0)) throw new Error(`volume alerts: fullWithinHours ${hours} is not a whole number of hours above 0`);
    const sel = `{job="${VOLUME_JOB}", mountpoint=~"${VOLUME_MOUNT_ROOT}/.+"}`;
    return {
        groups: [
            {
                name: "registry-kit-volumes",
                rules: [
                    {
                        alert: "RegistryVolumeNearlyFull",
                        expr: `node_filesystem_avail_bytes${sel} / node_filesystem_size_bytes${sel} < ${percent / 100}`,
                        for: "10m",
                        labels: { severity: "critical" },
                        annotations: {
                            summary: `Less than ${percent}% of a registry volume's filesystem is available`,
                            description:
                                "{{ $labels.mountpoint }} ({{ $labels.device }}): {{ $value | humanizePercentage }} available. Free space (garbage collection, retention) or grow the disk.",
                        },
                    },
                    {
                        alert: "RegistryVolumeFillingUp",
                        expr: `predict_linear(node_filesystem_avail_bytes${sel}[6h], ${hours * 3600}) < 0`,
                        for: "1h",
                        labels: { severity: "warning" },
                        annotations: {
                            summary: `A registry volume's filesystem fills up within ${hours} hours at the rate of the last 6 hours`,
                            description: "{{ $labels.mountpoint }} ({{ $labels.device }}) is filling up.",
                        },
                    },
                ],
            },
        ],
    };
}

export function renderVolumeAlertRules(input: VolumeAlertInput = {}): string {
    return stringify(volumeAlertRules(input), { lineWidth: 0 });
}

/** A Grafana dashboard (JSON model) of the registry's, the mirrors' and the maintenance job's metrics, on a Prometheus data source. */
export function grafanaDashboard(): Record<string, unknown> {
    const panel = (id: number, title: string, exprs: [string, string][], unit: string, x: number, y: number) => ({
        id,
        type: "timeseries",
        title,
        gridPos: { h: 8, w: 12, x, y },
        datasource: { type: "prometheus", uid: "${datasource}" },
        fieldConfig: { defaults: { unit }, overrides: [] },
        targets: exprs.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), expr, legendFormat })),
    });
    return {
        title: "registry-kit",
        uid: "registry-kit",
        schemaVersion: 39,
        version: 1,
        editable: true,
        time: { from: "now-6h", to: "now" },
        refresh: "1m",
        templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" }] },
        panels: [
            panel(1, "Requests by handler", [[`sum by (handler) (rate(registry_http_requests_total[5m]))`, "{{handler}}"]], "reqps", 0, 0),
            panel(
                2,
                "Server errors (5xx) by handler",
                [[`sum by (handler) (rate(registry_http_requests_total{code=~"5.."}[5m]))`, "{{handler}}"]],
                "reqps",
                12,
                0,
            ),
            panel(
                3,
                "API latency (p50, p99)",
                [
                    [
                        `histogram_quantile(0.5, sum by (le) (rate(registry_http_request_duration_seconds_bucket{handler=~"base|manifest|tags|catalog"}[5m])))`,
                        "p50",
                    ],
                    [
                        `histogram_quantile(0.99, sum by (le) (rate(registry_http_request_duration_seconds_bucket{handler=~"base|manifest|tags|catalog"}[5m])))`,
                        "p99",
                    ],
                ],
                "s",
                0,
                8,
            ),
            panel(
                4,
                "Bytes in and out",
                [
                    [`sum(rate(registry_http_request_size_bytes_sum[5m]))`, "received"],
                    [`sum(rate(registry_http_response_size_bytes_sum[5m]))`, "sent"],
                ],
                "Bps",
                12,
                8,
            ),
            panel(5, "Uploads in flight", [[`sum(registry_http_in_flight_requests{handler=~"blob_upload|blob_upload_chunk"})`, "uploads"]], "short", 0, 16),
            panel(
                6,
                "Storage driver p99 by action",
                [[`histogram_quantile(0.99, sum by (le, action) (rate(registry_storage_action_seconds_bucket[5m])))`, "{{action}}"]],
                "s",
                12,
                16,
            ),
            panel(
                7,
                "Targets up",
                [
                    [`up{job=~"registry|registry-mirror|proxy|registry-maintenance"}`, "{{job}} {{instance}}"],
                    [`(registry_kit_certificate_not_after_timestamp_seconds - time()) / 86400`, "certificate days left"],
                ],
                "short",
                0,
                24,
            ),
            panel(
                8,
                "Maintenance: bytes freed, last success",
                [
                    [`registry_kit_maintenance_gc_bytes_freed`, "bytes freed by the last GC"],
                    [`time() - registry_kit_maintenance_last_success_timestamp_seconds`, "seconds since the last success"],
                ],
                "short",
                12,
                24,
            ),
            panel(
                9,
                "Volumes: space available",
                [[`node_filesystem_avail_bytes{job="${VOLUME_JOB}"} / node_filesystem_size_bytes{job="${VOLUME_JOB}"}`, "{{mountpoint}}"]],
                "percentunit",
                0,
                32,
            ),
            panel(
                10,
                "Volumes: bytes used",
                [[`node_filesystem_size_bytes{job="${VOLUME_JOB}"} - node_filesystem_avail_bytes{job="${VOLUME_JOB}"}`, "{{mountpoint}}"]],
                "bytes",
                12,
                32,
            ),
        ],
    };
}

export function renderGrafanaDashboard(): string {
    return JSON.stringify(grafanaDashboard(), null, 2) + "\n";
}
