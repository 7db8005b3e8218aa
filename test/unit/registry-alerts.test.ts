/**
 * The registry alert rules, the proxy's metrics server and the Grafana dashboard as the program ships
 * them (promtool and the real metric names are checked in test/e2e/alert-rules.test.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { unwrapSecrets } from "../../offline/engine";
import { renderGrafanaDashboard, proxyMetricsText } from "../../renderers/registry-alerts";

let ev: Evaluation;
const container = (name: string) => unwrapSecrets(ev.resources.find((r) => r.type === "docker:index/container:Container" && r.name === name)!.inputs) as any;
const upload = (name: string, file: string) => container(name).uploads.find((u: any) => u.file === file)?.content as string;

beforeAll(async () => {
    ev = await evaluate(
        { config: { "registry-kit:hostname": "registry.example.com", "registry-kit:docker": { namePrefix: "rk-unit" } }, secretKeys: [] },
        { stack: "unit" },
    );
}, 60_000);

describe("registry alerts and dashboard", () => {
    it("Prometheus loads the registry rules and scrapes the proxy's metrics server, which is not published", () => {
        const yml = upload("rk-unit-prometheus", "/etc/prometheus/prometheus.yml");
        expect(yml).toContain("  - /etc/prometheus/rules/registry.yml");
        expect(yml).toMatch(/job_name: proxy\n[\s\S]*?- proxy:9113/);
        expect(upload("rk-unit-prometheus", "/etc/prometheus/rules/registry.yml")).toContain("alert: RegistryErrors");
        const proxy = container("rk-unit-proxy");
        expect(proxy.ports.map((p: any) => p.internal)).not.toContain(9113);
        const conf = upload("rk-unit-proxy", "/etc/nginx/nginx.conf");
        expect(conf).toContain("listen 9113;");
        // The served certificate's expiry, as the certificate says it.
        const pem = upload("rk-unit-proxy", "/etc/nginx/tls/server.crt");
        const notAfter = Math.floor(Date.parse(new (require("node:crypto").X509Certificate)(pem).validTo) / 1000);
        expect(conf).toContain(`registry_kit_certificate_not_after_timestamp_seconds ${notAfter}\\n`);
        expect(notAfter).toBeGreaterThan(Date.now() / 1000);
    });

    it("the dashboard file in docs/ is what the program outputs", () => {
        expect(fs.readFileSync(path.join(__dirname, "..", "..", "docs", "grafana", "registry-kit.json"), "utf8")).toBe(renderGrafanaDashboard());
        expect(JSON.parse(ev.outputs.grafanaDashboard as string).uid).toBe("registry-kit");
    });

    it("metrics text refuses what is not whole seconds", () => {
        expect(() => proxyMetricsText(1.5)).toThrow("not whole seconds");
        expect(proxyMetricsText()).toBe("# TYPE registry_kit_proxy_up gauge\nregistry_kit_proxy_up 1\n");
    });
});

describe("volume exporter", () => {
    it("watches the registry's data volume read-only with the filesystem collector alone, unpublished, without the Docker socket or the host's root", () => {
        const c = container("rk-unit-volume-exporter");
        expect(c.command).toEqual([
            "--collector.disable-defaults",
            "--collector.filesystem",
            "--collector.filesystem.mount-points-exclude=^/(dev|etc|proc|run|sys)($|/)",
            "--web.listen-address=:9100",
        ]);
        expect(c.volumes).toEqual([{ volumeName: "rk-unit-registry-data", containerPath: "/volumes/registry", readOnly: true }]);
        expect(c.ports ?? []).toEqual([]);
        expect(JSON.stringify(c)).not.toContain("docker.sock");
        expect(c.networksAdvanced[0].aliases).toEqual(["volume-exporter"]);
        const rules = upload("rk-unit-prometheus", "/etc/prometheus/rules/volumes.yml");
        expect(rules).toContain("alert: RegistryVolumeNearlyFull");
        expect(rules).toContain(`node_filesystem_size_bytes{job="registry-volumes", mountpoint=~"/volumes/.+"} < 0.1`);
        expect(rules).toContain("[6h], 86400) < 0");
    });

    it("also watches the backup volume, takes its thresholds from the settings, and is off with S3 storage", async () => {
        const withBackups = await evaluate(
            {
                config: {
                    "registry-kit:hostname": "registry.example.com",
                    "registry-kit:docker": { namePrefix: "rk-unit" },
                    "registry-kit:maintenance": { enabled: true, backup: { enabled: true } },
                    "registry-kit:monitoring": { downFor: "30s", volumes: { nearlyFullPercent: 7.5, fullWithinHours: 48 } },
                },
                secretKeys: [],
            },
            { stack: "unit" },
        );
        const get = (e: Evaluation, name: string) =>
            unwrapSecrets(e.resources.find((r) => r.type === "docker:index/container:Container" && r.name === name)?.inputs) as any;
        expect(get(withBackups, "rk-unit-volume-exporter").volumes.map((v: any) => v.containerPath)).toEqual(["/volumes/registry", "/volumes/backup"]);
        const uploads = get(withBackups, "rk-unit-prometheus").uploads;
        const file = (f: string) => uploads.find((u: any) => u.file === f).content as string;
        expect(file("/etc/prometheus/rules/volumes.yml")).toContain("< 0.075");
        expect(file("/etc/prometheus/rules/volumes.yml")).toContain("[6h], 172800) < 0");
        expect(file("/etc/prometheus/rules/registry.yml")).toMatch(/alert: RegistryDown\n\s+expr: .*\n\s+for: 30s/);

        const s3 = await evaluate(
            {
                config: {
                    "registry-kit:hostname": "registry.example.com",
                    "registry-kit:docker": { namePrefix: "rk-unit" },
                    "registry-kit:registry": { storage: { type: "s3", s3: { bucket: "rk-unit-images", region: "eu-west-1" } } },
                },
                secretKeys: [],
            },
            { stack: "unit" },
        );
        expect(get(s3, "rk-unit-volume-exporter")).toBeUndefined();
        expect(get(s3, "rk-unit-prometheus").uploads.map((u: any) => u.file)).not.toContain("/etc/prometheus/rules/volumes.yml");
    }, 120_000);
});
