/**
 * small-team on Docker Swarm (docker.mode: swarm), on a real two-node swarm: a manager dockerd of the
 * test's own (its socket, data root, exec root, pidfile and bridge rkswm0, without iptables) and a worker
 * dockerd in a network namespace of its own (rkswm-b, joined to rkswm0 by a veth pair, hostname
 * rkswm-b), the stand-in images loaded into them, an S3 server (moto) beside the manager. The harness
 * applies the rendered services, secrets and configs through the Engine API as the pinned provider
 * would. Proven: registry replicas on both nodes, push and pull through the proxy with blobs served by
 * the worker's replica over the overlay network, scaling 2 → 3, a rolling config update, a killed task
 * and a drained worker, each with a pull loop running and no failed pull, a second up that plans no
 * change, no secret in any service spec or log, and a destroy that leaves the images in the bucket.
 * The machine's engine is never touched.
 *
 * Networking without iptables (see DESIGN.md): the worker's tasks reach S3 (published on the manager's
 * bridge address) through the worker's docker_gwbridge, which the test creates with a subnet of its own
 * (10.233.53.0/24), forwarding in the worker's namespace and a route back on the host: there is no NAT.
 * The overlay network's VXLAN works between the namespaces because both nodes' addresses are on one
 * link: the kernel drops VXLAN packets whose source is not the address of the static FDB entry Docker
 * made for the peer (its advertise address). No IPVS: every service is endpoint mode dnsrr.
 */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applySwarm, buildImageTar, destroySwarm, engineApi, eventually, prepare, RegistryClient, render, Rendered, run } from "./harness";

const PREFIX = "rk-swarm";
const HOST = "registry.swarm.test";
const HTTPS = 33443;
const BRIDGE = "rkswm0";
const BRIDGE_IP = "10.233.50.1";
const S3_PORT = 33501;
const RUN_DIR = "/run/rk-swarm";
const DATA_ROOT = "/var/lib/rk-swarm";
const SOCKET = `${RUN_DIR}/docker.sock`;
// The worker: its own network namespace, on the manager's bridge through a veth pair.
const WORKER_NS = "rkswm-b";
const WORKER_IP = "10.233.50.254";
const VETH_HOST = "rkswv0";
const VETH_WORKER = "rkswv1";
const WORKER_RUN = `${RUN_DIR}/worker`;
const WORKER_SOCKET = `${WORKER_RUN}/docker.sock`;
/**
 * A Swarm agent tries to pull a task's image (by tag) before every start, and only then uses the local
 * copy: a DNS lookup of Docker Hub each time, answered quickly on the host but lost from the worker's
 * namespace (about 20 s a task). Engines that find every image loaded need no pull.
 */
const ENGINE_ENV = { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: "1" };
/** The worker's docker_gwbridge (its tasks' way to S3), routed from the host through the worker. */
const WORKER_GW_SUBNET = "10.233.53.0/24";
const S3_KEY = "rk-swarm-access";
const S3_SECRET = "rk-swarm-secret-key-7f3a9c";
const READER_PASSWORD = "rk-swarm-reader-password-4c1e";
const IMAGES = [
    "registry-kit-test/registry:2",
    "registry-kit-test/nginx:1-njs",
    "registry-kit-test/prometheus:2",
    "registry-kit-test/redis:7",
    "registry-kit-test/s3:2",
];

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-swarm-"));
const stateFile = path.join(work, "state.json");
const certDir = path.join(work, "certs");
const hostsFile = path.join(work, "hosts");
const sw = (...args: string[]) => run("docker", ["-H", `unix://${SOCKET}`, ...args], { timeoutMs: 300_000 });
const wk = (...args: string[]) => run("docker", ["-H", `unix://${WORKER_SOCKET}`, ...args], { timeoutMs: 300_000 });
const inWorker = (...args: string[]) => run("ip", ["netns", "exec", WORKER_NS, ...args]);
let daemon: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let daemonLog = "";
let workerLog = "";
let workerId = "";
let rendered: Rendered;
let client: RegistryClient;
let digest = "";

