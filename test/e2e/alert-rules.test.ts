/**
 * The alert rules and the Grafana dashboard against the real tools: `promtool test rules` (Debian's
 * Prometheus, the stand-in image) fires and keeps quiet where it should, and every metric the rules and
 * the dashboard name is one a real registry (the registry stand-in, Distribution 2.8) or the proxy
 * really exposes. No network: the containers run with `--network none`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { grafanaDashboard, proxyMetricsText, renderRegistryAlertRules, renderVolumeAlertRules } from "../../renderers/registry-alerts";
import { renderMaintenanceAlertRules } from "../../renderers/maintenance-config";
import { volumeExporterCommand } from "../../components/volume-exporter";
import { docker, prepare, removeByPrefix, run } from "./harness";

const PREFIX = "rk-alerts";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-alerts-"));
fs.chmodSync(work, 0o755);

beforeAll(() => {
    prepare(PREFIX, ["registry", "prometheus", "node-exporter"]);
}, 900_000);
afterAll(() => {
    removeByPrefix(`${PREFIX}-`);
    fs.rmSync(work, { recursive: true, force: true });
});

/** promtool's expectation that `alertname` fires at `eval_time` with exactly these labels and annotations. */
const fires = (eval_time: string, alertname: string, exp_labels: Record<string, string>, exp_annotations: Record<string, string>) => ({
    eval_time,
    alertname,
    exp_alerts: [{ exp_labels, exp_annotations }],
});
/** promtool's expectation that `alertname` does not fire at `eval_time`. */
const quiet = (eval_time: string, alertname: string) => ({ eval_time, alertname, exp_alerts: [] });
const MAINTENANCE_LABELS = { severity: "warning", job: "registry-maintenance", instance: "maintenance:9400" };

const promtool = (...args: string[]) =>
    run("docker", ["run", "--rm", "--network", "none", "-v", `${work}:/w:ro`, "--entrypoint", "promtool", "registry-kit-test/prometheus:2", ...args], {
        allowFail: true,
    });

