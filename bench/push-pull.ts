/**
 * Push/pull throughput benchmark: the registry through the stack's TLS proxy (https://proxy:443 with
 * the stack's CA, as clients really use it) against the registry container directly
 * (http://registry:5000, same htpasswd credentials).
 *
 * It builds the stand-in images, renders and deploys the small-team stack from bench/Pulumi.bench.yaml
 * exactly as the e2e tests do (test/e2e/harness.ts), and runs skopeo in a client container on the
 * stack's own Docker network. Every push is of a freshly generated image (random, incompressible
 * layers), so no digest is ever known to the registry already. Trials alternate direct and proxy in
 * the same run; medians, MB/s and proxy/direct ratios go to stdout and to bench/results/.
 * Everything it creates is named rk-bench-* and is removed at the end (also on failure or Ctrl-C).
 *
 *   npm run bench                               # 9 repetitions, 3 layers of 100 MB
 *   npm run bench -- --reps 15 --layer-mb 200
 *   npm run bench -- --nginx-conf a.conf --nginx-conf b.conf   # experiment: extra proxy variants
 *   npm run bench -- --keep                     # leave the stack running for experiments
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import * as zlib from "node:zlib";
import { deploy, docker, removeByPrefix, render, Rendered, ROOT, run, startSideService, waitHealthy } from "../test/e2e/harness";

const PREFIX = "rk-bench";
const HOST = "registry.bench.test"; // registry-kit:hostname in bench/Pulumi.bench.yaml
const NETWORK = `${PREFIX}-net`;
const CLIENT = `${PREFIX}-client`;
const PROXY = `${PREFIX}-proxy`;
const REGISTRY = `${PREFIX}-registry`;
const CLIENT_IMAGE = "registry-kit-test/client:1";
const STACK_FILE = path.join(__dirname, "Pulumi.bench.yaml");
const S3_SECRET = crypto.randomBytes(20).toString("hex");
const RESULTS = path.join(__dirname, "results");
const SKOPEO_TIMEOUT_S = 600;
const MB = 1_000_000; // throughput is reported in MB/s = 10^6 bytes per second

type Path = "direct" | "proxy";
type Op = "push" | "pull";

interface Variant {
    name: string;
    /** nginx.conf text loaded into the proxy before its trials. */
    conf: string;
    sha256: string;
}

interface Trial {
    rep: number;
    warmup: boolean;
    path: Path;
    variant: string;
    op: Op;
    seconds: number;
    mbPerS: number;
    /** CPU seconds each container used during the command (cgroup accounting; null if unreadable). */
    cpuSeconds: Record<string, number | null>;
    digest: string;
}

const { values: opts } = parseArgs({
    options: {
        reps: { type: "string", default: "9" },
        warmup: { type: "string", default: "1" },
        layers: { type: "string", default: "3" },
        "layer-mb": { type: "string", default: "100" },
        "nginx-conf": { type: "string", multiple: true, default: [] },
        keep: { type: "boolean", default: false },
        pin: { type: "boolean", default: false },
        storage: { type: "string", default: "filesystem" },
        help: { type: "boolean", default: false },
    },
});
if (opts.help) {
    console.log(`usage: npm run bench -- [--reps N] [--warmup N] [--layers N] [--layer-mb N] [--nginx-conf FILE]... [--keep]

  --reps N          measured repetitions; each is one push+pull per path (default 9)
  --warmup N        unmeasured repetitions first (default 1)
  --layers N        layers per image (default 3)
  --layer-mb N      random payload per layer, in 10^6 bytes (default 100)
  --nginx-conf FILE also measure the proxy with this nginx.conf (docker cp + nginx -s reload into the
                    bench's proxy container); repeatable; the rendered config is always measured too
  --pin             experiment: pin the client container to the last CPU and the stack's containers to
                    the others (docker update --cpuset-cpus), as if the client ran on another machine
  --storage KIND    filesystem (default) or s3: the registry stores in an S3-compatible server on the
                    bench network (registry-kit-test/s3:1, moto), through the s3 driver
  --keep            leave the rk-bench stack running afterwards (remove it with a later run, or by hand)`);
    process.exit(0);
}
const positiveInt = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
};
const REPS = positiveInt("reps", opts.reps, 1);
const WARMUP = positiveInt("warmup", opts.warmup, 0);
const LAYERS = positiveInt("layers", opts.layers, 1);
const LAYER_BYTES = positiveInt("layer-mb", opts["layer-mb"], 1) * MB;
if (opts.storage !== "filesystem" && opts.storage !== "s3") throw new Error(`--storage must be filesystem or s3, got ${opts.storage}`);
const S3 = opts.storage === "s3";