function stackFile(o: { replicas?: number; logLevel?: string } = {}): string {
    const file = path.join(work, `Pulumi.swarm-${o.replicas ?? 2}-${o.logLevel ?? "info"}.yaml`);
    const yaml = `config:
  registry-kit:hostname: ${HOST}
  registry-kit:docker:
    mode: swarm
    namePrefix: ${PREFIX}
    swarm:
      nodes: 2
      # A new task counts as running from its first healthy check: every rollout and replacement waits one interval.
      healthInterval: 2s
      registry:
        update:
          delay: 2s
          monitor: 5s
      # Only the registry runs on the worker (the only image loaded there); the proxy's host-mode ports on the manager are 127.0.0.1's.
      proxy: { constraints: [node.role==manager] }
      prometheus: { constraints: [node.role==manager] }
      redis: { constraints: [node.role==manager] }
  registry-kit:auth:
    users:
      - name: reader
        password: ${READER_PASSWORD}
        access: [{ repositories: ["team/*"], actions: [pull] }]
  registry-kit:proxy:
    image: registry-kit-test/nginx:1-njs
    httpsPort: ${HTTPS}
    httpPort: 33080
  registry-kit:monitoring:
    image: registry-kit-test/prometheus:2
    hostIp: 0.0.0.0
    port: 33090
    scrapeInterval: 5s
  registry-kit:registry:
    image: registry-kit-test/registry:2
    replicas: ${o.replicas ?? 2}
    logLevel: ${o.logLevel ?? "info"}
    redis:
      image: registry-kit-test/redis:7
    storage:
      type: s3
      s3:
        create: false
        bucket: images
        region: us-east-1
        regionEndpoint: http://${BRIDGE_IP}:${S3_PORT}
        secure: false
        encrypt: false
        accessKey: ${S3_KEY}
        secretKey: ${S3_SECRET}
`;
    fs.writeFileSync(file, yaml);
    return file;
}

/** Pulls `ref` again and again (each a fresh skopeo process) until stopped; counts the failures. */
function pullLoop(ref: string) {
    const result = { ok: 0, failed: [] as string[] };
    let stop = false;
    const one = () =>
        new Promise<void>((resolve) => {
            const dir = fs.mkdtempSync(path.join(work, "loop-"));
            const args = [
                "-m",
                "sh",
                "-c",
                'mount --bind "$0" /etc/hosts && exec "$@"',
                hostsFile,
                "skopeo",
                "--command-timeout",
                "60s",
                "copy",
                "--src-cert-dir",
                certDir,
                "--src-creds",
                `admin:${rendered.outputs.adminPassword}`,
                `docker://${HOST}:${HTTPS}/${ref}`,
                `dir:${dir}`,
            ];
            const p = spawn("unshare", args, { stdio: ["ignore", "ignore", "pipe"] });
            let err = "";
            p.stderr.on("data", (d) => (err += d.toString()));
            p.on("exit", (code) => {
                if (code === 0) result.ok++;
                else result.failed.push(err.trim().slice(-300));
                fs.rmSync(dir, { recursive: true, force: true });
                resolve();
            });
        });
    const done = (async () => {
        while (!stop) await one();
    })();
    /** Resolves once `n` more pulls than now have succeeded (a failed one ends the wait: the assertions report it). */
    const more = (n: number, what: string) => {
        const target = result.ok + n;
        return eventually(`${n} more successful pulls ${what}`, () => (result.ok >= target || result.failed.length > 0 ? true : undefined), 120_000, 200);
    };
    return { result, more, stop: async () => ((stop = true), await done, result) };
}

/** Running tasks of `service` (each with its NodeID). */
const tasks = (service: string) =>
    (engineApi(SOCKET, "GET", `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], "desired-state": ["running"] }))}`) as any[]).filter(
        (t) => t.Status.State === "running",
    );

/** How many of `service`'s running tasks each node has: [manager, worker]. */
const placement = (service: string) => {
    const t = tasks(service);
    return [t.filter((x) => x.NodeID !== workerId).length, t.filter((x) => x.NodeID === workerId).length];
};

