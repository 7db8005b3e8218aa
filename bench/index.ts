/**
 * `npm run bench`: registry-kit's benchmarks, one entry point with scenario flags (bench/args.ts; `--help`).
 *
 * The docker scenarios (large, small, concurrency) build the stand-in images, render and deploy the
 * small-team stack from bench/Pulumi.bench.yaml exactly as the e2e tests do (test/e2e/harness.ts), and
 * run skopeo in a client container on the stack's own Docker network: through the stack's TLS proxy
 * (https://registry.bench.test, verified against the stack's CA, as clients really use it) and directly
 * to the registry container (http://registry:5000, same htpasswd credentials). Every push is of a
 * freshly generated image (random, incompressible layers), so no digest is known to the registry
 * already. Paths alternate within each repetition, so machine noise hits all of them; ratios come from
 * the same run. The render scenario times bin/render.ts on the example stack file of each topology.
 * Everything the benchmark creates is named rk-bench-* and removed at the end (also on failure or
 * Ctrl-C). Results go to stdout and to bench/results/bench-<time>.{md,json}.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { BenchOptions, HELP, KB, MB, parseBenchArgs } from "./args";
import { FreshImage, freshImage, tar } from "./image";
import { compareSeconds, Comparison, median, medianByKey, rate, spread, Spread } from "./stats";
import { proxiedPassword } from "../renderers/htpasswd";
import { NGINX_AUTH_SECRETS_PATH } from "../renderers/nginx-auth";
import { deploy, docker, removeByPrefix, render, Rendered, ROOT, run, startClientContainer, startSideService, waitHealthy } from "../test/e2e/harness";

let opts: BenchOptions;
try {
    opts = parseBenchArgs(process.argv.slice(2));
} catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n(npm run bench -- --help lists the options)`);
    process.exit(2);
}
if (opts.help) {
    console.log(HELP);
    process.exit(0);
}

const PREFIX = "rk-bench";
const HOST = "registry.bench.test"; // registry-kit:hostname in bench/Pulumi.bench.yaml
const NETWORK = `${PREFIX}-net`;
const CLIENT = `${PREFIX}-client`;
const PROXY = `${PREFIX}-proxy`;
const REGISTRY = `${PREFIX}-registry`;
/** A second registry for the small scenario: the rendered config without `auth` (the limit). */
const NOAUTH = `${PREFIX}-registry-noauth`;
const NOAUTH_ALIAS = "registry-noauth";
/** The proxy port of the server block that fronts NOAUTH (the registry's block with another upstream). */
const NOAUTH_PROXY_PORT = 8443;
const CLIENT_IMAGE = "registry-kit-test/client:1";
const STACK_FILE = path.join(__dirname, "Pulumi.bench.yaml");
const S3_SECRET = crypto.randomBytes(20).toString("hex");
const RESULTS = path.join(__dirname, "results");
const SKOPEO_TIMEOUT_S = 600;
const LARGE_GOAL = 0.95;
const S3 = opts.storage === "s3";
const DOCKER_SCENARIOS = opts.scenarios.filter((s) => s !== "render");

const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Buffer | string) => crypto.createHash("sha256").update(b).digest("hex");
const fmt = (n: number, digits = 2) => n.toFixed(digits);
const shq = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
const loadAvg = () =>
    os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(", ");

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * Like the harness's `run`, but asynchronous: the event loop stays free while a command runs, so
 * Ctrl-C is handled at once (tsx SIGKILLs a child whose loop does not answer a signal in 30 ms).
 */
function runAsync(
    cmd: string,
    args: string[],
    o: { input?: Buffer | string; timeoutMs?: number; allowFail?: boolean; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
    const timeoutMs = o.timeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: o.cwd, stdio: [o.input !== undefined ? "pipe" : "ignore", "pipe", "pipe"] });
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
            if (!o.allowFail && r.code !== 0) return reject(new Error(`${what} failed (${signal ?? r.code}): ${r.stderr || r.stdout}`));
            resolve(r);
        });
        if (o.input !== undefined) {
            child.stdin!.on("error", () => undefined); // EPIPE if the command exits early; its exit code tells
            child.stdin!.end(o.input);
        }
    });
}