/** The stack file to deploy: the bench's, with S3 storage on the bench's own S3 server when asked. */
function stackFile(): string {
    if (!S3) return STACK_FILE;
    const doc = parseYaml(fs.readFileSync(STACK_FILE, "utf8"));
    doc.config["registry-kit:registry"] = {
        ...doc.config["registry-kit:registry"],
        storage: {
            type: "s3",
            s3: {
                create: false,
                bucket: "images",
                regionEndpoint: "http://s3:9000",
                secure: false,
                encrypt: false,
                accessKey: "rk-bench",
                secretKey: S3_SECRET,
            },
        },
    };
    const file = path.join(work, "Pulumi.bench-s3.yaml");
    fs.writeFileSync(file, stringifyYaml(doc));
    return file;
}

const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");
const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n: number, digits = 2) => n.toFixed(digits);

// ---------------------------------------------------------------------------------------------
// A minimal ustar writer: image layers are tars, and the OCI layout goes into the client as a tar.

function tarHeader(name: string, size: number, type: "0" | "5"): Buffer {
    if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
    const h = Buffer.alloc(512);
    const field = (off: number, len: number, s: string) => h.write(s, off, len, "ascii");
    const octal = (off: number, len: number, n: number) => field(off, len, n.toString(8).padStart(len - 1, "0") + "\0");
    field(0, 100, name);
    octal(100, 8, type === "5" ? 0o755 : 0o644);
    octal(108, 8, 0);
    octal(116, 8, 0);
    octal(124, 12, size);
    octal(136, 12, 1_700_000_000);
    field(148, 8, "        ");
    field(156, 1, type);
    field(257, 6, "ustar\0");
    field(263, 2, "00");
    let sum = 0;
    for (const b of h) sum += b;
    field(148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
    return h;
}

function tar(entries: { name: string; data?: Buffer }[]): Buffer {
    const parts: Buffer[] = [];
    for (const e of entries) {
        if (!e.data) {
            parts.push(tarHeader(e.name.endsWith("/") ? e.name : `${e.name}/`, 0, "5"));
            continue;
        }
        parts.push(tarHeader(e.name, e.data.length, "0"), e.data);
        const pad = (512 - (e.data.length % 512)) % 512;
        if (pad) parts.push(Buffer.alloc(pad));
    }
    parts.push(Buffer.alloc(1024));
    return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// A fresh OCI image: LAYERS gzip layers of random bytes. gzip level 0 (stored blocks) keeps the
// data incompressible and makes any decompression on the way nearly free, so the measurement is of
// moving bytes, not of (de)compressing them; skopeo pushes already-compressed layers unchanged.

interface FreshImage {
    layout: Buffer; // tar of the OCI layout directory `name/`
    name: string;
    payloadBytes: number; // layer + config blob bytes that cross the wire
    manifestDigest: string;
}

function freshImage(name: string): FreshImage {
    const blobs: { digest: string; data: Buffer }[] = [];
    const layers: { mediaType: string; digest: string; size: number }[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < LAYERS; i++) {
        const layerTar = tar([{ name: `layer${i + 1}.bin`, data: crypto.randomBytes(LAYER_BYTES) }]);
        diffIds.push(`sha256:${sha256(layerTar)}`);
        const gz = zlib.gzipSync(layerTar, { level: 0 });
        const digest = sha256(gz);
        blobs.push({ digest, data: gz });
        layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: `sha256:${digest}`, size: gz.length });
    }
    const config = Buffer.from(
        JSON.stringify({
            created: new Date().toISOString(),
            architecture: "amd64",
            os: "linux",
            config: { Labels: { "registry-kit.bench": name } },
            rootfs: { type: "layers", diff_ids: diffIds },
            history: diffIds.map(() => ({ created_by: "registry-kit bench: random data" })),
        }),
    );
    const configDigest = sha256(config);
    blobs.push({ digest: configDigest, data: config });
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${configDigest}`, size: config.length },
            layers,
        }),
    );
    const manifestDigest = sha256(manifest);
    blobs.push({ digest: manifestDigest, data: manifest });
    const index = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            manifests: [
                {
                    mediaType: "application/vnd.oci.image.manifest.v1+json",
                    digest: `sha256:${manifestDigest}`,
                    size: manifest.length,
                    annotations: { "org.opencontainers.image.ref.name": "latest" },
                },
            ],
        }),
    );
    const layout = tar([
        { name },
        { name: `${name}/blobs` },
        { name: `${name}/blobs/sha256` },
        { name: `${name}/oci-layout`, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
        { name: `${name}/index.json`, data: index },
        ...blobs.map((b) => ({ name: `${name}/blobs/sha256/${b.digest}`, data: b.data })),
    ]);
    const payloadBytes = layers.reduce((n, l) => n + l.size, 0) + config.length;
    return { layout, name, payloadBytes, manifestDigest: `sha256:${manifestDigest}` };
}

// ---------------------------------------------------------------------------------------------
// Docker helpers

/**
 * Like the harness's `run`, but asynchronous: the event loop stays free while a command runs, so
 * Ctrl-C is handled at once (tsx SIGKILLs a child whose loop does not answer a signal in 30 ms).
 */
function runAsync(
    cmd: string,
    args: string[],
    opts: { input?: Buffer | string; timeoutMs?: number; allowFail?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: [opts.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout!.on("data", (b: Buffer) => out.push(b));
        child.stderr!.on("data", (b: Buffer) => err.push(b));
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, timeoutMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(new Error(`${cmd}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            const r = { code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
            const what = `${cmd} ${args.join(" ").slice(0, 300)}`;
            if (timedOut) return reject(new Error(`${what} timed out after ${timeoutMs / 1000} s`));
            if (!opts.allowFail && r.code !== 0) return reject(new Error(`${what} failed (${signal ?? r.code}): ${r.stderr || r.stdout}`));
            resolve(r);
        });
        if (opts.input !== undefined) {
            child.stdin!.on("error", () => undefined); // EPIPE if the command exits early; its exit code tells
            child.stdin!.end(opts.input);
        }
    });
}

