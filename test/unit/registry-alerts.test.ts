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