describe("alert rules under promtool", () => {
    it("are valid rule files", () => {
        fs.writeFileSync(path.join(work, "registry.yml"), renderRegistryAlertRules());
        fs.writeFileSync(
            path.join(work, "maintenance.yml"),
            renderMaintenanceAlertRules({ job: "registry-maintenance", overdueAfterSeconds: 3600, readOnlyAlertSeconds: 3600 }),
        );
        const r = promtool("check", "rules", "/w/registry.yml", "/w/maintenance.yml");
        expect(r.code, r.stdout + r.stderr).toBe(0);
    });

    it("fire on a down replica, a 5xx rate, an expiring certificate and a failed or overdue maintenance run, and keep quiet otherwise", () => {
        const tests = {
            rule_files: ["registry.yml", "maintenance.yml"],
            evaluation_interval: "1m",
            tests: [
                {
                    interval: "1m",
                    input_series: [
                        { series: 'up{job="registry", instance="registry-0:5001"}', values: "1 0 0 0 0" },
                        { series: 'up{job="registry", instance="registry-1:5001"}', values: "1 1 1 1 1" },
                        { series: 'up{job="proxy", instance="proxy:9113"}', values: "1 1 1 1 1" },
                        // replica 0 answers 10% 5xx for 15 minutes; replica 1 none.
                        {
                            series: 'registry_http_requests_total{job="registry", instance="registry-0:5001", code="200", handler="manifest", method="get"}',
                            values: "0+90x20",
                        },
                        {
                            series: 'registry_http_requests_total{job="registry", instance="registry-0:5001", code="503", handler="manifest", method="get"}',
                            values: "0+10x20",
                        },
                        {
                            series: 'registry_http_requests_total{job="registry", instance="registry-1:5001", code="200", handler="manifest", method="get"}',
                            values: "0+100x20",
                        },
                        // expires in 10 days (time() starts at 0 in promtool)
                        { series: 'registry_kit_certificate_not_after_timestamp_seconds{job="proxy", instance="proxy:9113"}', values: String(10 * 86400) },
                        { series: 'up{job="registry-maintenance", instance="maintenance:9400"}', values: "1x200" },
                        { series: 'registry_kit_maintenance_last_run_success{job="registry-maintenance", instance="maintenance:9400"}', values: "1 1 0" },
                        // due at 30 min; no success since
                        {
                            series: 'registry_kit_maintenance_success_due_timestamp_seconds{job="registry-maintenance", instance="maintenance:9400"}',
                            values: "1800x200",
                        },
                        { series: 'registry_kit_maintenance_readonly{job="registry-maintenance", instance="maintenance:9400"}', values: "0x200" },
                    ],
                    alert_rule_test: [
                        quiet("1m", "RegistryDown"),
                        fires(
                            "4m",
                            "RegistryDown",
                            { severity: "critical", job: "registry", instance: "registry-0:5001" },
                            {
                                summary: "A registry (or mirror) replica does not answer Prometheus",
                                description: "registry-0:5001 of job registry is down.",
                            },
                        ),
                        quiet("4m", "RegistryProxyDown"),
                        quiet("5m", "RegistryErrors"),
                        fires(
                            "16m",
                            "RegistryErrors",
                            { severity: "warning", job: "registry", instance: "registry-0:5001" },
                            {
                                summary: "More than 5% of the registry's responses are 5xx",
                                description: "registry-0:5001: 10% server errors.",
                            },
                        ),
                        fires(
                            "1m",
                            "RegistryCertificateExpiring",
                            { severity: "warning", job: "proxy", instance: "proxy:9113" },
                            {
                                summary: "The proxy's certificate expires in less than 21 days",
                                description: "Renew it (tls.mode provided) or run pulumi up (self-signed: a new one is issued before expiry).",
                            },
                        ),
                        quiet("1m", "RegistryMaintenanceFailed"),
                        fires("2m", "RegistryMaintenanceFailed", MAINTENANCE_LABELS, {
                            summary: "The last registry maintenance run failed",
                            description: "Retention or garbage collection failed; the job's JSON log (event run.end) says why.",
                        }),
                        quiet("60m", "RegistryMaintenanceOverdue"),
                        fires("95m", "RegistryMaintenanceOverdue", MAINTENANCE_LABELS, {
                            summary: "No successful registry maintenance run when one was due",
                            description: "The scheduled run did not happen or did not succeed; storage is not being reclaimed.",
                        }),
                        quiet("95m", "RegistryReadOnlyTooLong"),
                    ],
                },
            ],
        };
        fs.writeFileSync(path.join(work, "tests.yml"), stringify(tests));
        const r = promtool("test", "rules", "/w/tests.yml");
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(/SUCCESS/);
        // The check can fail: a test expecting the 5xx alert where the rate is 0 is refused.
        const wrong = structuredClone(tests);
        (wrong.tests[0].alert_rule_test as any[])[3] = {
            eval_time: "5m",
            alertname: "RegistryErrors",
            exp_alerts: [{ exp_labels: { severity: "warning", job: "registry", instance: "registry-1:5001" } }],
        };
        fs.writeFileSync(path.join(work, "wrong.yml"), stringify(wrong));
        expect(promtool("test", "rules", "/w/wrong.yml").code).not.toBe(0);
    });
});