/** Runs a command in the client container; `input` goes to its stdin. */
function inClient(args: string[], opts: { input?: Buffer | string; timeoutMs?: number; allowFail?: boolean } = {}) {
    return runAsync("docker", ["exec", ...(opts.input !== undefined ? ["-i"] : []), CLIENT, ...args], opts);
}

/** Cumulative CPU nanoseconds of a container's cgroup (v1 cpuacct or v2 cpu.stat), or null. */
function cpuReader(container: string): () => number | null {
    const id = docker("inspect", "-f", "{{.Id}}", container);
    const candidates = [
        `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`,
        `/sys/fs/cgroup/cpu,cpuacct/docker/${id}/cpuacct.usage`,
        `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`,
        `/sys/fs/cgroup/docker/${id}/cpu.stat`,
    ];
    const file = candidates.find((f) => fs.existsSync(f));
    if (!file) return () => null;
    return () => {
        try {
            const text = fs.readFileSync(file, "utf8");
            if (file.endsWith("cpuacct.usage")) return Number(text.trim());
            const m = /^usage_usec (\d+)$/m.exec(text);
            return m ? Number(m[1]) * 1000 : null;
        } catch {
            return null;
        }
    };
}

function version(cmd: string[], container?: string): string {
    const r = container
        ? run("docker", ["exec", container, ...cmd], { allowFail: true, timeoutMs: 30_000 })
        : run(cmd[0], cmd.slice(1), { allowFail: true, timeoutMs: 30_000 });
    return (r.stdout + r.stderr).trim().split("\n")[0] ?? "";
}

// ---------------------------------------------------------------------------------------------

const work = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));
/** Written once this process has cleaned up (or deliberately kept the stack); the watchdog then does nothing. */
const doneMarker = `${work}.done`;
let cleanedUp = false;
function cleanup(): void {
    if (cleanedUp) return;
    cleanedUp = true;
    if (opts.keep) {
        log(`--keep: leaving ${PREFIX}-* running (client: docker exec -it ${CLIENT} bash; work dir ${work}); the next run removes it`);
    } else {
        log(`removing everything named ${PREFIX}-* (containers, the retained data volume, the network)`);
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    }
    fs.writeFileSync(doneMarker, "");
}