/** Runs a command in the client container; `input` goes to its stdin. */
function inClient(args: string[], o: { input?: Buffer | string; timeoutMs?: number; allowFail?: boolean } = {}) {
    return runAsync("docker", ["exec", ...(o.input !== undefined ? ["-i"] : []), CLIENT, ...args], o);
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
// Cleanup

const work = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));
/** Written once this process has cleaned up (or deliberately kept the stack); the watchdog then does nothing. */
const doneMarker = `${work}.done`;
let cleanedUp = false;
function cleanup(): void {
    if (cleanedUp) return;
    cleanedUp = true;
    if (opts.keep && DOCKER_SCENARIOS.length > 0) {
        log(`--keep: leaving ${PREFIX}-* running (client: docker exec -it ${CLIENT} bash; work dir ${work}); the next run removes it`);
    } else {
        if (DOCKER_SCENARIOS.length > 0) {
            log(`removing everything named ${PREFIX}-* (containers, the retained data volumes, the network)`);
            removeByPrefix(`${PREFIX}-`);
        }
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
    const names = (kind: string) =>
        `docker ${kind} ls ${kind === "container" ? "-a " : ""}--format '{{.${kind === "container" ? "Names" : "Name"}}}' | grep '^${PREFIX}-'`;
    const script = [
        `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
        `if [ -e ${shq(doneMarker)} ]; then rm -f ${shq(doneMarker)}; exit 0; fi`,
        `for n in $(${names("container")}); do timeout 60 docker rm -f "$n"; done`,
        `for n in $(${names("volume")}); do timeout 60 docker volume rm -f "$n"; done`,
        `for n in $(${names("network")}); do timeout 60 docker network rm "$n"; done`,
        `rm -rf ${shq(work)}`,
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

// ---------------------------------------------------------------------------------------------
// The deployed stack and the client

/**
 * The stack file to deploy: the bench's, with S3 storage on the bench's own S3 server when asked; `redirect`
 * sets registry.storage.s3.redirect (blob downloads answered with a 307 to a presigned URL of the bucket).
 */
function stackFile(redirect = false): string {
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
                ...(redirect ? { redirect: true } : {}),
            },
        },
    };
    const file = path.join(work, redirect ? "Pulumi.bench-s3-redirect.yaml" : "Pulumi.bench-s3.yaml");
    fs.writeFileSync(file, stringifyYaml(doc));
    return file;
}

interface Variant {
    name: string;
    /** nginx.conf text loaded into the proxy before its trials. */
    conf: string;
    sha256: string;
}

/** Where a skopeo command sends or takes an image. */
interface Target {
    name: string;
    description: string;
    ref: (repo: string, tag: string) => string;
    tls: (dir: "src" | "dest") => string[];
}
const plainTls = (dir: "src" | "dest") => [`--${dir}-tls-verify=false`];
const caTls = (dir: "src" | "dest") => [`--${dir}-cert-dir`, "/bench/certs"];
const DIRECT: Target = {
    name: "direct",
    description: "http://registry:5000 (skopeo --tls-verify=false)",
    ref: (r, t) => `docker://registry:5000/bench/${r}:${t}`,
    tls: plainTls,
};
const PROXIED: Target = {
    name: "proxy",
    description: `https://${HOST} -> ${PROXY}:443 (skopeo --cert-dir with the stack CA)`,
    ref: (r, t) => `docker://${HOST}/bench/${r}:${t}`,
    tls: caTls,
};
const DIRECT_NOAUTH: Target = {
    name: "direct, no auth",
    description: `http://${NOAUTH_ALIAS}:5000 (the rendered registry config without auth)`,
    ref: (r, t) => `docker://${NOAUTH_ALIAS}:5000/bench/${r}:${t}`,
    tls: plainTls,
};
const PROXIED_NOAUTH: Target = {
    name: "proxy, no auth",
    description: `https://${HOST}:${NOAUTH_PROXY_PORT} -> the registry's server block, upstream ${NOAUTH_ALIAS}:5000`,
    ref: (r, t) => `docker://${HOST}:${NOAUTH_PROXY_PORT}/bench/${r}:${t}`,
    tls: caTls,
};

const skopeo = (...args: string[]) => ["skopeo", "--command-timeout", `${SKOPEO_TIMEOUT_S}s`, "copy", "-q", "--authfile", "/bench/auth.json", ...args];
const pushCmd = (t: Target, image: FreshImage, repo: string, tag: string) =>
    skopeo(...t.tls("dest"), "--digestfile", `/bench/${image.name}.digest`, `oci:/bench/${image.name}:latest`, t.ref(repo, tag));
const pullCmd = (t: Target, repo: string, tag: string, dir: string) => skopeo(...t.tls("src"), t.ref(repo, tag), `dir:${dir}`);

interface Measurement {
    seconds: number;
    /** CPU seconds each container used during the command (cgroup accounting; null if unreadable). */
    cpuSeconds: Record<string, number | null>;
}

class Stack {
    readonly cpu: Record<string, () => number | null> = {};
    readonly registries = [REGISTRY];
    env: Record<string, string> = {};
    pinning = "none: client, proxy and registry share all CPUs";
    proxyIp = "";
    renderedConf = "";
    private active?: Variant;
    rendered!: Rendered;
    /** The registry's config.yml texts by mode ("rendered", and "redirect" with --s3-redirect), and the one it runs. */
    registryConfigs: Record<string, string> = {};
    private activeRegistry = "rendered";

    async up(): Promise<void> {
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
                image: "registry-kit-test/s3:2",
                env: { S3_ACCESS_KEY: "rk-bench", S3_SECRET_KEY: S3_SECRET, S3_BUCKET: "images" },
            });
        }
        this.rendered = render(stackFile(), path.join(work, "render"), path.join(work, "state.json"), "bench", S3 ? ["registry"] : []);
        await deploy(this.rendered);
        await waitHealthy([REGISTRY, PROXY, `${PREFIX}-prometheus`], 120_000);

        const user: string = this.rendered.outputs.adminUser ?? "admin";
        const password: string = this.rendered.outputs.adminPassword;
        if (!password) throw new Error("outputs.json has no adminPassword (render --show-secrets?)");
        this.renderedConf = fs.readFileSync(path.join(this.rendered.dir, "files", PROXY, "etc", "nginx", "nginx.conf"), "utf8");
        this.active = { name: "rendered", conf: this.renderedConf, sha256: sha256(this.renderedConf) };

        const configPath = (r: Rendered) => path.join(r.dir, "files", REGISTRY, "etc", "docker", "registry", "config.yml");
        this.registryConfigs.rendered = fs.readFileSync(configPath(this.rendered), "utf8");
        if (opts.s3Redirect) {
            // Rendered by the kit with registry.storage.s3.redirect: true, from the same state (same secrets).
            const redirected = render(stackFile(true), path.join(work, "render-redirect"), path.join(work, "state.json"), "bench", ["registry"]);
            this.registryConfigs.redirect = fs.readFileSync(configPath(redirected), "utf8");
            const a = parseYaml(this.registryConfigs.rendered);
            const b = parseYaml(this.registryConfigs.redirect);
            if (a.storage.redirect?.disable !== true || b.storage.redirect?.disable !== false)
                throw new Error(
                    `--s3-redirect: the rendered configs' storage.redirect are ${JSON.stringify(a.storage.redirect)} and ${JSON.stringify(b.storage.redirect)}`,
                );
            delete a.storage.redirect;
            delete b.storage.redirect;
            if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error("--s3-redirect: the two rendered registry configs differ beyond storage.redirect");
        }

        this.proxyIp = docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`, PROXY);
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(this.proxyIp)) throw new Error(`no IP for ${PROXY} on ${NETWORK}: '${this.proxyIp}'`);

        // The client: skopeo on the stack's network, the proxy's certificate name pointing at the proxy,
        // image layouts on a tmpfs (room for the largest scenario's sources and pulled copies).
        const need = Math.max(
            opts.scenarios.includes("large") ? opts.layers * (opts.layerBytes + 2 * MB) : 0,
            opts.scenarios.includes("small") ? opts.smallLayers * (opts.smallLayerBytes + 64 * KB) : 0,
            opts.scenarios.includes("concurrency") ? (opts.clients + 1) * opts.concurrencyLayers * (opts.concurrencyLayerBytes + 64 * KB) : 0,
        );
        const tmpfsBytes = 3 * need + 256 * MB;
        startClientContainer({
            name: CLIENT,
            network: NETWORK,
            image: CLIENT_IMAGE,
            proxyHost: HOST,
            proxyIp: this.proxyIp,
            args: ["--mount", `type=tmpfs,destination=/bench,tmpfs-size=${tmpfsBytes}`, "--label", "registry-kit.role=bench-client"],
        });
        const auth = Buffer.from(`${user}:${password}`).toString("base64");
        // The registry behind the proxy knows the user by a password the proxy derives (bcrypt cost 4) and
        // sends on; direct trials log in with that same one, so both paths pay the same bcrypt at the
        // registry and the ratio is what the proxy costs (TLS, the hop, its cached credential check).
        const secrets = fs.readFileSync(path.join(this.rendered.dir, "files", PROXY, ...NGINX_AUTH_SECRETS_PATH.split("/")), "utf8");
        const proxySecret = /\$registry_kit_proxy_secret \{\s*default "([^"]+)";/.exec(secrets)?.[1];
        if (!proxySecret) throw new Error(`${NGINX_AUTH_SECRETS_PATH} names no proxy secret`);
        const directAuth = Buffer.from(`${user}:${proxiedPassword(proxySecret, user)}`).toString("base64");
        await inClient(["sh", "-c", "mkdir -p /bench/certs && cat > /bench/certs/ca.crt"], { input: this.rendered.outputs.caCertificate });
        // Credentials for the registry as deployed, on both paths; none for the no-auth registry.
        await inClient(["sh", "-c", "umask 077 && cat > /bench/auth.json"], {
            input: JSON.stringify({ auths: { [HOST]: { auth }, "registry:5000": { auth: directAuth } } }),
        });

        this.env = {
            host: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
            docker: version(["docker", "version", "-f", "{{.Server.Version}}"]),
            skopeo: version(["skopeo", "--version"], CLIENT),
            nginx: version(["nginx", "-v"], PROXY),
            registry: version(["registry", "--version"], REGISTRY),
        };
        log(`client ${CLIENT} on ${NETWORK}; ${HOST} -> ${this.proxyIp}; ${this.env.skopeo}; ${this.env.nginx}; ${this.env.registry}`);
        this.cpu.client = cpuReader(CLIENT);
        this.cpu.proxy = cpuReader(PROXY);
        this.cpu.registry = cpuReader(REGISTRY);
        // With redirects, blob bytes come from the S3 server: its CPU is part of the path.
        if (S3) this.cpu.s3 = cpuReader(`${PREFIX}-s3`);
        if (opts.pin) this.pin([REGISTRY, PROXY, `${PREFIX}-prometheus`]);
        // Before any scenario: an experiment's nginx.conf may name it in an upstream block, which nginx resolves on load.
        if (opts.scenarios.includes("small")) await this.startNoAuthRegistry();
    }

    private pin(server: string[]): void {
        const n = os.cpus().length;
        if (n < 2) throw new Error("--pin needs at least 2 CPUs");
        const cpus = n === 2 ? "0" : `0-${n - 2}`;
        docker("update", "--cpuset-cpus", cpus, ...server);
        docker("update", "--cpuset-cpus", String(n - 1), CLIENT);
        this.pinning = `client on CPU ${n - 1}; registry, proxy, prometheus on CPU ${cpus}`;
        log(`pinned: ${this.pinning}`);
    }

    /** The no-auth registry (small scenario): the rendered registry config without `auth`, on its own volume. */
    async startNoAuthRegistry(): Promise<void> {
        const config = parseYaml(fs.readFileSync(path.join(this.rendered.dir, "files", REGISTRY, "etc", "docker", "registry", "config.yml"), "utf8"));
        delete config.auth;
        const image = docker("inspect", "-f", "{{.Config.Image}}", REGISTRY);
        docker(
            "create",
            "--name",
            NOAUTH,
            "--network",
            NETWORK,
            "--network-alias",
            NOAUTH_ALIAS,
            "--dns",
            "127.0.0.1",
            "-v",
            `${NOAUTH}-data:/var/lib/registry`,
            "--label",
            "registry-kit.role=bench-registry-noauth",
            image,
        );
        const file = path.join(work, "noauth-config.yml");
        fs.writeFileSync(file, stringifyYaml(config));
        docker("cp", file, `${NOAUTH}:/etc/docker/registry/config.yml`);
        docker("start", NOAUTH);
        for (let i = 0; ; i++) {
            const r = await inClient(["bash", "-c", `exec 3<>/dev/tcp/${NOAUTH_ALIAS}/5000`], { allowFail: true });
            if (r.code === 0) break;
            if (i > 60) throw new Error(`${NOAUTH} does not listen on :5000: ${docker("logs", "--tail", "20", NOAUTH)}`);
            await sleep(500);
        }
        if (opts.pin) docker("update", "--cpuset-cpus", os.cpus().length === 2 ? "0" : `0-${os.cpus().length - 2}`, NOAUTH);
        this.cpu["registry-noauth"] = cpuReader(NOAUTH);
        this.registries.push(NOAUTH);
    }

    /**
     * A variant's nginx.conf plus a copy of its registry server block on NOAUTH_PROXY_PORT whose upstream
     * is the no-auth registry, without the credential check: every other directive is the variant's. A conf that already has a server
     * on that port (an experiment with its own upstream blocks) is taken as it is.
     */
    noAuthVariant(v: Variant): Variant {
        const conf = v.conf;
        if (conf.includes(`listen ${NOAUTH_PROXY_PORT} ssl`)) return v;
        const listen = conf.indexOf("listen 443 ssl default_server;");
        const start = conf.lastIndexOf("\n    server {\n", listen);
        if (listen < 0 || start < 0) throw new Error(`nginx.conf ${v.name} has no registry server block on 443`);
        let depth = 0;
        let end = -1;
        for (let i = conf.indexOf("{", start); i < conf.length; i++) {
            if (conf[i] === "{") depth++;
            if (conf[i] === "}" && --depth === 0) {
                end = i + 1;
                break;
            }
        }
        // Without the proxy's credential check (auth_request, the derived login it sends on): the limit.
        const copy = conf
            .slice(start, end)
            .split("\n")
            .filter((line) => !/^\s*(auth_request(_set)? |error_page 40[13] = @registry_kit_|proxy_set_header Authorization \$registry_kit_)/.test(line))
            .join("\n")
            .replace("listen 443 ssl default_server;", `listen ${NOAUTH_PROXY_PORT} ssl;`)
            .replaceAll("http://registry:5000", `http://${NOAUTH_ALIAS}:5000`);
        if (!copy.includes(`http://${NOAUTH_ALIAS}:5000`))
            throw new Error(
                `nginx.conf ${v.name}: its registry server block names no http://registry:5000 upstream; add a server on :${NOAUTH_PROXY_PORT} yourself`,
            );
        const text = `${conf.slice(0, end)}\n${copy.replace(/^\n/, "")}${conf.slice(end)}`;
        return { name: v.name, conf: text, sha256: sha256(text) };
    }

    /** Restarts the registry with one of registryConfigs (a no-op when it already runs that one). */
    async useRegistry(mode: string): Promise<void> {
        if (this.activeRegistry === mode) return;
        const file = path.join(work, `registry-${mode}.yml`);
        fs.writeFileSync(file, this.registryConfigs[mode]);
        docker("cp", file, `${REGISTRY}:/etc/docker/registry/config.yml`);
        docker("restart", "-t", "10", REGISTRY);
        for (let i = 0; ; i++) {
            // Up when it answers the API (401 without credentials); nginx resolves the name again within 10 s.
            const r = await inClient(["bash", "-c", "exec 3<>/dev/tcp/registry/5000 && printf 'GET /v2/ HTTP/1.0\r\n\r\n' >&3 && head -c 12 <&3"], {
                allowFail: true,
            });
            if (r.code === 0 && r.stdout.startsWith("HTTP/1.")) break;
            if (i > 120) throw new Error(`${REGISTRY} does not answer after a restart with the ${mode} config: ${docker("logs", "--tail", "20", REGISTRY)}`);
            await sleep(250);
        }
        this.cpu.registry = cpuReader(REGISTRY);
        this.activeRegistry = mode;
        log(`registry restarted with the ${mode} config`);
    }

    async load(v: Variant): Promise<void> {
        if (this.active?.sha256 === v.sha256) return;
        const file = path.join(work, `nginx-${v.sha256.slice(0, 12)}.conf`);
        fs.writeFileSync(file, v.conf);
        docker("cp", file, `${PROXY}:/etc/nginx/nginx.conf`);
        const t = run("docker", ["exec", PROXY, "nginx", "-t"], { allowFail: true, timeoutMs: 30_000 });
        if (t.code !== 0) throw new Error(`nginx -t rejected variant ${v.name}:\n${t.stderr}`);
        docker("exec", PROXY, "nginx", "-s", "reload");
        await sleep(1500); // the old (idle) workers exit; new ones take over
        this.active = v;
    }

    /**
     * Runs commands at once in the client and times them all (inside the container, from before the
     * first starts to after the last ends), with the CPU seconds each container used meanwhile.
     */
    async measure(commands: string[][]): Promise<Measurement> {
        // Flush earlier trials' dirty pages first, so their write-back does not land in this one.
        await runAsync("docker", ["exec", REGISTRY, "sync"], { timeoutMs: 120_000 });
        const script = [
            "s=$(date +%s%N); pids=()",
            ...commands.map((c) => `${c.map(shq).join(" ")} & pids+=($!)`),
            'rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done',
            'e=$(date +%s%N); echo "elapsed_ns=$((e - s))"; exit $rc',
        ].join("\n");
        const before = Object.fromEntries(Object.entries(this.cpu).map(([k, f]) => [k, f()]));
        const r = await inClient(["bash", "-c", script], { timeoutMs: (SKOPEO_TIMEOUT_S + 60) * 1000, allowFail: true });
        const cpuSeconds = Object.fromEntries(
            Object.entries(this.cpu).map(([k, f]) => {
                const a = before[k];
                const b = f();
                return [k, a === null || b === null ? null : Math.round((b - a) / 1e6) / 1e3];
            }),
        );
        if (r.code !== 0) throw new Error(`${commands.length} command(s) failed (${r.code}), the first: ${commands[0].join(" ")}\n${r.stderr || r.stdout}`);
        const m = /elapsed_ns=(\d+)/.exec(r.stdout);
        if (!m) throw new Error(`no timing: ${r.stdout}`);
        return { seconds: Number(m[1]) / 1e9, cpuSeconds };
    }

    /** Copies fresh images' layouts into the client's tmpfs (untimed). */
    async upload(images: FreshImage[]): Promise<void> {
        await inClient(["tar", "-x", "-C", "/bench", "-f", "-"], { input: tar(images.flatMap((i) => i.entries)), timeoutMs: 300_000 });
    }

    /** Checks pushed digests and pulled copies (manifest digest, blob bytes); skopeo already checked every blob's digest. */
    async verify(images: FreshImage[], pulledDirs: string[]): Promise<void> {
        const script = images
            .map(
                (img, i) =>
                    `echo "$(cat /bench/${img.name}.digest) sha256:$(sha256sum ${pulledDirs[i]}/manifest.json | cut -d' ' -f1) $(cat $(ls -d ${pulledDirs[i]}/* | grep -E '/[0-9a-f]{64}$') | wc -c)"`,
            )
            .join("\n");
        const lines = (await inClient(["bash", "-c", script])).stdout.trim().split("\n");
        images.forEach((img, i) => {
            const [pushed, pulled, bytes] = (lines[i] ?? "").split(" ");
            if (pushed !== img.manifestDigest) throw new Error(`pushed digest ${pushed}, expected ${img.manifestDigest}`);
            if (pulled !== img.manifestDigest) throw new Error(`pulled manifest ${pulled}, expected ${img.manifestDigest}`);
            if (Number(bytes) !== img.payloadBytes) throw new Error(`pulled ${bytes} blob bytes, expected ${img.payloadBytes}`);
        });
    }

    async clear(): Promise<void> {
        await inClient(["sh", "-c", "find /bench -mindepth 1 -maxdepth 1 ! -name certs ! -name auth.json -exec rm -rf {} +"]);
    }
}

