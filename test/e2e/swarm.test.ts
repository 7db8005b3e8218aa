/**
 * small-team on Docker Swarm (docker.mode: swarm), on a real swarm: a dockerd of the test's own (its
 * socket, data root, exec root, pidfile and bridge rkswm0, without iptables), `docker swarm init` on it,
 * the stand-in images loaded into it, an S3 server (moto) beside it. The harness applies the rendered
 * services, secrets and configs through the Engine API as the pinned provider would. Proven: push and
 * pull through the proxy, scaling 2 → 3 and a rolling config update and a killed task with a pull loop
 * running and no failed pull, a second up that plans no change, no secret in any service spec or log,
 * and a destroy that leaves the images in the bucket. The machine's engine is never touched.
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
const S3_KEY = "rk-swarm-access";
const S3_SECRET = "rk-swarm-secret-key-7f3a9c";
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
let daemon: ChildProcess | undefined;
let daemonLog = "";
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
      registry:
        update:
          delay: 2s
          monitor: 5s
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
    return { result, stop: async () => ((stop = true), await done, result) };
}

const tasks = (service: string) =>
    (engineApi(SOCKET, "GET", `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [service], "desired-state": ["running"] }))}`) as any[]).filter(
        (t) => t.Status.State === "running",
    );

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
    run("sh", ["-c", `for i in $(seq 1 60); do kill -0 ${pid} 2>/dev/null || break; sleep 1; done`], { allowFail: true, timeoutMs: 90_000 });
}

function cleanup(): void {
    stopDaemon(RUN_DIR, daemon?.pid);
    // What a daemon left mounted under its roots (after a crash), innermost first.
    run("sh", ["-c", `grep -o ' ${RUN_DIR}[^ ]*\\| ${DATA_ROOT}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], { allowFail: true });
    for (const dir of [RUN_DIR, DATA_ROOT]) fs.rmSync(dir, { recursive: true, force: true });
    run("ip", ["link", "del", BRIDGE], { allowFail: true });
}

describe("small-team on Docker Swarm", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry", "nginx", "prometheus", "s3", "redis", "client"]);
        cleanup();
        fs.mkdirSync(RUN_DIR, { recursive: true });
        fs.mkdirSync(DATA_ROOT, { recursive: true });
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
                "--iptables=false",
                "--ip6tables=false",
            ],
            { stdio: ["ignore", "ignore", "pipe"] },
        );
        daemon.stderr!.on("data", (d) => (daemonLog = (daemonLog + d.toString()).slice(-20_000)));
        await eventually(
            "the swarm's dockerd",
            () => (run("docker", ["-H", `unix://${SOCKET}`, "version"], { allowFail: true }).code === 0 ? true : undefined),
            60_000,
        );
        sw("swarm", "init", "--advertise-addr", BRIDGE_IP, "--listen-addr", `${BRIDGE_IP}:2377`);
        run("sh", ["-c", `docker save ${IMAGES.join(" ")} | docker -H unix://${SOCKET} load`], { timeoutMs: 600_000 });
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

        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "swarm", ["registry"]);
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
        const containers = sw("ps", "--format", "{{.Names}} {{.Status}}").stdout;
        for (const line of containers.split("\n").filter((l) => l.startsWith(PREFIX) && !l.startsWith(`${PREFIX}-s3`))) expect(line).toContain("(healthy)");
    });

    it("pushes a multi-layer image through the proxy and pulls it back", () => {
        digest = client.push(buildImageTar(work, PREFIX, [6 << 20, 256 << 10]), "team/app:v1");
        expect(client.pull("team/app:v1", 2)).toBe(digest);
    });

    it("plans no change on a second up, judged by what Docker reports", async () => {
        const again = render(stackFile(), path.join(work, "render-again"), stateFile, "swarm", ["registry"]);
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
        expect(secrets.length).toBe(6);
        for (const value of [
            ...secrets.flatMap((v) => v.split("\n")).filter((l) => l.length >= 16 && !l.startsWith("-----")),
            S3_SECRET,
            rendered.outputs.adminPassword,
        ]) {
            expect(specs).not.toContain(value);
            expect(logs).not.toContain(value);
        }
        // The S3 key reached the registry only as a file: a push and pull to the bucket worked.
        expect(specs).toContain("/run/secrets/registry-s3-secret-key");
    });

    it("scales the registry from 2 to 3 replicas with a pull loop running and no failed pull", async () => {
        const loop = pullLoop("team/app:v1");
        await new Promise((r) => setTimeout(r, 3000));
        rendered = render(stackFile({ replicas: 3 }), path.join(work, "render-3"), stateFile, "swarm", ["registry"]);
        const plan = await applySwarm(rendered, SOCKET);
        expect(plan.actions[`${PREFIX}-registry`]).toBe("update");
        expect(plan.changed[`${PREFIX}-registry`]).toEqual(["mode.replicated.replicas"]);
        await new Promise((r) => setTimeout(r, 5000));
        const result = await loop.stop();
        expect(tasks(`${PREFIX}-registry`)).toHaveLength(3);
        expect(result.failed).toEqual([]);
        expect(result.ok).toBeGreaterThan(3);
    }, 600_000);

    it("rolls an update of the registry config (start-first) with no failed pull", async () => {
        const before = tasks(`${PREFIX}-registry`).map((t) => t.ID);
        const loop = pullLoop("team/app:v1");
        await new Promise((r) => setTimeout(r, 3000));
        rendered = render(stackFile({ replicas: 3, logLevel: "debug" }), path.join(work, "render-debug"), stateFile, "swarm", ["registry"]);
        const plan = await applySwarm(rendered, SOCKET);
        // A new config (its name carries the new hash), the service pointed at it, the old config removed.
        expect(plan.actions[`${PREFIX}-registry-config`]).toBe("create");
        expect(plan.actions[`${PREFIX}-registry`]).toBe("update");
        const result = await loop.stop();
        const after = tasks(`${PREFIX}-registry`).map((t) => t.ID);
        expect(after).toHaveLength(3);
        expect(after.filter((id) => before.includes(id))).toEqual([]);
        expect(result.failed).toEqual([]);
        expect(result.ok).toBeGreaterThan(3);
        const configs = (engineApi(SOCKET, "GET", "/configs") as any[]).map((c) => c.Spec.Name).filter((n) => n.startsWith(`${PREFIX}-registry-config-`));
        expect(configs).toHaveLength(1);
    }, 600_000);

    it("replaces a killed registry task while pulls keep working", async () => {
        const loop = pullLoop("team/app:v1");
        await new Promise((r) => setTimeout(r, 2000));
        const victim = tasks(`${PREFIX}-registry`)[0];
        sw("kill", victim.Status.ContainerStatus.ContainerID);
        await eventually(
            "Swarm to replace the killed task",
            () => {
                const now = tasks(`${PREFIX}-registry`);
                return now.length === 3 && !now.some((t) => t.ID === victim.ID) ? now : undefined;
            },
            120_000,
            1000,
        );
        await new Promise((r) => setTimeout(r, 3000));
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