/** Runs `cmd` in the background; resolves when it exits 0, rejects with its stderr otherwise. */
function background(cmd: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
        const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        p.stderr.on("data", (d) => (err += d.toString()));
        p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} failed (${code}): ${err}`))));
    });
}

/** Stops the dockerd whose pidfile is in `runDir` and waits for it to exit. */
function stopDaemon(runDir: string, fallback: number | undefined): void {
    const pidFile = `${runDir}/dockerd.pid`;
    const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8")) : fallback;
    if (!pid) return;
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        return;
    }
    // Gone, or a zombie: the test's own child stays one until node reaps it, which it cannot while this waits.
    run(
        "sh",
        [
            "-c",
            `for i in $(seq 1 300); do s=$(awk '/^State:/ {print $2}' /proc/${pid}/status 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ] || break; sleep 0.2; done`,
        ],
        {
            allowFail: true,
            timeoutMs: 90_000,
        },
    );
}

function cleanup(): void {
    stopDaemon(WORKER_RUN, worker?.pid);
    stopDaemon(RUN_DIR, daemon?.pid);
    // What a daemon left mounted under its roots (after a crash), innermost first.
    run("sh", ["-c", `grep -o ' ${RUN_DIR}[^ ]*\\| ${DATA_ROOT}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { allowFail: true });
    for (const dir of [RUN_DIR, DATA_ROOT]) fs.rmSync(dir, { recursive: true, force: true });
    // Deleting the namespace deletes the veth pair with it; the route goes with the bridge.
    run("ip", ["netns", "del", WORKER_NS], { allowFail: true });
    run("ip", ["link", "del", VETH_HOST], { allowFail: true });
    run("ip", ["route", "del", WORKER_GW_SUBNET], { allowFail: true });
    run("ip", ["link", "del", BRIDGE], { allowFail: true });
}

