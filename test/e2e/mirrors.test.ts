/**
 * Pull-through mirrors on a real Docker engine: an upstream registry on the test network (standing in for
 * Docker Hub; anonymous, since Distribution 2.8 sends a mirror's upstream credentials only to a Bearer token
 * realm, which a plain registry has not, so the credentials are checked for secrecy only) behind two mirrors of the small-team stack, one anonymous on its own host name,
 * one with the registry's users on a port of its own, both behind the stack's TLS proxy.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
    buildImageTar,
    deploy,
    docker,
    eventually,
    prepare,
    proxyRequest,
    RegistryClient,
    removeByPrefix,
    render,
    Rendered,
    run,
    startSideService,
    waitHealthy,
} from "./harness";

const PREFIX = "rk-mir";
const HOST = "registry.mir.test";
const HUB = "hub.mir.test";
const HTTPS = 24443;
const MIRROR_PORT = 24500;
const UPSTREAM_PORT = 24501;
const PROMETHEUS = "http://127.0.0.1:24090";
const UPSTREAM_USER = "mirror";
const UPSTREAM_PASSWORD = `upstream-${crypto.randomBytes(12).toString("hex")}`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-mir-"));
const stateFile = path.join(work, "state.json");
const hostsFile = path.join(work, "hosts");
const certDir = path.join(work, "certs");
let rendered: Rendered;
let ca: string;
let pushedDigest: string;
let mirrorClient: RegistryClient;

function stackFile(): string {
    const config = {
        "registry-kit:topology": "small-team",
        "registry-kit:hostname": HOST,
        "registry-kit:docker": { namePrefix: PREFIX },
        "registry-kit:registry": { image: "registry-kit-test/registry:3" },
        "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: 24080 },
        "registry-kit:monitoring": {
            image: "registry-kit-test/prometheus:2",
            hostIp: "127.0.0.1",
            port: 24090,
            scrapeInterval: "2s",
            volumes: { image: "registry-kit-test/node-exporter:1" },
        },
        "registry-kit:mirrors": [
            {
                name: "hub",
                upstream: "http://upstream:5000",
                allowHttp: true,
                dockerHub: true,
                hostname: HUB,
                anonymous: true,
                ttl: "1h",
                username: UPSTREAM_USER,
                password: UPSTREAM_PASSWORD,
            },
            { name: "priv", upstream: "http://upstream:5000", allowHttp: true, httpsPort: MIRROR_PORT, username: UPSTREAM_USER, password: UPSTREAM_PASSWORD },
        ],
    };
    const file = path.join(work, `Pulumi.mir-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify({ config }));
    return file;
}

/** skopeo copy from `src` into a dir; the manifest digest, or the failure. */
function skopeoPull(src: string, creds: string[]): { code: number; digest?: string; stderr: string } {
    const dir = fs.mkdtempSync(path.join(work, "pull-"));
    const r = mirrorClient.skopeo("copy", "--preserve-digests", "--src-cert-dir", certDir, ...creds, src, `dir:${dir}`);
    if (r.code !== 0) return { code: r.code, stderr: r.stderr };
    const manifest = fs.readFileSync(path.join(dir, "manifest.json"));
    return { code: 0, digest: `sha256:${crypto.createHash("sha256").update(manifest).digest("hex")}`, stderr: r.stderr };
}

const upstreamLog = () => {
    const r = run("docker", ["logs", `${PREFIX}-upstream`], { allowFail: true });
    return r.stdout + r.stderr;
};

