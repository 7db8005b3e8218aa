/**
 * Alertmanager in the small-team program under mocks: its config from `monitoring.alertmanager`, secret in
 * the upload, the inputs and the outputs; Prometheus sends to it; and the renderer's routes. amtool checks
 * the rendered file in test/e2e/alertmanager.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { maskSecrets, unwrapSecrets } from "../../offline/engine";
import { alertmanagerConfig, UNROUTED_RECEIVER } from "../../renderers/alertmanager-config";

const HOOK_URL = "https://hooks.example.com/services/T0/B0/tok-4a7f1c";
const TOKEN = "bearer-9d2e6b1f0c";
const SMTP_PASSWORD = "smtp-pw-77c3e0a1";
let ev: Evaluation;
const container = (name: string) => ev.resources.find((r) => r.type === "docker:index/container:Container" && r.name === name)!;

beforeAll(async () => {
    ev = await evaluate(
        {
            config: {
                "registry-kit:hostname": "registry.example.com",
                "registry-kit:docker": { namePrefix: "rk-unit" },
                "registry-kit:monitoring": {
                    alertmanager: {
                        enabled: true,
                        port: 9193,
                        receivers: [
                            { name: "chat", webhook: { url: HOOK_URL, bearerToken: TOKEN } },
                            {
                                name: "oncall",
                                severities: ["critical"],
                                email: {
                                    smarthost: "smtp.example.com:587",
                                    from: "registry@example.com",
                                    to: ["ops@example.com", "lead@example.com"],
                                    authUsername: "registry",
                                    authPassword: SMTP_PASSWORD,
                                },
                            },
                        ],
                        repeatInterval: "12h",
                    },
                },
            },
            secretKeys: ["registry-kit:monitoring"],
        },
        { stack: "unit" },
    );
}, 60_000);

describe("alertmanager in the program", () => {
    it("renders the receivers and routes, uploads them as a secret, and Prometheus sends alerts to it", () => {
        const am = container("rk-unit-alertmanager");
        const file = ev.files.find((f) => f.container === "rk-unit-alertmanager" && f.path === "/etc/alertmanager/alertmanager.yml")!;
        expect(file.secret).toBe(true);
        const cfg = parse(file.content);
        expect(cfg.route).toEqual({
            receiver: UNROUTED_RECEIVER,
            group_by: ["alertname", "job"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "12h",
            routes: [
                { receiver: "chat", continue: true },
                { receiver: "oncall", matchers: ['severity=~"critical"'], continue: true },
            ],
        });
        expect(cfg.receivers).toEqual([
            { name: UNROUTED_RECEIVER },
            { name: "chat", webhook_configs: [{ url: HOOK_URL, send_resolved: true, http_config: { authorization: { type: "Bearer", credentials: TOKEN } } }] },
            {
                name: "oncall",
                email_configs: [
                    {
                        to: "ops@example.com, lead@example.com",
                        from: "registry@example.com",
                        smarthost: "smtp.example.com:587",
                        require_tls: true,
                        send_resolved: false,
                        auth_username: "registry",
                        auth_password: SMTP_PASSWORD,
                    },
                ],
            },
        ]);
        const inputs = unwrapSecrets(am.inputs) as any;
        expect(inputs.command).toEqual(["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]);
        expect(inputs.ports).toEqual([{ internal: 9093, external: 9193, ip: "127.0.0.1" }]);
        expect(inputs.networksAdvanced[0].aliases).toEqual(["alertmanager"]);
        const prom = parse(ev.files.find((f) => f.container === "rk-unit-prometheus" && f.path === "/etc/prometheus/prometheus.yml")!.content);
        expect(prom.alerting).toEqual({ alertmanagers: [{ scheme: "http", static_configs: [{ targets: ["alertmanager:9093"] }] }] });
        expect(ev.outputs.alertmanagerUrl).toBe("http://127.0.0.1:9193");
    });

    it("shows no receiver URL, token or password anywhere once secrets are masked: inputs, plain files, outputs", () => {
        const masked = JSON.stringify([ev.resources.map((r) => maskSecrets(r.inputs)), ev.files.filter((f) => !f.secret), maskSecrets(ev.outputs)]);
        expect(masked).toContain("rk-unit-alertmanager");
        for (const s of [HOOK_URL, TOKEN, SMTP_PASSWORD]) expect(masked).not.toContain(s);
        // Unmasked, they are there (the check above looks at the right things).
        expect(JSON.stringify(ev.files.map((f) => f.content))).toContain(TOKEN);
    });
});

describe("alertmanager config renderer", () => {
    it("basic auth instead of a token; no auth at all", () => {
        const cfg = alertmanagerConfig({
            receivers: [
                { name: "a", webhook: { url: "http://a:8080/", basicAuth: { username: "u", password: "p" }, sendResolved: false } },
                { name: "b", webhook: { url: "http://b:8080/", sendResolved: true } },
            ],
            groupBy: ["alertname"],
            groupWait: "10s",
            groupInterval: "1m",
            repeatInterval: "1h",
        }) as any;
        expect(cfg.receivers[1].webhook_configs[0]).toEqual({
            url: "http://a:8080/",
            send_resolved: false,
            http_config: { basic_auth: { username: "u", password: "p" } },
        });
        expect(cfg.receivers[2].webhook_configs[0]).toEqual({ url: "http://b:8080/", send_resolved: true });
        expect(() => alertmanagerConfig({ receivers: [], groupBy: [], groupWait: "1s", groupInterval: "1s", repeatInterval: "1s" })).toThrow(
            "at least one receiver",
        );
    });
});