describe("volume alert rules under promtool", () => {
    const GB = 1024 ** 3;
    const VOLUME_LABELS = { severity: "critical", job: "registry-volumes", instance: "volume-exporter:9100", device: "/dev/vda", fstype: "ext4" };
    const series = (metric: string, mount: string, values: string) =>
        `${metric}{job="registry-volumes", instance="volume-exporter:9100", device="/dev/vda", fstype="ext4", mountpoint="${mount}"}`;
    const tests = () => ({
        rule_files: ["volumes.yml"],
        evaluation_interval: "1m",
        tests: [
            {
                // Nearly full: /volumes/registry has 9 GB of 100 available from minute 5 on, /volumes/backup 50 GB throughout.
                interval: "1m",
                input_series: [
                    { series: series("node_filesystem_size_bytes", "/volumes/registry", ""), values: `${100 * GB}x30` },
                    { series: series("node_filesystem_avail_bytes", "/volumes/registry", ""), values: `${20 * GB}x4 ${9 * GB}x25` },
                    { series: series("node_filesystem_size_bytes", "/volumes/backup", ""), values: `${100 * GB}x30` },
                    { series: series("node_filesystem_avail_bytes", "/volumes/backup", ""), values: `${50 * GB}x30` },
                ],
                alert_rule_test: [
                    quiet("4m", "RegistryVolumeNearlyFull"),
                    // below 10% from 5m, firing once that held for 10m
                    quiet("14m", "RegistryVolumeNearlyFull"),
                    fires(
                        "16m",
                        "RegistryVolumeNearlyFull",
                        { ...VOLUME_LABELS, mountpoint: "/volumes/registry" },
                        {
                            summary: "Less than 10% of a registry volume's filesystem is available",
                            description: "/volumes/registry (/dev/vda): 9% available. Free space (garbage collection, retention) or grow the disk.",
                        },
                    ),
                    quiet("16m", "RegistryVolumeFillingUp"),
                ],
            },
            {
                // Filling up: the registry volume loses 1 GB every 10 minutes from 60 GB (full in 10 h); the backup volume is steady.
                interval: "10m",
                input_series: [
                    { series: series("node_filesystem_size_bytes", "/volumes/registry", ""), values: `${100 * GB}x60` },
                    { series: series("node_filesystem_avail_bytes", "/volumes/registry", ""), values: `${60 * GB}-${GB}x50` },
                    { series: series("node_filesystem_size_bytes", "/volumes/backup", ""), values: `${100 * GB}x60` },
                    { series: series("node_filesystem_avail_bytes", "/volumes/backup", ""), values: `${50 * GB}x60` },
                ],
                alert_rule_test: [
                    // the trend says full within 24 h from the start; `for: 1h`
                    quiet("50m", "RegistryVolumeFillingUp"),
                    fires(
                        "3h",
                        "RegistryVolumeFillingUp",
                        { ...VOLUME_LABELS, severity: "warning", mountpoint: "/volumes/registry" },
                        {
                            summary: "A registry volume's filesystem fills up within 24 hours at the rate of the last 6 hours",
                            description: "/volumes/registry (/dev/vda) is filling up.",
                        },
                    ),
                    quiet("3h", "RegistryVolumeNearlyFull"),
                ],
            },
        ],
    });

    it("are a valid rule file that fires when a volume is nearly full or filling up, only for that volume, and keeps quiet otherwise", () => {
        fs.writeFileSync(path.join(work, "volumes.yml"), renderVolumeAlertRules());
        const check = promtool("check", "rules", "/w/volumes.yml");
        expect(check.code, check.stdout + check.stderr).toBe(0);
        fs.writeFileSync(path.join(work, "volume-tests.yml"), stringify(tests()));
        const r = promtool("test", "rules", "/w/volume-tests.yml");
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(/SUCCESS/);
        // The check can fail: the same series do not make a volume nearly full at 20% with the threshold at 10%.
        const wrong = tests();
        (wrong.tests[0].alert_rule_test as any[])[0] = fires("4m", "RegistryVolumeNearlyFull", { ...VOLUME_LABELS, mountpoint: "/volumes/registry" }, {});
        fs.writeFileSync(path.join(work, "volume-wrong.yml"), stringify(wrong));
        expect(promtool("test", "rules", "/w/volume-wrong.yml").code).not.toBe(0);
        // A lower threshold keeps the nearly-full alert quiet on the same data.
        fs.writeFileSync(path.join(work, "volumes.yml"), renderVolumeAlertRules({ nearlyFullPercent: 5 }));
        expect(promtool("test", "rules", "/w/volume-tests.yml").code).not.toBe(0);
    });
});