async function prometheusQuery(query: string): Promise<any[]> {
    const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(query)}`);
    return ((await res.json()) as { data: { result: any[] } }).data.result;
}

describe("pull-through mirrors on a real Docker engine", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry", "registry3", "nginx", "prometheus"]);
        const upstreamConfig = stringify({
            version: 0.1,
            log: { level: "info", formatter: "json" },
            storage: { filesystem: { rootdirectory: "/var/lib/registry" } },
            http: { addr: ":5000" },
        });
        startSideService(`${PREFIX}-net`, {
            name: `${PREFIX}-upstream`,
            alias: "upstream",
            image: "registry-kit-test/registry:2",
            publish: [`127.0.0.1:${UPSTREAM_PORT}:5000`],
            args: ["/etc/docker/registry/config.yml"],
            files: [{ path: "/etc/docker/registry/config.yml", content: upstreamConfig }],
        });
        // The image exists upstream before the mirrors start (Distribution 2.8 pings its upstream at start).
        const tar = buildImageTar(work, PREFIX, [2 << 20, 2 << 20]);
        const digestFile = path.join(work, "upstream-digest");
        const push = await eventually("a push into the upstream", () => {
            const r = run(
                "skopeo",
                ["copy", "--dest-tls-verify=false", "--digestfile", digestFile, `docker-archive:${tar}`, `docker://127.0.0.1:${UPSTREAM_PORT}/team/app:v1`],
                { allowFail: true },
            );
            return r.code === 0 ? r : undefined;
        });
        expect(push.code).toBe(0);
        pushedDigest = fs.readFileSync(digestFile, "utf8").trim();

        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "mir", ["mirrors"]);
        await deploy(rendered);
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-mirror-hub`, `${PREFIX}-mirror-priv`, `${PREFIX}-proxy`, `${PREFIX}-prometheus`]);
        ca = rendered.outputs.caCertificate;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), ca);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST} ${HUB}\n`);
        mirrorClient = new RegistryClient({
            work,
            hostsFile,
            certDir,
            registry: `${HOST}:${MIRROR_PORT}`,
            user: "admin",
            password: rendered.outputs.adminPassword,
        });
    }, 900_000);

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("pulls through the mirror with the registry's users, fetching from the upstream", () => {
        expect(upstreamLog()).not.toMatch(/GET \/v2\/team\/app\/manifests/);
        expect(mirrorClient.pull("team/app:v1", 2)).toBe(pushedDigest);
        expect(upstreamLog()).toMatch(/GET \/v2\/team\/app\/manifests\/v1 HTTP\/1.1" 200/);
        // Without credentials the mirror answers as the registry does.
        const anonymous = skopeoPull(`docker://${HOST}:${MIRROR_PORT}/team/app:v1`, ["--src-no-creds"]);
        expect(anonymous.code).not.toBe(0);
        expect(anonymous.stderr).toMatch(/unauthorized|authentication required/i);
    });

    it("pulls anonymously through the mirror on its own host name, its certificate naming it", () => {
        const r = skopeoPull(`docker://${HUB}:${HTTPS}/team/app:v1`, ["--src-no-creds"]);
        expect(r.stderr).toBe(r.code === 0 ? r.stderr : "no failure");
        expect(r.digest).toBe(pushedDigest);
    });

    it("refuses pushes: Distribution's proxy mode on the authenticated mirror, the proxy on the anonymous one", async () => {
        const tar = buildImageTar(work, PREFIX, [1 << 20]);
        expect(() => mirrorClient.push(tar, "team/pushed:v1")).toThrow(/unsupported|denied|not allowed|405/i);
        const post = await proxyRequest({ port: HTTPS, hostname: HUB, ca, user: "x", password: "x" }, "POST", "/v2/team/pushed/blobs/uploads/");
        expect(post.status).toBe(405);
        expect(post.body.toString()).toMatch(/"code":"UNSUPPORTED"/);
        // The registry itself still takes pushes on its own name.
        const own = await proxyRequest(
            { port: HTTPS, hostname: HOST, ca, user: "admin", password: rendered.outputs.adminPassword },
            "POST",
            "/v2/team/pushed/blobs/uploads/",
        );
        expect(own.status).toBe(202);
    });

    it("serves the cached image with the upstream stopped", () => {
        docker("stop", `${PREFIX}-upstream`);
        try {
            expect(mirrorClient.pull("team/app:v1", 2)).toBe(pushedDigest);
            expect(skopeoPull(`docker://${HUB}:${HTTPS}/team/app:v1`, ["--src-no-creds"]).digest).toBe(pushedDigest);
            // An image the mirror never fetched is not there.
            expect(() => mirrorClient.pull("team/never:v1")).toThrow();
        } finally {
            docker("start", `${PREFIX}-upstream`);
        }
    });

    it("has a second Docker daemon, given the generated registry-mirrors and the CA, pull a Docker Hub name through the mirror", async () => {
        // The machine's dockerd is left alone: a daemon of the test's own, in a private mount namespace whose
        // /etc/hosts names the mirror on loopback and sends Docker Hub's names nowhere (no fallback off the machine).
        const dir = fs.mkdtempSync(path.join(work, "dockerd-"));
        const sock = "/run/rk-mirror-docker.sock";
        fs.writeFileSync(path.join(dir, "daemon.json"), rendered.outputs.mirrorDockerDaemonJson);
        fs.mkdirSync(path.join(dir, "certs.d", `${HUB}:${HTTPS}`), { recursive: true });
        fs.writeFileSync(path.join(dir, "certs.d", `${HUB}:${HTTPS}`, "ca.crt"), ca);
        const hubNames = "registry-1.docker.io index.docker.io auth.docker.io production.cloudflare.docker.com docker.io";
        fs.writeFileSync(path.join(dir, "hosts"), `127.0.0.1 localhost\n127.0.0.1 ${HUB}\n127.0.0.2 ${hubNames}\n`);
        // Its own bridge: with --bridge=none, dockerd deletes the host's docker0 at start (the main engine's default network).
        run("ip", ["link", "del", "rkmir0"], { allowFail: true });
        run("ip", ["link", "add", "rkmir0", "type", "bridge"]);
        run("ip", ["addr", "add", "10.231.77.1/24", "dev", "rkmir0"]);
        run("ip", ["link", "set", "rkmir0", "up"]);
        const script = [
            "set -e",
            'mount --bind "$0/hosts" /etc/hosts',
            "mkdir -p /etc/docker/certs.d",
            'mount --bind "$0/certs.d" /etc/docker/certs.d',
            `exec dockerd --data-root "$0/data" --exec-root "$0/exec" --pidfile "$0/dockerd.pid" -H unix://${sock} --bridge=rkmir0 --iptables=false --ip6tables=false --storage-driver vfs --config-file "$0/daemon.json"`,
        ].join("\n");
        const daemon = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", script, dir], { stdio: ["ignore", "ignore", "pipe"] });
        let daemonLog = "";
        daemon.stderr.on("data", (d) => (daemonLog += d.toString()));
        try {
            await eventually(
                "the second dockerd",
                () => (run("docker", ["-H", `unix://${sock}`, "version"], { allowFail: true }).code === 0 ? true : undefined),
                60_000,
            );
            const mirrors = run("docker", ["-H", `unix://${sock}`, "info", "--format", "{{json .RegistryConfig.Mirrors}}"]).stdout.trim();
            expect(JSON.parse(mirrors)).toEqual([`https://${HUB}:${HTTPS}/`]);
            const pull = run("docker", ["-H", `unix://${sock}`, "pull", "team/app:v1"], { allowFail: true, timeoutMs: 120_000 });
            expect(pull.stderr + daemonLog.slice(-2000), "pull").toBe(pull.code === 0 ? pull.stderr + daemonLog.slice(-2000) : "no failure");
            expect(pull.stdout).toContain(`Digest: ${pushedDigest}`);
            expect(pull.stdout).toContain("docker.io/team/app:v1");
            const proxyLog = run("docker", ["logs", `${PREFIX}-proxy`], { allowFail: true }).stdout;
            // The proxy's JSON access lines (one object a line): Docker's HEAD by tag, then its GET by digest.
            const lines = proxyLog
                .split("\n")
                .filter((l) => l.startsWith("{"))
                .map((l) => JSON.parse(l));
            const head = lines.findIndex(
                (e) => e.method === "HEAD" && e.uri === "/v2/team/app/manifests/v1" && e.status === 200 && /^docker\//.test(e.user_agent),
            );
            expect(head, "Docker's HEAD through the mirror").toBeGreaterThanOrEqual(0);
            expect(
                lines.slice(head + 1).some((e) => e.method === "GET" && /^\/v2\/team\/app\/manifests\/sha256:[0-9a-f]{64}$/.test(e.uri) && e.status === 200),
            ).toBe(true);
        } finally {
            const pid = fs.existsSync(path.join(dir, "dockerd.pid")) ? Number(fs.readFileSync(path.join(dir, "dockerd.pid"), "utf8")) : daemon.pid;
            if (pid) process.kill(pid, "SIGTERM");
            await eventually("the second dockerd to stop", () => (daemon.exitCode !== null || daemon.signalCode !== null ? true : undefined), 60_000);
            fs.rmSync(dir, { recursive: true, force: true });
            run("ip", ["link", "del", "rkmir0"], { allowFail: true });
            // The machine's engine still has its default bridge.
            expect(run("ip", ["link", "show", "docker0"], { allowFail: true }).code).toBe(0);
        }
    }, 240_000);

    it("has Prometheus scrape each mirror; the cache hits and misses are in the debug server's /debug/vars", async () => {
        const up = await eventually(
            "both mirrors up in Prometheus",
            async () => {
                const r = await prometheusQuery('up{job="registry-mirror"}');
                return r.length === 2 && r.every((s) => s.value[1] === "1") ? r : undefined;
            },
            60_000,
        );
        expect(up.map((s) => s.metric.mirror).sort()).toEqual(["hub", "priv"]);
        // Distribution 2.8 counts proxy hits and misses in expvar (/debug/vars), not in /metrics.
        const vars = JSON.parse(docker("exec", `${PREFIX}-mirror-priv`, "wget", "-q", "-O", "-", "http://127.0.0.1:5002/debug/vars"));
        const proxy = vars.registry.proxy;
        // The manifest was fetched once (a miss) and served from the cache with the upstream stopped (a hit).
        expect(proxy.manifests.Misses).toBeGreaterThanOrEqual(1);
        expect(proxy.manifests.Hits).toBeGreaterThanOrEqual(1);
        expect(proxy.manifests.BytesPulled).toBeGreaterThan(0);
        // 2.8 counts every blob served as a request and a hit, and never a blob miss (measured: Misses 0, BytesPulled 0).
        expect(proxy.blobs.Requests).toBeGreaterThanOrEqual(4);
        // Its /metrics has no registry_proxy_* (registry 3 adds them there, labelled type="blob"|"manifest").
        const metrics = docker("exec", `${PREFIX}-mirror-priv`, "wget", "-q", "-O", "-", "http://127.0.0.1:5002/metrics");
        expect(metrics).toMatch(/^registry_http_requests_total/m);
        expect(metrics).not.toMatch(/^registry_proxy_/m);
    });

    it("keeps the upstream password out of every file, the logs and the outputs, and in the secret env", () => {
        const files = run("grep", ["-rl", UPSTREAM_PASSWORD, path.join(rendered.dir, "files")], { allowFail: true });
        expect(files.stdout).toBe("");
        for (const name of [`${PREFIX}-mirror-hub`, `${PREFIX}-mirror-priv`, `${PREFIX}-proxy`]) {
            const logs = run("docker", ["logs", name], { allowFail: true });
            expect(logs.stdout + logs.stderr, name).not.toContain(UPSTREAM_PASSWORD);
        }
        expect(JSON.stringify(rendered.outputs)).not.toContain(UPSTREAM_PASSWORD);
        expect(docker("inspect", "-f", "{{json .Config.Env}}", `${PREFIX}-mirror-priv`)).toContain(`REGISTRY_PROXY_PASSWORD=${UPSTREAM_PASSWORD}`);
    });

    it("outputs what clients paste", () => {
        expect(JSON.parse(rendered.outputs.mirrorDockerDaemonJson)).toEqual({ "registry-mirrors": [`https://${HUB}:${HTTPS}`] });
        const hosts = rendered.outputs.mirrorContainerdHosts;
        expect(Object.keys(hosts).sort()).toEqual([
            "/etc/containerd/certs.d/docker.io/hosts.toml",
            "/etc/containerd/certs.d/docker.io/registry-kit-ca.crt",
            "/etc/containerd/certs.d/upstream:5000/hosts.toml",
            "/etc/containerd/certs.d/upstream:5000/registry-kit-ca.crt",
        ]);
        expect(hosts["/etc/containerd/certs.d/docker.io/hosts.toml"]).toContain(`[host."https://${HUB}:${HTTPS}"]\n  capabilities = ["pull", "resolve"]`);
        expect(rendered.outputs.mirrors.priv.pull).toContain(`docker pull ${HOST}:${MIRROR_PORT}/<path>:<tag>`);
    });

    it("plans no change on a second pulumi up", async () => {
        const second = render(stackFile(), path.join(work, "render-again"), stateFile, "mir", ["mirrors"]);
        const result = await deploy(second, rendered);
        for (const [name, plan] of Object.entries(result.plans)) expect(plan, name).toMatchObject({ action: "same", changed: [] });
        expect(Object.keys(result.plans)).toContain(`${PREFIX}-mirror-hub`);
        expect(result.replaced).toEqual([]);
        expect(result.updated).toEqual([]);
    });
});
