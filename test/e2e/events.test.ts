/**
 * Webhooks and logs on a real Docker engine: the small-team stack's own container specs with
 * notification endpoints (a receiver on the test network, one that refuses connections, one that
 * answers 500) and every container's logs shipped by dockerd's syslog driver to rsyslog (Debian's
 * package), published on 127.0.0.1 only, since dockerd sends from the host's network namespace.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
    buildImageTar,
    deploy,
    docker,
    eventually,
    prepare,
    receivedRequests,
    ReceivedRequest,
    RegistryClient,
    removeByPrefix,
    render,
    Rendered,
    run,
    startSideService,
    startWebhookReceiver,
    waitHealthy,
} from "./harness";

const PREFIX = "rk-log";
const HOST = "registry.events.test";
const HTTPS = 26443;
const REGISTRY = `${HOST}:${HTTPS}`;
const SYSLOG_PORT = 26514;
const HOOK = `${PREFIX}-hook`;
const RSYSLOG = `${PREFIX}-rsyslog`;
const SECRET = `Bearer rk-${crypto.randomBytes(18).toString("hex")}`;
const HOOK_TOKEN = `tok-${crypto.randomBytes(18).toString("hex")}`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-log-"));
const stateFile = path.join(work, "state.json");
const hostsFile = path.join(work, "hosts");
const certDir = path.join(work, "certs");
let rendered: Rendered;
let password: string;
let client: RegistryClient;

function stackFile(): string {
    const doc = parse(fs.readFileSync(path.join(__dirname, "Pulumi.e2e.yaml"), "utf8"));
    Object.assign(doc.config, {
        "registry-kit:hostname": HOST,
        "registry-kit:docker": {
            namePrefix: PREFIX,
            logging: {
                driver: "syslog",
                options: { "syslog-address": `udp://127.0.0.1:${SYSLOG_PORT}`, "syslog-format": "rfc5424", tag: "{{.Name}}" },
            },
        },
        "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: 26080 },
        "registry-kit:monitoring": { enabled: false },
        "registry-kit:notifications": {
            endpoints: [
                // The receiver, with the secret and one more header; no events about layers (Distribution 2.8
                // applies ignoredmediatypes, not ignore.actions: see the settings check).
                {
                    name: "ci",
                    url: `http://${HOOK}:8080/ok`,
                    secret: SECRET,
                    headers: { "X-Hook-Token": HOOK_TOKEN },
                    ignoredMediaTypes: ["application/octet-stream"],
                    backoff: "1s",
                },
                // Nothing listens there: every delivery is refused.
                { name: "refused", url: `http://${HOOK}:8081/`, secret: SECRET },
                // Answers 500 to everything (and records it).
                { name: "failing", url: `http://${HOOK}:8080/fail`, secret: SECRET },
                // Takes every action, pulls included.
                { name: "all", url: `http://${HOOK}:8080/all` },
            ],
        },
    });
    const file = path.join(work, `Pulumi.events-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

type Received = ReceivedRequest;
const received = (): Received[] => receivedRequests(HOOK);
const eventsOf = (r: Received) => JSON.parse(r.body).events as any[];
const eventsAt = (p: string) =>
    received()
        .filter((r) => r.path === p)
        .flatMap(eventsOf);
/** Deliveries to `p` (answered `status`) that carry the manifest push of `tag`. */
const deliveriesOf = (p: string, tag: string, status?: number) =>
    received().filter(
        (r) => r.path === p && (status === undefined || r.answered === status) && eventsOf(r).some((e) => e.action === "push" && e.target.tag === tag),
    );
const failedAt = (p: string) => received().filter((r) => r.path === p && r.answered === 500).length;
const manifestPush = (events: any[], repo: string, tag: string) =>
    events.find((e) => e.action === "push" && e.target.repository === repo && e.target.tag === tag);
const hookMode = (mode: "up" | "down") => docker("exec", HOOK, "node", "-e", `require("http").get("http://127.0.0.1:8080/mode/${mode}", (r) => r.resume())`);
const shipped = () => run("docker", ["exec", RSYSLOG, "cat", "/var/log/remote/all.log"], { allowFail: true }).stdout;

