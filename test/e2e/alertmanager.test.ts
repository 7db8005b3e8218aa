/**
 * Alertmanager on a real Docker engine: the small-team stack with `monitoring.alertmanager` on (the
 * stand-in, Debian's Alertmanager 0.25) and one webhook receiver, a small receiver container on the
 * test network (test/e2e/receiver.js) behind a secret bearer token and a secret URL. The registry is
 * stopped, RegistryDown fires for real (after `monitoring.downFor`, set short here: a user setting, not a
 * test hook) and Prometheus hands it to Alertmanager, which posts it with the token. amtool checks the
 * rendered config (and a mail receiver's); the volume exporter's numbers reach Prometheus; no secret is in
 * any container's log; a second deploy plans no change.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderAlertmanagerConfig } from "../../renderers/alertmanager-config";
import {
    deploy,
    docker,
    eventually,
    prepare,
    receivedRequests,
    removeByPrefix,
    render,
    Rendered,
    run,
    startWebhookReceiver,
    volumeDf,
    waitHealthy,
} from "./harness";

const PREFIX = "rk-am";
const HOOK = `${PREFIX}-hook`;
const PROMETHEUS = "http://127.0.0.1:34090";
const ALERTMANAGER = "http://127.0.0.1:34500";
const TOKEN = `amtok-${crypto.randomBytes(18).toString("hex")}`;
const URL_KEY = crypto.randomBytes(12).toString("hex");
const HOOK_URL = `http://${HOOK}:8080/ok?key=${URL_KEY}`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-am-"));
fs.chmodSync(work, 0o755);
const stateFile = path.join(work, "state.json");
let rendered: Rendered;

function stackFile(): string {
    const doc = parse(fs.readFileSync(path.join(__dirname, "Pulumi.e2e.yaml"), "utf8"));
    Object.assign(doc.config, {
        "registry-kit:hostname": "registry.am.test",
        "registry-kit:docker": { namePrefix: PREFIX },
        "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: 34443, httpPort: 34080 },
        "registry-kit:monitoring": {
            image: "registry-kit-test/prometheus:2",
            hostIp: "127.0.0.1",
            port: 34090,
            scrapeInterval: "2s",
            downFor: "10s",
            volumes: { image: "registry-kit-test/node-exporter:1" },
            alertmanager: {
                enabled: true,
                image: "registry-kit-test/alertmanager:0",
                port: 34500,
                groupWait: "1s",
                groupInterval: "5s",
                repeatInterval: "1h",
                receivers: [{ name: "ci", webhook: { url: HOOK_URL, bearerToken: TOKEN } }],
            },
        },
    });
    const file = path.join(work, `Pulumi.am-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

const received = () => receivedRequests(HOOK);

async function prometheusQuery(query: string): Promise<any[]> {
    const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(query)}`);
    return ((await res.json()) as { data: { result: any[] } }).data.result;
}

const amtool = (file: string) =>
    run(
        "docker",
        [
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            `${file}:/w/alertmanager.yml:ro`,
            "--entrypoint",
            "/bin/amtool",
            "registry-kit-test/alertmanager:0",
            "check-config",
            "/w/alertmanager.yml",
        ],
        { allowFail: true },
    );

describe("alertmanager on a real Docker engine", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry3", "nginx", "prometheus", "node", "alertmanager"]);
        startWebhookReceiver(`${PREFIX}-net`, HOOK);
        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "am", ["monitoring"]);
        await deploy(rendered);
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`, `${PREFIX}-prometheus`, `${PREFIX}-alertmanager`, `${PREFIX}-volume-exporter`]);
    }, 900_000);

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("amtool accepts the rendered config, and a mail receiver's; it refuses a broken one", () => {
        // render writes secret files for its user only; amtool runs as nobody.
        const file = path.join(work, "rendered.yml");
        fs.copyFileSync(path.join(rendered.dir, "files", `${PREFIX}-alertmanager`, "etc", "alertmanager", "alertmanager.yml"), file);
        fs.chmodSync(file, 0o644);
        expect(fs.readFileSync(file, "utf8")).toContain(TOKEN);
        const r = amtool(file);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toMatch(/SUCCESS/);
        const mail = path.join(work, "mail.yml");
        fs.writeFileSync(
            mail,
            renderAlertmanagerConfig({
                receivers: [
                    {
                        name: "oncall",
                        severities: ["critical"],
                        email: {
                            smarthost: "smtp.example.com:587",
                            from: "registry@example.com",
                            to: ["ops@example.com", "lead@example.com"],
                            authUsername: "registry",
                            authPassword: "pw",
                            requireTls: true,
                            sendResolved: false,
                        },
                    },
                    { name: "basic", webhook: { url: "https://hooks.example.com/x", basicAuth: { username: "u", password: "p" }, sendResolved: true } },
                ],
                groupBy: ["alertname", "job"],
                groupWait: "30s",
                groupInterval: "5m",
                repeatInterval: "4h",
            }),
        );
        const m = amtool(mail);
        expect(m.code, m.stdout + m.stderr).toBe(0);
        // The check can fail: a route to a receiver that does not exist.
        fs.writeFileSync(path.join(work, "broken.yml"), fs.readFileSync(mail, "utf8").replace("receiver: oncall", "receiver: nobody-here"));
        expect(amtool(path.join(work, "broken.yml")).code).not.toBe(0);
    });

    it("Prometheus has Alertmanager and the volume exporter; the exporter's numbers are the registry volume's", async () => {
        const ams = await eventually("Prometheus's active Alertmanager", async () => {
            const body = (await (await fetch(`${PROMETHEUS}/api/v1/alertmanagers`)).json()) as { data: { activeAlertmanagers: { url: string }[] } };
            return body.data.activeAlertmanagers.length ? body.data.activeAlertmanagers : undefined;
        });
        expect(ams.map((a) => a.url)).toEqual(["http://alertmanager:9093/api/v2/alerts"]);
        const [size] = await eventually("the registry volume's size in Prometheus", async () => {
            const r = await prometheusQuery('node_filesystem_size_bytes{job="registry-volumes", mountpoint="/volumes/registry"}');
            return r.length ? r : undefined;
        });
        const [avail] = await prometheusQuery('node_filesystem_avail_bytes{job="registry-volumes", mountpoint="/volumes/registry"}');
        const df = volumeDf(`${PREFIX}-registry-data`);
        console.log(`prometheus size=${size.value[1]} avail=${avail.value[1]}; df ${df.join(" ")}`);
        expect(Number(size.value[1])).toBe(df[0]);
        expect(Math.abs(Number(avail.value[1]) - df[1])).toBeLessThan(df[0] / 100);
    });

    it("a stopped registry fires RegistryDown, which reaches the receiver with the secret bearer token", async () => {
        const stoppedAt = Date.now();
        docker("stop", `${PREFIX}-registry`);
        try {
            const delivery = await eventually(
                "RegistryDown at the receiver",
                () =>
                    received().find((r) => {
                        if (!r.path.startsWith("/ok")) return false;
                        const body = JSON.parse(r.body);
                        return body.status === "firing" && body.alerts.some((a: any) => a.labels.alertname === "RegistryDown");
                    }),
                120_000,
                1000,
            );
            console.log(`RegistryDown delivered ${Math.round((Date.now() - stoppedAt) / 1000)} s after the stop`);
            expect(delivery.path).toBe(`/ok?key=${URL_KEY}`);
            expect(delivery.headers.authorization).toBe(`Bearer ${TOKEN}`);
            const body = JSON.parse(delivery.body);
            expect(body.receiver).toBe("ci");
            const alert = body.alerts.find((a: any) => a.labels.alertname === "RegistryDown");
            expect(alert.labels).toMatchObject({ job: "registry", severity: "critical" });
            expect(alert.annotations.summary).toBe("A registry (or mirror) replica does not answer Prometheus");
            // Alertmanager's own API shows it too.
            const alerts = (await (await fetch(`${ALERTMANAGER}/api/v2/alerts`)).json()) as any[];
            expect(alerts.map((a) => a.labels.alertname)).toContain("RegistryDown");
        } finally {
            docker("start", `${PREFIX}-registry`);
        }
        await waitHealthy([`${PREFIX}-registry`]);
        // Running again, the alert resolves and the receiver is told (send_resolved).
        await eventually(
            "the resolved RegistryDown",
            () =>
                received().find((r) => {
                    const body = JSON.parse(r.body);
                    return body.status === "resolved" && body.alerts.some((a: any) => a.labels.alertname === "RegistryDown");
                }),
            120_000,
            1000,
        );
    }, 300_000);

    it("never shows the token or the receiver's URL in any container's log", () => {
        const logs: string[] = [];
        for (const name of docker("ps", "-a", "--format", "{{.Names}}")
            .split("\n")
            .filter((n) => n.startsWith(`${PREFIX}-`) && n !== HOOK)) {
            const r = run("docker", ["logs", name], { allowFail: true });
            logs.push(r.stdout + r.stderr);
        }
        const all = logs.join("\n");
        expect(all).toMatch(/alertmanager|Alertmanager/);
        for (const s of [TOKEN, URL_KEY]) expect(all.includes(s), `a secret of length ${s.length}`).toBe(false);
    });

    it("plans no change on a second pulumi up, Alertmanager and the volume exporter included", async () => {
        const second = render(stackFile(), path.join(work, "render-again"), stateFile, "am", ["monitoring"]);
        const result = await deploy(second, rendered);
        expect(Object.keys(result.plans)).toEqual(expect.arrayContaining([`${PREFIX}-alertmanager`, `${PREFIX}-volume-exporter`, `${PREFIX}-prometheus`]));
        for (const [name, plan] of Object.entries(result.plans)) expect(plan, name).toMatchObject({ action: "same", changed: [] });
        expect(result.replaced).toEqual([]);
    });
});