/**
 * A detached shell that outlives this process: if it dies without cleaning up (SIGKILL, for example
 * from tsx when the event loop was busy in a synchronous harness call), it removes the rk-bench-*
 * containers, volumes and network, as removeByPrefix does.
 */
function startWatchdog(): void {
    const q = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
    const names = (kind: string) =>
        `docker ${kind} ls ${kind === "container" ? "-a " : ""}--format '{{.${kind === "container" ? "Names" : "Name"}}}' | grep '^${PREFIX}-'`;
    const script = [
        `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
        `if [ -e ${q(doneMarker)} ]; then rm -f ${q(doneMarker)}; exit 0; fi`,
        `for n in $(${names("container")}); do timeout 60 docker rm -f "$n"; done`,
        `for n in $(${names("volume")}); do timeout 60 docker volume rm -f "$n"; done`,
        `for n in $(${names("network")}); do timeout 60 docker network rm "$n"; done`,
        `rm -rf ${q(work)}`,
    ].join("\n");
    spawn("sh", ["-c", script], { detached: true, stdio: "ignore" }).unref();
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
        console.error(`\n${sig}: cleaning up`);
        cleanup();
        process.exit(130);
    });
}

async function main(): Promise<void> {
    const started = Date.now();
    const command = ["npm", "run", "bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ");

    run("docker", ["info"], { timeoutMs: 20_000 });
    startWatchdog();
    log("building stand-in images (test/e2e/images/build-images.sh)");
    const build = await runAsync("bash", [path.join(ROOT, "test", "e2e", "images", "build-images.sh")], { timeoutMs: 900_000 });
    process.stdout.write(build.stdout);

    removeByPrefix(`${PREFIX}-`);
    log(`rendering ${path.relative(ROOT, STACK_FILE)} and deploying ${PREFIX}`);
    if (S3) {
        // The S3 server is the bench's, not the stack's: it joins the stack's network first.
        startSideService(NETWORK, {
            name: `${PREFIX}-s3`,
            alias: "s3",
            image: "registry-kit-test/s3:1",
            env: { S3_ACCESS_KEY: "rk-bench", S3_SECRET_KEY: S3_SECRET, S3_BUCKET: "images" },
        });
    }
    const rendered: Rendered = render(stackFile(), path.join(work, "render"), path.join(work, "state.json"), "bench", S3 ? ["registry"] : []);
    await deploy(rendered);
    await waitHealthy([REGISTRY, PROXY, `${PREFIX}-prometheus`], 120_000);

    const user: string = rendered.outputs.adminUser ?? "admin";
    const password: string = rendered.outputs.adminPassword;
    if (!password) throw new Error("outputs.json has no adminPassword (render --show-secrets?)");
    const renderedConf = fs.readFileSync(path.join(rendered.dir, "files", PROXY, "etc", "nginx", "nginx.conf"), "utf8");
    const variants: Variant[] = [{ name: "rendered", conf: renderedConf, sha256: sha256(renderedConf) }];
    for (const file of opts["nginx-conf"] ?? []) {
        const conf = fs.readFileSync(file, "utf8");
        variants.push({ name: path.basename(file), conf, sha256: sha256(conf) });
    }

    const proxyIp = docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, PROXY);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(proxyIp)) throw new Error(`no IP for ${PROXY} on ${NETWORK}: '${proxyIp}'`);

    // The client: skopeo on the stack's network, the proxy's certificate name pointing at the proxy,
    // image layouts on a tmpfs (room for one source image and one pulled copy at a time).
    const imageBytes = LAYERS * (LAYER_BYTES + 2 * 1024 * 1024);
    const tmpfsBytes = 3 * imageBytes + 256 * 1024 * 1024;
    docker(
        "run",
        "-d",
        "--name",
        CLIENT,
        "--network",
        NETWORK,
        "--add-host",
        `${HOST}:${proxyIp}`,
        "--mount",
        `type=tmpfs,destination=/bench,tmpfs-size=${tmpfsBytes}`,
        "--label",
        "registry-kit.role=bench-client",
        CLIENT_IMAGE,
        "sleep",
        "infinity",
    );
    let pinning = "none: client, proxy and registry share all CPUs";
    if (opts.pin) {
        const n = os.cpus().length;
        if (n < 2) throw new Error("--pin needs at least 2 CPUs");
        const server = n === 2 ? "0" : `0-${n - 2}`;
        docker("update", "--cpuset-cpus", server, REGISTRY, PROXY, `${PREFIX}-prometheus`);
        docker("update", "--cpuset-cpus", String(n - 1), CLIENT);
        pinning = `client on CPU ${n - 1}; registry, proxy, prometheus on CPU ${server}`;
        log(`pinned: ${pinning}`);
    }
    const auth = Buffer.from(`${user}:${password}`).toString("base64");
    await inClient(["sh", "-c", "mkdir -p /bench/certs && cat > /bench/certs/ca.crt"], { input: rendered.outputs.caCertificate });
    await inClient(["sh", "-c", "umask 077 && cat > /bench/auth.json"], { input: JSON.stringify({ auths: { [HOST]: { auth }, "registry:5000": { auth } } }) });

    const env = {
        host: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
        docker: version(["docker", "version", "-f", "{{.Server.Version}}"]),
        skopeo: version(["skopeo", "--version"], CLIENT),
        nginx: version(["nginx", "-v"], PROXY),
        registry: version(["registry", "--version"], REGISTRY),
    };
    log(`client ${CLIENT} on ${NETWORK}; ${HOST} -> ${proxyIp}; ${env.skopeo}; ${env.nginx}; ${env.registry}`);

    const cpu: Record<string, () => number | null> = { client: cpuReader(CLIENT), proxy: cpuReader(PROXY), registry: cpuReader(REGISTRY) };
    let activeVariant = variants[0];

    const loadVariant = async (v: Variant) => {
        if (v === activeVariant) return;
        const file = path.join(work, `nginx-${v.sha256.slice(0, 12)}.conf`);
        fs.writeFileSync(file, v.conf);
        docker("cp", file, `${PROXY}:/etc/nginx/nginx.conf`);
        const t = run("docker", ["exec", PROXY, "nginx", "-t"], { allowFail: true, timeoutMs: 30_000 });
        if (t.code !== 0) throw new Error(`nginx -t rejected variant ${v.name}:\n${t.stderr}`);
        docker("exec", PROXY, "nginx", "-s", "reload");
        await sleep(1500); // the old (idle) workers exit; new ones take over
        activeVariant = v;
    };

    /** Runs one skopeo copy in the client; the time is taken around skopeo alone, inside the container. */
    const timedSkopeo = async (args: string[]): Promise<number> => {
        const script = 's=$(date +%s%N); "$@"; rc=$?; e=$(date +%s%N); echo "elapsed_ns=$((e - s))"; exit $rc';
        const r = await inClient(["bash", "-c", script, "timed", "skopeo", "--command-timeout", `${SKOPEO_TIMEOUT_S}s`, ...args], {
            timeoutMs: (SKOPEO_TIMEOUT_S + 60) * 1000,
            allowFail: true,
        });
        if (r.code !== 0) throw new Error(`skopeo ${args.join(" ")} failed (${r.code}):\n${r.stderr || r.stdout}`);
        const m = /elapsed_ns=(\d+)/.exec(r.stdout);
        if (!m) throw new Error(`no timing from skopeo run: ${r.stdout}`);
        return Number(m[1]) / 1e9;
    };

    const trials: Trial[] = [];
    let seq = 0;
    const trial = async (rep: number, warmup: boolean, p: Path, v: Variant) => {
        const id = `${Date.now().toString(36)}-${(seq++).toString(36)}`;
        const image = freshImage(`src-${id}`);
        await inClient(["tar", "-x", "-C", "/bench", "-f", "-"], { input: image.layout, timeoutMs: 300_000 });
        if (p === "proxy") await loadVariant(v);
        const ref = p === "direct" ? `docker://registry:5000/bench/direct:${id}` : `docker://${HOST}/bench/proxy:${id}`;
        const tlsFlag = (dir: "src" | "dest") => (p === "direct" ? [`--${dir}-tls-verify=false`] : [`--${dir}-cert-dir`, "/bench/certs"]);
        const measure = async (op: Op, args: string[]) => {
            // Flush the previous trial's dirty pages first, so its write-back does not land in this one.
            await runAsync("docker", ["exec", REGISTRY, "sync"], { timeoutMs: 120_000 });
            const before = Object.fromEntries(Object.entries(cpu).map(([k, f]) => [k, f()]));
            const seconds = await timedSkopeo(args);
            const cpuSeconds = Object.fromEntries(
                Object.entries(cpu).map(([k, f]) => {
                    const a = before[k];
                    const b = f();
                    return [k, a === null || b === null ? null : Math.round((b - a) / 1e6) / 1e3];
                }),
            );
            const t: Trial = {
                rep,
                warmup,
                path: p,
                variant: p === "proxy" ? v.name : "-",
                op,
                seconds,
                mbPerS: image.payloadBytes / MB / seconds,
                cpuSeconds,
                digest: image.manifestDigest,
            };
            trials.push(t);
            const cpuText = Object.entries(cpuSeconds)
                .map(([k, s]) => `${k} ${s === null ? "?" : fmt(s)}s`)
                .join(", ");
            log(
                `${warmup ? "warm-up" : `rep ${rep}`} ${p}${p === "proxy" && variants.length > 1 ? `[${v.name}]` : ""} ${op}: ${fmt(seconds, 3)} s, ${fmt(t.mbPerS, 1)} MB/s (cpu: ${cpuText})`,
            );
        };
        try {
            await measure("push", [
                "copy",
                "-q",
                "--authfile",
                "/bench/auth.json",
                ...tlsFlag("dest"),
                "--digestfile",
                `/bench/${id}.digest`,
                `oci:/bench/${image.name}:latest`,
                ref,
            ]);
            const pushed = (await inClient(["cat", `/bench/${id}.digest`])).stdout.trim();
            if (pushed !== image.manifestDigest) throw new Error(`pushed digest ${pushed}, expected ${image.manifestDigest}`);
            await inClient(["rm", "-rf", `/bench/${image.name}`]);
            await measure("pull", ["copy", "-q", "--authfile", "/bench/auth.json", ...tlsFlag("src"), ref, `dir:/bench/pull-${id}`]);
            // skopeo checks every blob's digest while pulling; check the manifest and the byte count too.
            const check = (
                await inClient(["sh", "-c", `cd /bench/pull-${id} && sha256sum manifest.json && cat $(ls | grep -E '^[0-9a-f]{64}$') | wc -c`])
            ).stdout
                .trim()
                .split("\n");
            const pulledDigest = `sha256:${check[0].split(" ")[0]}`;
            if (pulledDigest !== image.manifestDigest) throw new Error(`pulled manifest ${pulledDigest}, expected ${image.manifestDigest}`);
            if (Number(check[1]) !== image.payloadBytes) throw new Error(`pulled ${check[1]} blob bytes, expected ${image.payloadBytes}`);
        } finally {
            await inClient(["rm", "-rf", `/bench/${image.name}`, `/bench/pull-${id}`, `/bench/${id}.digest`], { allowFail: true });
        }
        return image.payloadBytes;
    };

    log(`${WARMUP} warm-up + ${REPS} measured repetitions; each pushes and pulls a fresh ${LAYERS} x ${LAYER_BYTES / MB} MB image per path`);
    let payloadBytes = 0;
    for (let rep = 1 - WARMUP; rep <= REPS; rep++) {
        // Strictly interleaved: direct, proxy (, further proxy variants), direct, proxy, ...
        payloadBytes = await trial(rep, rep < 1, "direct", variants[0]);
        for (const v of variants) await trial(rep, rep < 1, "proxy", v);
    }
    await loadVariant(variants[0]);

    // -----------------------------------------------------------------------------------------
    const measured = trials.filter((t) => !t.warmup);
    const secondsOf = (p: Path, op: Op, variant?: string) =>
        measured.filter((t) => t.path === p && t.op === op && (p === "direct" || t.variant === variant)).map((t) => t.seconds);
    const mbps = (s: number) => payloadBytes / MB / s;
    const summary = variants.map((v) => {
        const ops = (["push", "pull"] as Op[]).map((op) => {
            const direct = secondsOf("direct", op);
            const proxy = secondsOf("proxy", op, v.name);
            const pairRatios = proxy.map((s, i) => direct[i] / s);
            return {
                op,
                directMedianSeconds: median(direct),
                proxyMedianSeconds: median(proxy),
                directMBps: mbps(median(direct)),
                proxyMBps: mbps(median(proxy)),
                ratio: median(direct) / median(proxy),
                pairRatioMedian: median(pairRatios),
                pairRatioMin: Math.min(...pairRatios),
                pairRatioMax: Math.max(...pairRatios),
                directSeconds: direct,
                proxySeconds: proxy,
            };
        });
        return { variant: v.name, nginxConfSha256: v.sha256, ops };
    });

    const lines: string[] = [];
    lines.push(
        `Push/pull of a fresh ${LAYERS}-layer image (${fmt(payloadBytes / MB, 1)} MB of incompressible blobs), ${REPS} repetitions (+${WARMUP} warm-up), skopeo in a container on the stack network; registry storage: ${S3 ? "s3 (S3-compatible stand-in, moto)" : "filesystem"}; CPU pinning: ${pinning}.`,
    );
    lines.push("");
    lines.push(`Host: ${env.host}; Docker ${env.docker}; ${env.skopeo}; ${env.nginx}; ${env.registry}.`);
    lines.push("");
    for (const s of summary) {
        if (variants.length > 1) lines.push(`nginx.conf: **${s.variant}** (sha256 ${s.nginxConfSha256.slice(0, 12)})`, "");
        lines.push("| Operation | Direct (http://registry:5000) | Proxy (https://proxy:443) | Proxy / direct | Per-pair ratios (min–max) |");
        lines.push("|---|---|---|---|---|");
        for (const o of s.ops) {
            lines.push(
                `| ${o.op} | ${fmt(o.directMedianSeconds, 2)} s = ${fmt(o.directMBps, 1)} MB/s | ${fmt(o.proxyMedianSeconds, 2)} s = ${fmt(o.proxyMBps, 1)} MB/s | **${fmt(o.ratio)}×** | ${fmt(o.pairRatioMedian)}× (${fmt(o.pairRatioMin)}–${fmt(o.pairRatioMax)}) |`,
            );
        }
        lines.push("");
    }
    lines.push("Medians of wall-clock time of the `skopeo copy` command alone; MB = 10^6 bytes; proxy / direct is the throughput ratio (goal ≥ 0.90×).");
    lines.push("");
    lines.push("Raw seconds (in run order):");
    lines.push("");
    lines.push("| Rep | Path | Push s | Pull s | CPU s push (client/proxy/registry) | CPU s pull (client/proxy/registry) |");
    lines.push("|---|---|---|---|---|---|");
    const cpuCell = (t: Trial | undefined) =>
        t ? ["client", "proxy", "registry"].map((k) => (t.cpuSeconds[k] === null ? "?" : fmt(t.cpuSeconds[k]!))).join(" / ") : "";
    for (let i = 0; i < trials.length; i += 2) {
        const [push, pull] = [trials[i], trials[i + 1]];
        const label = push.path === "proxy" && variants.length > 1 ? `proxy [${push.variant}]` : push.path;
        lines.push(
            `| ${push.warmup ? "warm-up" : push.rep} | ${label} | ${fmt(push.seconds, 3)} | ${pull ? fmt(pull.seconds, 3) : ""} | ${cpuCell(push)} | ${cpuCell(pull)} |`,
        );
    }
    const markdown = lines.join("\n");
    const durationSeconds = (Date.now() - started) / 1000;

    console.log(`\n${markdown}\n`);
    fs.mkdirSync(RESULTS, { recursive: true });
    const stamp = new Date(started).toISOString().replace(/[:.]/g, "-");
    const base = path.join(RESULTS, `push-pull-${stamp}`);
    const json = {
        command,
        startedAt: new Date(started).toISOString(),
        durationSeconds,
        params: { reps: REPS, warmup: WARMUP, layers: LAYERS, layerBytes: LAYER_BYTES, payloadBytes, order: "direct, proxy (each variant), repeated", pinning },
        env,
        clients: {
            direct: "http://registry:5000 (skopeo --tls-verify=false)",
            proxy: `https://${HOST} -> ${PROXY} ${proxyIp}:443 (skopeo --cert-dir with the stack CA)`,
        },
        summary,
        trials,
        markdown,
    };
    fs.writeFileSync(`${base}.json`, JSON.stringify(json, null, 2) + "\n");
    fs.writeFileSync(`${base}.md`, `# ${command}\n\n${new Date(started).toISOString()}, ${fmt(durationSeconds, 0)} s, ${env.host}\n\n${markdown}\n`);
    log(`results: ${path.relative(ROOT, base)}.{md,json}; whole run took ${fmt(durationSeconds, 0)} s`);
}

main()
    .catch((err) => {
        console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
    })
    .finally(() => {
        try {
            cleanup();
        } catch (err) {
            console.error(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
            process.exitCode = 1;
        }
    });