describe("webhooks and shipped logs on a real Docker engine", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry3", "nginx", "node", "rsyslog"]);
        startSideService(`${PREFIX}-net`, {
            name: RSYSLOG,
            alias: "rsyslog",
            image: "registry-kit-test/rsyslog:8",
            publish: [`127.0.0.1:${SYSLOG_PORT}:514/udp`, `127.0.0.1:${SYSLOG_PORT}:514/tcp`],
        });
        startWebhookReceiver(`${PREFIX}-net`, HOOK);
        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "events", ["notifications"]);
        await deploy(rendered);
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`]);
        password = rendered.outputs.adminPassword;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), rendered.outputs.caCertificate);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
        client = new RegistryClient({ work, hostsFile, certDir, registry: REGISTRY, user: "admin", password });
    }, 900_000);

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("delivers the push event of a pushed tag with the secret and the extra header, while two failing endpoints do not block the push", async () => {
        const started = Date.now();
        const digest = client.push(buildImageTar(work, PREFIX, [1 << 20]), "team/app:v1");
        // Two of three endpoints fail every delivery; the push itself is not held up by them.
        expect(Date.now() - started).toBeLessThan(60_000);
        const event = await eventually("the push event at the receiver", () => manifestPush(eventsAt("/ok"), "team/app", "v1"), 30_000);
        expect(event.target.digest).toBe(digest);
        const [delivery] = deliveriesOf("/ok", "v1", 200);
        expect(delivery.headers.authorization).toBe(SECRET);
        expect(delivery.headers["x-hook-token"]).toBe(HOOK_TOKEN);
        expect(delivery.headers["content-type"]).toBe("application/vnd.docker.distribution.events.v1+json");
        expect(event.actor.name).toBe("admin");
        // The failing endpoint is tried again and again (its first event, which blocks its queue), and pushes still work.
        await eventually("the failing endpoint's attempts", () => (failedAt("/fail") >= 3 ? true : undefined), 30_000);
        expect(client.push(buildImageTar(work, PREFIX, [1 << 20]), "team/app:v2")).toMatch(/^sha256:/);
        await eventually("the second push event", () => manifestPush(eventsAt("/ok"), "team/app", "v2"), 30_000);
        // A sample payload for the README (secrets are in headers, never in the body).
        fs.writeFileSync(path.join(work, "push-event.json"), JSON.stringify(event, null, 2));
        console.log(`push event: ${JSON.stringify(event)}`);
    });

    it("filters by target media type: layer events reach the endpoint that takes all, not the one that ignores them", async () => {
        client.pull("team/app:v1");
        const layer = await eventually("a layer push event at the endpoint that takes all", () =>
            eventsAt("/all").find((e) => e.action === "push" && e.target.repository === "team/app" && e.target.mediaType === "application/octet-stream"),
        );
        expect(layer.target.digest).toMatch(/^sha256:/);
        await eventually("a pull event at the endpoint that takes all", () => eventsAt("/all").find((e) => e.action === "pull"));
        // Both endpoints are sent each event in the same moment; give the filtered one time to have it, had it been sent.
        await new Promise((r) => setTimeout(r, 3000));
        const atReceiver = eventsAt("/ok");
        expect(atReceiver.filter((e) => e.target.mediaType === "application/vnd.docker.distribution.manifest.v2+json").length).toBeGreaterThan(0);
        expect(atReceiver.filter((e) => e.target.mediaType === "application/octet-stream")).toEqual([]);
    });

    it("retries an event while its endpoint is down; loses what is queued when the registry restarts, as Distribution's in-memory queue does", async () => {
        // Down, then up again: the event that failed is retried and arrives, and those queued behind it.
        hookMode("down");
        let failures = failedAt("/ok");
        client.push(buildImageTar(work, PREFIX, [1 << 20]), "team/app:while-down");
        await eventually("a refused attempt", () => (failedAt("/ok") > failures ? true : undefined), 30_000);
        hookMode("up");
        await eventually("the retried event", () => (deliveriesOf("/ok", "while-down", 200).length ? true : undefined), 30_000);

        // Down, a push, a registry restart, up: what was queued is gone; events after the restart arrive.
        hookMode("down");
        failures = failedAt("/ok");
        client.push(buildImageTar(work, PREFIX, [1 << 20]), "team/app:queued");
        await eventually("a refused attempt", () => (failedAt("/ok") > failures ? true : undefined), 30_000);
        docker("restart", `${PREFIX}-registry`);
        await waitHealthy([`${PREFIX}-registry`]);
        hookMode("up");
        client.push(buildImageTar(work, PREFIX, [1 << 20]), "team/app:after-restart");
        await eventually("the event after the restart", () => (deliveriesOf("/ok", "after-restart", 200).length ? true : undefined), 30_000);
        await new Promise((r) => setTimeout(r, 5000));
        expect(deliveriesOf("/ok", "queued", 200)).toEqual([]);
        // The endpoint that takes all was up throughout: it has the queued push (the registry did emit it).
        expect(manifestPush(eventsAt("/all"), "team/app", "queued")).toBeDefined();
    }, 180_000);

    it("ships one JSON access line per request from the proxy, and the registry's JSON lines, to rsyslog", async () => {
        const lines = await eventually("the proxy's line of the v1 manifest push", () => {
            const found = shipped()
                .split("\n")
                .filter((l) => l.includes(`${PREFIX}-proxy`) && l.includes('"method":"PUT"') && l.includes('"reference":"v1"'));
            return found.length ? found : undefined;
        });
        const access = JSON.parse(lines[0].slice(lines[0].indexOf("{")));
        expect(access).toMatchObject({
            remote_user: "admin",
            method: "PUT",
            repository: "team/app",
            reference: "v1",
            status: 201,
            uri: "/v2/team/app/manifests/v1",
        });
        expect(access.bytes_received).toBeGreaterThan(0);
        expect(typeof access.request_time).toBe("number");
        expect(access.remote_addr).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        const registryLine = shipped()
            .split("\n")
            .find((l) => l.includes(`${PREFIX}-registry`) && l.includes('"level":"info"'));
        expect(registryLine).toBeDefined();
        console.log(`access line: ${JSON.stringify(access)}`);
        // With token auth the proxy cannot name the user; the registry's own line of a request does.
        expect(shipped()).toMatch(new RegExp(`${PREFIX}-registry.*"auth.user.name":"admin"`));
        // The registry's line about its endpoints arrived, masked.
        expect(shipped()).toMatch(/configuring endpoint ci .*Authorization:\[redacted\] X-Hook-Token:\[redacted\]/);
    });

    it("never shows the admin password, an Authorization header or a notification secret in any log line", () => {
        const basic = Buffer.from(`admin:${password}`).toString("base64");
        const secrets = [password, basic, SECRET, SECRET.slice("Bearer ".length), HOOK_TOKEN];
        const logs = [shipped()];
        for (const name of docker("ps", "-a", "--format", "{{.Names}}")
            .split("\n")
            .filter((n) => n.startsWith(`${PREFIX}-`))) {
            const r = run("docker", ["logs", name], { allowFail: true });
            logs.push(r.stdout + r.stderr);
        }
        const all = logs.join("\n");
        expect(all.length).toBeGreaterThan(1000);
        for (const s of secrets) expect(all.includes(s), `a secret of length ${s.length}`).toBe(false);
    });

    it("plans no change on a second pulumi up, syslog driver and endpoints included", async () => {
        const second = render(stackFile(), path.join(work, "render-again"), stateFile, "events", ["notifications"]);
        const result = await deploy(second, rendered);
        for (const [name, plan] of Object.entries(result.plans)) expect(plan, name).toMatchObject({ action: "same", changed: [] });
        expect(result.replaced).toEqual([]);
        expect(docker("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", `${PREFIX}-proxy`)).toBe("syslog");
    });
});