/** The worker's network namespace on the bridge, and its dockerd (own roots, socket, bridge and hostname; no iptables). */
function startWorker(): void {
    fs.mkdirSync(WORKER_RUN, { recursive: true });
    run("ip", ["netns", "add", WORKER_NS]);
    run("ip", ["link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_WORKER]);
    run("ip", ["link", "set", VETH_WORKER, "netns", WORKER_NS]);
    run("ip", ["link", "set", VETH_HOST, "master", BRIDGE, "up"]);
    inWorker("ip", "addr", "add", `${WORKER_IP}/24`, "dev", VETH_WORKER);
    inWorker("ip", "link", "set", VETH_WORKER, "up");
    inWorker("ip", "link", "set", "lo", "up");
    // No default route: from the worker's namespace only the bridge's subnet (the manager, S3) is reachable.
    // Tasks' traffic to S3 leaves through the worker's docker_gwbridge: forwarded here, routed back by the host, no NAT.
    inWorker("sysctl", "-qw", "net.ipv4.ip_forward=1");
    run("ip", ["route", "add", WORKER_GW_SUBNET, "via", WORKER_IP]);
    // nsenter, not `ip netns exec`: that remounts /sys, and dockerd then finds no devices cgroup.
    worker = spawn(
        "nsenter",
        [
            `--net=/run/netns/${WORKER_NS}`,
            "unshare",
            "--uts",
            "sh",
            "-c",
            'hostname "$0" && exec dockerd "$@"',
            WORKER_NS,
            `--data-root=${DATA_ROOT}/worker`,
            `--exec-root=${WORKER_RUN}/exec`,
            `--pidfile=${WORKER_RUN}/dockerd.pid`,
            "-H",
            `unix://${WORKER_SOCKET}`,
            "--bip=10.233.52.1/24",
            "--iptables=false",
            "--ip6tables=false",
        ],
        { stdio: ["ignore", "ignore", "pipe"], env: ENGINE_ENV },
    );
    worker.stderr!.on("data", (d) => (workerLog = (workerLog + d.toString()).slice(-20_000)));
}

describe("small-team on Docker Swarm", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry", "nginx", "prometheus", "s3", "redis", "client"]);
        cleanup();
        fs.mkdirSync(RUN_DIR, { recursive: true });
        fs.mkdirSync(DATA_ROOT, { recursive: true });
        // Both engines' data in memory: images load faster and the cleanup is an unmount, not a long rm.
        run("mount", ["-t", "tmpfs", "-o", "size=6g,mode=0711", "rk-swarm-data", DATA_ROOT]);
        // Its own bridge: a dockerd without one would take (or, with --bridge=none, delete) the host's docker0.
        run("ip", ["link", "add", BRIDGE, "type", "bridge"]);
        run("ip", ["addr", "add", `${BRIDGE_IP}/24`, "dev", BRIDGE]);
        run("ip", ["link", "set", BRIDGE, "up"]);
        daemon = spawn(
            "dockerd",
            [
                `--data-root=${DATA_ROOT}/data`,
                `--exec-root=${RUN_DIR}/exec`,
                `--pidfile=${RUN_DIR}/dockerd.pid`,
                `-H`,
                `unix://${SOCKET}`,
                `--bridge=${BRIDGE}`,
                // Containers on the bridge (the S3 server) get addresses below the worker's.
                "--fixed-cidr=10.233.50.0/25",
                "--iptables=false",
                "--ip6tables=false",
            ],
            { stdio: ["ignore", "ignore", "pipe"], env: ENGINE_ENV },
        );
        daemon.stderr!.on("data", (d) => (daemonLog = (daemonLog + d.toString()).slice(-20_000)));
        startWorker();
        for (const [what, socket] of [
            ["the manager's dockerd", SOCKET],
            ["the worker's dockerd", WORKER_SOCKET],
        ])
            await eventually(what, () => (run("docker", ["-H", `unix://${socket}`, "version"], { allowFail: true }).code === 0 ? true : undefined), 60_000);
        // The worker runs only registry tasks: it gets only the registry's image.
        const loads = Promise.all([
            background("bash", ["-o", "pipefail", "-c", `docker save ${IMAGES.join(" ")} | docker -H unix://${SOCKET} load`]),
            background("bash", ["-o", "pipefail", "-c", `docker save ${IMAGES[0]} | docker -H unix://${WORKER_SOCKET} load`]),
        ]);
        loads.catch(() => undefined); // awaited below; a failure then fails the setup
        sw("swarm", "init", "--advertise-addr", BRIDGE_IP, "--listen-addr", `${BRIDGE_IP}:2377`);
        // Before joining: left to itself Docker picks 172.18.0.0/16, which the host routes to its own docker_gwbridge.
        wk(
            "network",
            "create",
            "--subnet",
            WORKER_GW_SUBNET,
            "--opt",
            "com.docker.network.bridge.name=docker_gwbridge",
            "--opt",
            "com.docker.network.bridge.enable_icc=false",
            "--opt",
            "com.docker.network.bridge.enable_ip_masquerade=false",
            "docker_gwbridge",
        );
        const token = sw("swarm", "join-token", "-q", "worker").stdout.trim();
        wk("swarm", "join", "--token", token, "--advertise-addr", WORKER_IP, "--listen-addr", `${WORKER_IP}:2377`, `${BRIDGE_IP}:2377`);
        workerId = engineApi(WORKER_SOCKET, "GET", "/info").Swarm.NodeID;
        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "swarm", ["registry", "auth"]);
        await loads;
        // The test's S3 server, beside the swarm on the bridge address every node reaches.
        sw(
            "run",
            "-d",
            "--name",
            `${PREFIX}-s3`,
            "-p",
            `${BRIDGE_IP}:${S3_PORT}:9000`,
            "-e",
            `S3_ACCESS_KEY=${S3_KEY}`,
            "-e",
            `S3_SECRET_KEY=${S3_SECRET}`,
            "-e",
            "S3_BUCKET=images",
            "registry-kit-test/s3:2",
        );

        await applySwarm(rendered, SOCKET);
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), rendered.outputs.caCertificate);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
        client = new RegistryClient({ work, hostsFile, certDir, registry: `${HOST}:${HTTPS}`, user: "admin", password: rendered.outputs.adminPassword });
    }, 900_000);

    afterAll(() => {
        cleanup();
        // The machine's engine still has its default bridge.
        expect(run("ip", ["link", "show", "docker0"], { allowFail: true }).code).toBe(0);
        fs.rmSync(work, { recursive: true, force: true });
    }, 180_000);

    it("runs the registry, proxy, Redis and Prometheus as services, every task healthy", () => {
        const services = (engineApi(SOCKET, "GET", "/services") as any[]).map((s) => s.Spec.Name).sort();
        expect(services).toEqual([`${PREFIX}-prometheus`, `${PREFIX}-proxy`, `${PREFIX}-redis`, `${PREFIX}-registry`]);
        expect(tasks(`${PREFIX}-registry`)).toHaveLength(2);
        const containers = [sw, wk].flatMap((engine) => engine("ps", "--format", "{{.Names}} {{.Status}}").stdout.split("\n"));
        const ours = containers.filter((l) => l.startsWith(PREFIX) && !l.startsWith(`${PREFIX}-s3`));
        expect(ours).toHaveLength(5);
        for (const line of ours) expect(line).toContain("(healthy)");
    });

    it("runs the registry on both nodes: the manager and the worker in its own network namespace", () => {
        const nodes = (engineApi(SOCKET, "GET", "/nodes") as any[]).map((n) => [n.Description.Hostname, n.Spec.Role, n.Status.State, n.Status.Addr]);
        expect(nodes.sort()).toEqual(
            [
                [WORKER_NS, "worker", "ready", WORKER_IP],
                [os.hostname(), "manager", "ready", BRIDGE_IP],
            ].sort(),
        );
        // Spread over node.id: one replica on each node; the worker's container runs on the worker's engine.
        expect(placement(`${PREFIX}-registry`)).toEqual([1, 1]);
        const onWorker = tasks(`${PREFIX}-registry`).find((t) => t.NodeID === workerId);
        expect(wk("inspect", "-f", "{{.State.Health.Status}}", onWorker.Status.ContainerStatus.ContainerID).stdout.trim()).toBe("healthy");
        for (const service of ["proxy", "redis", "prometheus"]) expect(placement(`${PREFIX}-${service}`)).toEqual([1, 0]);
    });

    it("pushes a multi-layer image through the proxy and pulls it back", () => {
        digest = client.push(buildImageTar(work, PREFIX, [6 << 20, 256 << 10]), "team/app:v1");
        expect(client.pull("team/app:v1", 2)).toBe(digest);
        expect(client.pull("team/app:v1", 2)).toBe(digest);
    });

    it("checks users at the proxy: a pull-only user pulls and gets 403 on push, a wrong password 401", () => {
        const reader = new RegistryClient({ work, hostsFile, certDir, registry: `${HOST}:${HTTPS}`, user: "reader", password: READER_PASSWORD });
        expect(reader.pull("team/app:v1", 2)).toBe(digest);
        expect(() => reader.push(buildImageTar(work, `${PREFIX}-r`, [64 << 10]), "team/app:r1")).toThrow(/denied|403/i);
        const wrong = new RegistryClient({ work, hostsFile, certDir, registry: `${HOST}:${HTTPS}`, user: "reader", password: "not-the-password" });
        expect(() => wrong.pull("team/app:v1")).toThrow(/401|unauthorized|authentication required/i);
    });

    it("serves blobs from the worker's replica: the proxy on the manager reaches it over the overlay, it reads them from S3", () => {
        const onWorker = tasks(`${PREFIX}-registry`).find((t) => t.NodeID === workerId);
        const log = wk("logs", onWorker.Status.ContainerStatus.ContainerID);
        const entries = (log.stdout + log.stderr)
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l));
        // Blob downloads it answered: the registry is published nowhere, so they came over the overlay
        // network, from the proxy (the Host header nginx passes on), and it read the blobs from S3.
        const served = entries.filter(
            (e) =>
                e.msg === "response completed" &&
                e["http.request.method"] === "GET" &&
                /^\/v2\/team\/app\/blobs\/sha256:[0-9a-f]{64}$/.test(e["http.request.uri"]) &&
                e["http.response.status"] === 200,
        );
        expect(served.length, log.stdout.slice(-3000)).toBeGreaterThan(0);
        expect(new Set(served.map((e) => e["http.request.host"]))).toEqual(new Set([`${HOST}:${HTTPS}`]));
    });

    it("plans no change on a second up, judged by what Docker reports", async () => {
        const again = render(stackFile(), path.join(work, "render-again"), stateFile, "swarm", ["registry", "auth"]);
        const plan = await applySwarm(again, SOCKET, { planOnly: true });
        expect(
            Object.entries(plan.actions).filter(([, a]) => a !== "same"),
            JSON.stringify(plan.changed),
        ).toEqual([]);
        expect([plan.actions[`${PREFIX}-registry`], plan.actions[`${PREFIX}-proxy`], plan.actions[`${PREFIX}-registry-s3-secret-key`]]).toEqual([
            "same",
            "same",
            "same",
        ]);
    });

    it("has no secret in any service spec, environment or log", () => {
        const specs = JSON.stringify(engineApi(SOCKET, "GET", "/services"));
        const logs = (engineApi(SOCKET, "GET", "/services") as any[])
            .map((s) => sw("service", "logs", "--raw", s.Spec.Name).stdout + sw("service", "logs", "--raw", s.Spec.Name).stderr)
            .join("\n");
        const secrets = rendered.resources.filter((r) => r.type === "docker:index/secret:Secret").map((r) => Buffer.from(r.inputs.data, "base64").toString());
        // htpasswd, http.secret, S3 key, Redis password, Redis config, the TLS key, the proxy's check's keys.
        expect(secrets.length).toBe(7);
        for (const value of [
            ...secrets.flatMap((v) => v.split("\n")).filter((l) => l.length >= 16 && !l.startsWith("-----")),
            S3_SECRET,
            rendered.outputs.adminPassword,
            READER_PASSWORD,
        ]) {
            expect(specs).not.toContain(value);
            expect(logs).not.toContain(value);
        }
        // The S3 key reached the registry only as a file: a push and pull to the bucket worked.
        expect(specs).toContain("/run/secrets/registry-s3-secret-key");
    });

    it("scales the registry from 2 to 3 replicas with a pull loop running and no failed pull", async () => {
        const loop = pullLoop("team/app:v1");
        await loop.more(1, "before the change");
        rendered = render(stackFile({ replicas: 3 }), path.join(work, "render-3"), stateFile, "swarm", ["registry", "auth"]);
        const plan = await applySwarm(rendered, SOCKET);
        expect(plan.actions[`${PREFIX}-registry`]).toBe("update");
        expect(plan.changed[`${PREFIX}-registry`]).toEqual(["mode.replicated.replicas"]);
        await loop.more(2, "after it");
        const result = await loop.stop();
        expect(tasks(`${PREFIX}-registry`)).toHaveLength(3);
        expect(result.failed).toEqual([]);
        expect(result.ok).toBeGreaterThan(3);
    }, 600_000);

    it("rolls an update of the registry config (start-first) with no failed pull", async () => {
        const before = tasks(`${PREFIX}-registry`).map((t) => t.ID);
        const loop = pullLoop("team/app:v1");
        await loop.more(1, "before the change");
        rendered = render(stackFile({ replicas: 3, logLevel: "debug" }), path.join(work, "render-debug"), stateFile, "swarm", ["registry", "auth"]);
        const plan = await applySwarm(rendered, SOCKET);
        // A new config (its name carries the new hash), the service pointed at it, the old config removed.
        expect(plan.actions[`${PREFIX}-registry-config`]).toBe("create");
        expect(plan.actions[`${PREFIX}-registry`]).toBe("update");
        await loop.more(2, "after it");
        const result = await loop.stop();
        const after = tasks(`${PREFIX}-registry`).map((t) => t.ID);
        expect(after).toHaveLength(3);
        expect(after.filter((id) => before.includes(id))).toEqual([]);
        expect(result.failed).toEqual([]);
        expect(result.ok).toBeGreaterThan(3);
        const configs = (engineApi(SOCKET, "GET", "/configs") as any[]).map((c) => c.Spec.Name).filter((n) => n.startsWith(`${PREFIX}-registry-config-`));
        expect(configs).toHaveLength(1);
    }, 600_000);

    it("replaces a killed registry task on the worker while pulls keep working", async () => {
        const loop = pullLoop("team/app:v1");
        await loop.more(1, "before the change");
        const victim = tasks(`${PREFIX}-registry`).find((t) => t.NodeID === workerId);
        wk("kill", victim.Status.ContainerStatus.ContainerID);
        await eventually(
            "Swarm to replace the killed task",
            () => {
                const now = tasks(`${PREFIX}-registry`);
                return now.length === 3 && !now.some((t) => t.ID === victim.ID) ? now : undefined;
            },
            120_000,
            1000,
        );
        await loop.more(2, "after it");
        const result = await loop.stop();
        expect(result.failed).toEqual([]);
        expect(result.ok).toBeGreaterThan(3);
    }, 300_000);

    it("scrapes every registry replica through Docker's DNS", async () => {
        const up = await eventually(
            "three registry targets up in Prometheus",
            async () => {
                const r = await fetch(`http://127.0.0.1:33090/api/v1/query?query=${encodeURIComponent('up{job="registry"}')}`).then(
                    (x) => x.json() as Promise<any>,
                );
                const series = r.data.result as { value: [number, string] }[];
                return series.length === 3 && series.every((s) => s.value[1] === "1") ? series : undefined;
            },
            90_000,
            2000,
        );
        expect(up).toHaveLength(3);
    }, 120_000);

    it("moves the worker's replicas to the manager when the worker is drained, with no failed pull", async () => {
        expect(placement(`${PREFIX}-registry`)[1]).toBeGreaterThan(0);
        const loop = pullLoop("team/app:v1");
        await loop.more(1, "before the change");
        const node = engineApi(SOCKET, "GET", `/nodes/${workerId}`);
        engineApi(SOCKET, "POST", `/nodes/${workerId}/update?version=${node.Version.Index}`, { ...node.Spec, Availability: "drain" });
        await eventually(
            "the worker's registry tasks to move to the manager",
            () => {
                const [manager, onWorker] = placement(`${PREFIX}-registry`);
                return manager === 3 && onWorker === 0 ? true : undefined;
            },
            120_000,
            1000,
        );
        await loop.more(2, "after it");
        const result = await loop.stop();
        expect(wk("ps", "-q", "--filter", `label=com.docker.swarm.service.name=${PREFIX}-registry`).stdout.trim()).toBe("");
        expect(result.failed).toEqual([]);
        expect(result.ok).toBeGreaterThan(3);
    }, 300_000);

    it("leaves the images in the bucket on destroy", async () => {
        await destroySwarm(rendered, SOCKET);
        expect((engineApi(SOCKET, "GET", "/services") as any[]).length).toBe(0);
        expect((engineApi(SOCKET, "GET", "/secrets") as any[]).filter((s) => s.Spec.Name.startsWith(PREFIX))).toEqual([]);
        const listing = sw(
            "exec",
            `${PREFIX}-s3`,
            "python3",
            "-c",
            "import boto3,os;c=boto3.client('s3',endpoint_url='http://127.0.0.1:9000',aws_access_key_id=os.environ['S3_ACCESS_KEY'],aws_secret_access_key=os.environ['S3_SECRET_KEY'],region_name='us-east-1');print(sum(1 for o in c.list_objects_v2(Bucket='images').get('Contents',[])))",
        ).stdout.trim();
        expect(Number(listing)).toBeGreaterThan(3);
        // A redeploy serves the same image from the bucket.
        await applySwarm(rendered, SOCKET);
        expect(client.pull("team/app:v1", 2)).toBe(digest);
    }, 600_000);
});