let seq = 0;
const freshId = () => `${Date.now().toString(36)}-${(seq++).toString(36)}`;
const cpuText = (c: Record<string, number | null>) =>
    Object.entries(c)
        .map(([k, s]) => `${k} ${s === null ? "?" : fmt(s)}s`)
        .join(", ");
const cpuCell = (c: Record<string, number | null>, keys: string[]) => keys.map((k) => (c[k] === null || c[k] === undefined ? "?" : fmt(c[k]!))).join(" / ");
const ratioCell = (c: Comparison) => `**${fmt(c.ratio)}×** (pairs ${fmt(c.pairs.median)}×, ${fmt(c.pairs.min)}–${fmt(c.pairs.max)})`;
const secondsCell = (s: Spread) => `${fmt(s.median, 3)} s (${fmt(s.min, 3)}–${fmt(s.max, 3)})`;

interface Trial extends Measurement {
    scenario: string;
    rep: number;
    warmup: boolean;
    path: string;
    variant: string;
    /** The registry's config: "rendered", or "redirect" (--s3-redirect). */
    registry: string;
    op: string;
    /** Images moved by this measurement, and their payload bytes. */
    images: number;
    bytes: number;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Section {
    markdown: string;
    json: unknown;
}

/**
 * One push and one pull of a fresh image per path (and per proxy variant) each repetition, in the order
 * direct, proxy[variant 1], proxy[variant 2], ...
 */
async function pushPullRounds(
    stack: Stack,
    scenario: string,
    reps: number,
    paths: { target: Target; variant?: Variant; registry?: string }[],
    makeImage: (name: string) => FreshImage,
    trials: Trial[],
): Promise<void> {
    for (let rep = 1 - opts.warmup; rep <= reps; rep++) {
        for (const p of paths) {
            const id = freshId();
            const image = makeImage(`src-${id}`);
            await stack.upload([image]);
            if (p.variant) await stack.load(p.variant);
            await stack.useRegistry(p.registry ?? "rendered");
            const repo = `${scenario}-${p.target.name.replace(/[^a-z]+/g, "-")}`;
            const label = `${p.target.name}${p.variant && paths.filter((q) => q.variant).length > 1 ? `[${p.variant.name}]` : ""}${p.registry && p.registry !== "rendered" ? ` {registry: ${p.registry}}` : ""}`;
            try {
                for (const op of ["push", "pull"] as const) {
                    const cmd = op === "push" ? pushCmd(p.target, image, repo, id) : pullCmd(p.target, repo, id, `/bench/pull-${id}`);
                    const m = await stack.measure([cmd]);
                    trials.push({
                        scenario,
                        rep,
                        warmup: rep < 1,
                        path: p.target.name,
                        variant: p.variant?.name ?? "-",
                        registry: p.registry ?? "rendered",
                        op,
                        images: 1,
                        bytes: image.payloadBytes,
                        ...m,
                    });
                    log(
                        `${scenario} ${rep < 1 ? "warm-up" : `rep ${rep}`} ${label} ${op}: ${fmt(m.seconds, 3)} s, ${fmt(image.payloadBytes / MB / m.seconds, 1)} MB/s (cpu: ${cpuText(m.cpuSeconds)})`,
                    );
                    if (op === "push") await inClient(["rm", "-rf", `/bench/${image.name}`]);
                }
                await stack.verify([image], [`/bench/pull-${id}`]);
            } finally {
                await stack.clear();
            }
        }
    }
}

const measuredOf = (trials: Trial[], f: (t: Trial) => boolean) => trials.filter((t) => !t.warmup && f(t));
const secondsOf = (trials: Trial[], f: (t: Trial) => boolean) => measuredOf(trials, f).map((t) => t.seconds);
const CPU_KEYS = ["client", "proxy", "registry"];

/** The rendered nginx.conf and the --nginx-conf experiments. */
function variantsOf(stack: Stack): Variant[] {
    const rendered: Variant = { name: "rendered", conf: stack.renderedConf, sha256: sha256(stack.renderedConf) };
    return [rendered, ...opts.nginxConfs.map((f) => ({ name: path.basename(f), conf: fs.readFileSync(f, "utf8"), sha256: sha256(fs.readFileSync(f)) }))];
}

async function large(stack: Stack): Promise<Section> {
    const variants = variantsOf(stack);
    const rendered = variants[0];
    const trials: Trial[] = [];
    // With --s3-redirect: direct and the rendered proxy again, with the registry redirecting blob downloads to S3.
    const modes = opts.s3Redirect ? ["rendered", "redirect"] : ["rendered"];
    const rows = modes.flatMap((registry) => (registry === "rendered" ? variants : [rendered]).map((v) => ({ registry, v })));
    const cpuKeys = S3 ? [...CPU_KEYS, "s3"] : CPU_KEYS;
    log(`large: ${opts.warmup} warm-up + ${opts.reps} repetitions; a fresh ${opts.layers} x ${opts.layerBytes / MB} MB image per path and variant`);
    await pushPullRounds(
        stack,
        "large",
        opts.reps,
        modes.flatMap((registry) => [
            { target: DIRECT, registry },
            ...rows.filter((r) => r.registry === registry).map((r) => ({ target: PROXIED, variant: r.v, registry })),
        ]),
        (n) => freshImage(n, opts.layers, opts.layerBytes),
        trials,
    );
    await stack.load(rendered);
    await stack.useRegistry("rendered");
    const bytes = trials[0].bytes;
    const order = modes
        .flatMap((m) => [
            `direct${m === "rendered" ? "" : ` {${m}}`}`,
            ...rows.filter((r) => r.registry === m).map((r) => `proxy[${r.v.name}]${m === "rendered" ? "" : ` {${m}}`}`),
        ])
        .join(", ");
    const lines = [
        `### Large layers: push and pull of a fresh ${opts.layers}-layer image (${fmt(bytes / MB, 1)} MB), proxy vs direct`,
        "",
        `Goal: proxy ≥ ${LARGE_GOAL}× direct throughput for push and pull. ${opts.reps} repetitions (+${opts.warmup} warm-up), order ${order}.${opts.s3Redirect ? ' Registry "redirect": rendered with registry.storage.s3.redirect: true (blob GETs answered with a 307 to a presigned URL of the bucket, fetched by the client from the S3 server); each row is compared with direct under the same registry config.' : ""}`,
        "",
        `| nginx.conf | registry config | op | direct median (min–max) | proxy median (min–max) | direct MB/s | proxy MB/s | proxy / direct (per-pair median, min–max) | goal | CPU s median, proxy path: ${cpuKeys.join(" / ")} | direct path |`,
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ];
    const pick = (pathName: string, registry: string, op: string, variant?: string) => (t: Trial) =>
        t.path === pathName && t.registry === registry && t.op === op && (variant === undefined || t.variant === variant);
    const summary = rows.map(({ registry, v }) => ({
        variant: v.name,
        registry,
        nginxConfSha256: v.sha256,
        ops: (["push", "pull"] as const).map((op) => {
            const c = compareSeconds(secondsOf(trials, pick("direct", registry, op)), secondsOf(trials, pick("proxy", registry, op, v.name)));
            const cpuProxy = medianByKey(measuredOf(trials, pick("proxy", registry, op, v.name)).map((t) => t.cpuSeconds));
            const cpuDirect = medianByKey(measuredOf(trials, pick("direct", registry, op)).map((t) => t.cpuSeconds));
            lines.push(
                `| ${v.name} | ${registry} | ${op} | ${secondsCell(c.baseline)} | ${secondsCell(c.candidate)} | ${fmt(rate(bytes / MB, c.baseline.median), 1)} | ${fmt(rate(bytes / MB, c.candidate.median), 1)} | ${ratioCell(c)} | ${c.ratio >= LARGE_GOAL ? "met" : "not met"} | ${cpuCell(cpuProxy, cpuKeys)} | ${cpuCell(cpuDirect, cpuKeys)} |`,
            );
            return { op, comparison: c, cpuMedianProxy: cpuProxy, cpuMedianDirect: cpuDirect };
        }),
    }));
    let redirectEffect: unknown;
    if (opts.s3Redirect) {
        // The same path with and without redirects, pair by pair within each repetition.
        redirectEffect = (["direct", "proxy"] as const).map((pathName) => {
            const variant = pathName === "proxy" ? rendered.name : undefined;
            const c = compareSeconds(
                secondsOf(trials, pick(pathName, "rendered", "pull", variant)),
                secondsOf(trials, pick(pathName, "redirect", "pull", variant)),
            );
            return { path: pathName, op: "pull", comparison: c };
        });
        lines.push(
            "",
            `Pulls with the registry redirecting to S3 against the same path without (redirect / no redirect, throughput): ${(
                redirectEffect as { path: string; comparison: Comparison }[]
            )
                .map((e) => `${e.path} ${ratioCell(e.comparison)}`)
                .join("; ")}.`,
        );
    }
    return { markdown: lines.join("\n"), json: { payloadBytes: bytes, goal: LARGE_GOAL, summary, redirectEffect, trials } };
}

async function small(stack: Stack): Promise<Section> {
    const variants = variantsOf(stack).map((v) => stack.noAuthVariant(v));
    const trials: Trial[] = [];
    const paths: { target: Target; variant?: Variant }[] = [
        { target: DIRECT },
        ...variants.map((variant) => ({ target: PROXIED, variant })),
        { target: DIRECT_NOAUTH },
        ...variants.map((variant) => ({ target: PROXIED_NOAUTH, variant })),
    ];
    log(`small: ${opts.warmup} warm-up + ${opts.smallReps} repetitions; a fresh ${opts.smallLayers} x ${opts.smallLayerBytes / KB} KB image per path`);
    await pushPullRounds(stack, "small", opts.smallReps, paths, (n) => freshImage(n, opts.smallLayers, opts.smallLayerBytes), trials);
    await stack.load(variants[0]);
    const bytes = trials[0].bytes;
    const keys = ["client", "proxy", "registry", "registry-noauth"];
    const label = (p: (typeof paths)[number]) => (p.variant && variants.length > 1 ? `${p.target.name} [${p.variant.name}]` : p.target.name);
    const lines = [
        `### Small images: push and pull of a fresh ${opts.smallLayers}-layer image (${fmt(bytes / MB, 2)} MB), images per second`,
        "",
        `Goal: through the proxy as close to direct as with large layers (≥ ${LARGE_GOAL}×); the no-auth registry (the rendered config without \`auth\`, same image, own volume) is the limit authentication is measured against. ${opts.smallReps} repetitions (+${opts.warmup} warm-up), order ${paths.map(label).join(", ")}.`,
        "",
        "| path | op | seconds median (min–max) | images/s | vs direct with auth (per-pair median, min–max) | vs direct, no auth | CPU s median: client / proxy / registry / registry-noauth |",
        "|---|---|---|---|---|---|---|",
    ];
    const of = (p: (typeof paths)[number], op: string) => (t: Trial) => t.path === p.target.name && t.variant === (p.variant?.name ?? "-") && t.op === op;
    const summary = paths.flatMap((p) =>
        (["push", "pull"] as const).map((op) => {
            const s = secondsOf(trials, of(p, op));
            const c = compareSeconds(secondsOf(trials, of(paths[0], op)), s);
            const noAuth = compareSeconds(secondsOf(trials, of({ target: DIRECT_NOAUTH }, op)), s);
            const cpu = medianByKey(measuredOf(trials, of(p, op)).map((t) => t.cpuSeconds));
            lines.push(
                `| ${label(p)} | ${op} | ${secondsCell(c.candidate)} | ${fmt(1 / c.candidate.median, 2)} | ${p.target === DIRECT ? "1" : ratioCell(c)} | ${p.target === DIRECT_NOAUTH ? "1" : ratioCell(noAuth)} | ${cpuCell(cpu, keys)} |`,
            );
            return {
                path: p.target.name,
                variant: p.variant?.name,
                target: p.target.description,
                op,
                seconds: spread(s),
                imagesPerSecond: 1 / median(s),
                vsDirect: c,
                vsDirectNoAuth: noAuth,
                cpuMedian: cpu,
            };
        }),
    );
    return { markdown: lines.join("\n"), json: { payloadBytes: bytes, summary, trials } };
}

async function concurrency(stack: Stack): Promise<Section> {
    const n = opts.clients;
    const trials: Trial[] = [];
    const paths = [DIRECT, PROXIED];
    log(
        `concurrency: ${opts.warmup} warm-up + ${opts.concurrencyReps} repetitions; 1 and ${n} clients at once, ${opts.concurrencyLayers} x ${opts.concurrencyLayerBytes / MB} MB each`,
    );
    for (let rep = 1 - opts.warmup; rep <= opts.concurrencyReps; rep++) {
        for (const p of paths) {
            const repo = `concurrency-${p.name}`;
            const images = Array.from({ length: n + 1 }, () => freshImage(`src-${freshId()}`, opts.concurrencyLayers, opts.concurrencyLayerBytes));
            await stack.upload(images);
            const tags = images.map((i) => i.name.slice(4));
            const dirs = tags.map((t) => `/bench/pull-${t}`);
            try {
                const groups = [
                    { clients: 1, idx: [0] },
                    { clients: n, idx: images.slice(1).map((_, i) => i + 1) },
                ];
                for (const op of ["push", "pull"] as const) {
                    for (const g of groups) {
                        const cmds = g.idx.map((i) => (op === "push" ? pushCmd(p, images[i], repo, tags[i]) : pullCmd(p, repo, tags[i], dirs[i])));
                        const m = await stack.measure(cmds);
                        const bytes = g.idx.reduce((s, i) => s + images[i].payloadBytes, 0);
                        trials.push({
                            scenario: "concurrency",
                            rep,
                            warmup: rep < 1,
                            path: p.name,
                            variant: `${g.clients} clients`,
                            registry: "rendered",
                            op,
                            images: g.clients,
                            bytes,
                            ...m,
                        });
                        log(
                            `concurrency ${rep < 1 ? "warm-up" : `rep ${rep}`} ${p.name} ${g.clients} x ${op}: ${fmt(m.seconds, 3)} s, ${fmt(bytes / MB / m.seconds, 1)} MB/s aggregate (cpu: ${cpuText(m.cpuSeconds)})`,
                        );
                    }
                }
                await stack.verify(images, dirs);
            } finally {
                await stack.clear();
            }
        }
    }
    const lines = [
        `### Concurrency: ${n} clients at once vs one client, each with its own fresh ${opts.concurrencyLayers}-layer image (${fmt(trials[0].bytes / MB, 1)} MB)`,
        "",
        `Goal: ${n} clients get at least the aggregate throughput of one (scaling ≥ 1×, no collapse under load), and the proxy stays ≥ ${LARGE_GOAL}× direct. ${opts.concurrencyReps} repetitions (+${opts.warmup} warm-up); auth as deployed (htpasswd: the proxy checks the user once a minute, the registry a cost-4 derived login per request; direct trials send that derived login).`,
        "",
        `| path | op | 1 client MB/s | ${n} clients aggregate MB/s (seconds min–max) | scaling ${n} vs 1 | proxy / direct at ${n} (per-pair median, min–max) | CPU s median at ${n}: client / proxy / registry |`,
        "|---|---|---|---|---|---|---|",
    ];
    const summary = paths.flatMap((p) =>
        (["push", "pull"] as const).map((op) => {
            const pick = (path: string, clients: number) => (t: Trial) => t.path === path && t.op === op && t.images === clients;
            const one = spread(secondsOf(trials, pick(p.name, 1)));
            const many = spread(secondsOf(trials, pick(p.name, n)));
            const oneBytes = measuredOf(trials, pick(p.name, 1))[0].bytes;
            const manyBytes = measuredOf(trials, pick(p.name, n))[0].bytes;
            const oneRate = rate(oneBytes / MB, one.median);
            const manyRate = rate(manyBytes / MB, many.median);
            const vsDirect = compareSeconds(secondsOf(trials, pick(DIRECT.name, n)), secondsOf(trials, pick(p.name, n)));
            const cpu = medianByKey(measuredOf(trials, pick(p.name, n)).map((t) => t.cpuSeconds));
            lines.push(
                `| ${p.name} | ${op} | ${fmt(oneRate, 1)} | ${fmt(manyRate, 1)} (${fmt(many.min, 2)}–${fmt(many.max, 2)} s) | ${fmt(manyRate / oneRate)}× | ${p === DIRECT ? "1" : ratioCell(vsDirect)} | ${cpuCell(cpu, CPU_KEYS)} |`,
            );
            return {
                path: p.name,
                op,
                oneClientMBps: oneRate,
                manyClientsMBps: manyRate,
                scaling: manyRate / oneRate,
                oneSeconds: one,
                manySeconds: many,
                vsDirect,
                cpuMedian: cpu,
            };
        }),
    );
    return { markdown: lines.join("\n"), json: { clients: n, summary, trials } };
}

/**
 * The example stack file of each topology. Harbor's has no installer checksum (its user sets one
 * before `pulumi up`); render downloads nothing, so a placeholder stands in for it.
 */
const RENDER_STACKS = [
    { topology: "small-team", file: "stacks/Pulumi.local.yaml", sets: [] },
    { topology: "gitlab", file: "stacks/Pulumi.gitlab.yaml", sets: [] },
    { topology: "harbor", file: "stacks/Pulumi.harbor.yaml", sets: ["--set", `harbor.installerSha256=${"a".repeat(64)}`] },
];

async function renderTimes(): Promise<Section> {
    const tsxCli = require.resolve("tsx/cli", { paths: [ROOT] });
    const built = path.join(ROOT, "dist", "bin", "render.js");
    const ways = [
        { name: "npm run render (tsx bin/render.ts)", argv: [tsxCli, path.join(ROOT, "bin", "render.ts")] },
        ...(fs.existsSync(built) ? [{ name: "registry-kit-render (dist/bin/render.js, as built)", argv: [built] }] : []),
    ];
    const rows: { topology: string; way: string; seconds: Spread; all: number[] }[] = [];
    const lines = [
        `### render: wall time per topology`,
        "",
        `Goal: a render is quick enough to run on every pull request (no number set; tracked for regressions). ${opts.renderReps} repetitions (+${opts.warmup} warm-up) of each, one at a time, on the example stack files (harbor with a placeholder installerSha256); node ${process.version}.`,
        "",
        "| topology (stack file) | run as | seconds median (min–max) |",
        "|---|---|---|",
    ];
    for (const s of RENDER_STACKS) {
        for (const w of ways) {
            const all: number[] = [];
            for (let rep = 1 - opts.warmup; rep <= opts.renderReps; rep++) {
                const out = path.join(work, `render-${s.topology}`);
                fs.rmSync(out, { recursive: true, force: true });
                const t0 = process.hrtime.bigint();
                await runAsync(
                    process.execPath,
                    [...w.argv, "-c", path.join(ROOT, s.file), "-o", out, "--state", path.join(work, `render-${s.topology}.state.json`), ...s.sets],
                    {
                        cwd: ROOT,
                        timeoutMs: 300_000,
                    },
                );
                const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
                if (!fs.existsSync(path.join(out, "manifest.json"))) throw new Error(`render of ${s.file} wrote no manifest.json`);
                if (rep >= 1) all.push(seconds);
                log(`render ${rep < 1 ? "warm-up" : `rep ${rep}`} ${s.topology} via ${w.name}: ${fmt(seconds, 3)} s`);
            }
            const sp = spread(all);
            rows.push({ topology: s.topology, way: w.name, seconds: sp, all });
            lines.push(`| ${s.topology} (${s.file}) | ${w.name} | ${secondsCell(sp)} |`);
        }
    }
    return { markdown: lines.join("\n"), json: { rows } };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
    const started = Date.now();
    const command = ["npm", "run", "bench", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ");
    const loadBefore = loadAvg();
    log(`scenarios: ${opts.scenarios.join(", ")}${opts.quick ? " (quick)" : ""}; load average ${loadBefore}`);
    const sections: Record<string, Section> = {};
    if (opts.scenarios.includes("render")) sections.render = await renderTimes();
    let stack: Stack | undefined;
    if (DOCKER_SCENARIOS.length > 0) {
        run("docker", ["info"], { timeoutMs: 20_000 });
        startWatchdog();
        stack = new Stack();
        await stack.up();
        if (opts.scenarios.includes("large")) sections.large = await large(stack);
        if (opts.scenarios.includes("small")) sections.small = await small(stack);
        if (opts.scenarios.includes("concurrency")) sections.concurrency = await concurrency(stack);
    }
    const loadAfter = loadAvg();
    const durationSeconds = (Date.now() - started) / 1000;
    const header = [
        `\`${command}\`: ${new Date(started).toISOString()}, ${fmt(durationSeconds, 0)} s; load average (1, 5, 15 min) before ${loadBefore}, after ${loadAfter}.`,
        "",
        ...(stack
            ? [
                  `Host: ${stack.env.host}; Docker ${stack.env.docker}; ${stack.env.skopeo}; ${stack.env.nginx}; ${stack.env.registry}. Registry storage: ${S3 ? "s3 (S3-compatible stand-in, moto)" : "filesystem"}; CPU pinning: ${stack.pinning}.`,
                  "",
                  "Times are wall-clock seconds of the skopeo command(s) alone, measured inside the client container; MB = 10^6 bytes; ratios are throughput ratios (proxy / direct) from the same run; CPU s are what each container's cgroup used during the command.",
                  "",
              ]
            : []),
    ];
    const order = ["large", "small", "concurrency", "render"].filter((k) => sections[k]);
    const markdown = [...header, ...order.map((k) => `${sections[k].markdown}\n`)].join("\n");
    console.log(`\n${markdown}`);
    fs.mkdirSync(RESULTS, { recursive: true });
    const stamp = new Date(started).toISOString().replace(/[:.]/g, "-");
    const base = path.join(RESULTS, `bench-${stamp}`);
    const json = {
        command,
        startedAt: new Date(started).toISOString(),
        durationSeconds,
        loadAverage: { before: loadBefore, after: loadAfter },
        options: opts,
        env: stack?.env,
        pinning: stack?.pinning,
        targets: Object.fromEntries([DIRECT, PROXIED, DIRECT_NOAUTH, PROXIED_NOAUTH].map((t) => [t.name, t.description])),
        results: Object.fromEntries(order.map((k) => [k, sections[k].json])),
        markdown,
    };
    fs.writeFileSync(`${base}.json`, JSON.stringify(json, null, 2) + "\n");
    fs.writeFileSync(`${base}.md`, `# ${command}\n\n${markdown}`);
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