describe("metric names against a real registry", () => {
    it("every metric the rules and the dashboard use is one the registry, the proxy, the job or Prometheus exposes", () => {
        const config = [
            "version: 0.1",
            "storage:",
            "  filesystem:",
            "    rootdirectory: /var/lib/registry",
            "http:",
            "  addr: 127.0.0.1:5000",
            "  debug:",
            "    addr: 127.0.0.1:5001",
            "    prometheus:",
            "      enabled: true",
            "      path: /metrics",
            "",
        ].join("\n");
        fs.writeFileSync(path.join(work, "config.yml"), config);
        docker(
            "run",
            "-d",
            "--name",
            `${PREFIX}-registry`,
            "--network",
            "none",
            "-v",
            `${work}/config.yml:/etc/docker/registry/config.yml:ro`,
            "registry-kit-test/registry:2",
        );
        // A few requests (a 200, a 404, an upload start) so every labelled series exists.
        const metrics = run("docker", [
            "exec",
            `${PREFIX}-registry`,
            "sh",
            "-c",
            "for i in $(seq 1 50); do wget -q -O /dev/null http://127.0.0.1:5000/v2/ && break; sleep 0.2; done; " +
                "wget -q -O /dev/null http://127.0.0.1:5000/v2/x/manifests/y; wget -q -O /dev/null --post-data= http://127.0.0.1:5000/v2/x/blobs/uploads/; " +
                "wget -q -O - http://127.0.0.1:5001/metrics",
        ]).stdout;
        const exposed = new Set(
            metrics
                .split("\n")
                .filter((l) => /^[a-z]/.test(l))
                .map((l) => l.replace(/[{ ].*/, "")),
        );
        for (const l of proxyMetricsText(1).split("\n")) if (/^[a-z]/.test(l)) exposed.add(l.replace(/[{ ].*/, ""));
        // The node exporter as the stack runs it (the volume exporter's flags), with a volume at /volumes/registry.
        docker(
            "run",
            "-d",
            "--name",
            `${PREFIX}-volume-exporter`,
            "--network",
            "none",
            "-v",
            `${PREFIX}-volume:/volumes/registry:ro`,
            "registry-kit-test/node-exporter:1",
            ...volumeExporterCommand(),
        );
        const nodeMetrics = run("docker", [
            "exec",
            `${PREFIX}-volume-exporter`,
            "sh",
            "-c",
            "for i in $(seq 1 50); do wget -q -O - http://127.0.0.1:9100/metrics && break; sleep 0.2; done",
        ]).stdout;
        expect(nodeMetrics).toContain('mountpoint="/volumes/registry"');
        for (const l of nodeMetrics.split("\n")) if (/^node_filesystem/.test(l)) exposed.add(l.replace(/[{ ].*/, ""));
        // The job's own (templates/maintenance.mjs) and Prometheus's `up`.
        const jobMetrics = fs.readFileSync(path.join(__dirname, "..", "..", "templates", "maintenance.mjs"), "utf8").match(/gauge\("([a-z_]+)"/g)!;
        for (const g of jobMetrics) exposed.add(`registry_kit_maintenance_${g.slice(7, -1)}`);
        exposed.add("up");

        const exprs = [
            ...(JSON.parse(JSON.stringify(grafanaDashboard())).panels as { targets: { expr: string }[] }[]).flatMap((p) => p.targets.map((t) => t.expr)),
            ...(renderRegistryAlertRules() + renderVolumeAlertRules())
                .split("\n")
                .filter((l) => l.trim().startsWith("expr:"))
                .map((l) => l.slice(l.indexOf("expr:") + 5)),
        ];
        const FUNCTIONS = new Set([
            "sum",
            "by",
            "rate",
            "histogram_quantile",
            "time",
            "absent",
            "or",
            "clamp_min",
            "le",
            "job",
            "instance",
            "handler",
            "code",
            "action",
            "driver",
            "predict_linear",
            "mountpoint",
        ]);
        const used = new Set<string>();
        for (const e of exprs) {
            const bare = e
                .replace(/\{[^}]*\}/g, "")
                .replace(/"[^"]*"/g, "")
                .replace(/\[[^\]]*\]/g, "");
            for (const m of bare.matchAll(/[a-z_][a-z0-9_]*/g)) if (!FUNCTIONS.has(m[0])) used.add(m[0]);
        }
        const histogramBase = (n: string) => n.replace(/_(bucket|sum|count)$/, "");
        const missing = [...used].filter((n) => !exposed.has(n) && !exposed.has(`${histogramBase(n)}_bucket`));
        expect(missing).toEqual([]);
        // The parse found the names (it is not vacuous).
        for (const n of [
            "registry_http_requests_total",
            "registry_http_request_duration_seconds_bucket",
            "registry_storage_action_seconds_bucket",
            "registry_kit_certificate_not_after_timestamp_seconds",
            "registry_kit_maintenance_gc_bytes_freed",
            "node_filesystem_avail_bytes",
            "node_filesystem_size_bytes",
            "up",
        ])
            expect(used.has(n), n).toBe(true);
    });
});
