/**
 * End-to-end harness: renders a stack with `render --show-secrets`, then creates exactly the Docker
 * networks, volumes and containers the program declared, with the docker CLI, the way the pinned Docker
 * provider would (pulumi-docker 5.x = terraform-provider-docker v4.5.0, rules in
 * offline/docker-provider.ts): plans judged against what it reads back, uploads copied in before start,
 * deleteBeforeReplace, retainOnDelete, stop grace, attach and wait semantics.
 * Everything it creates carries the stack's name prefix and is removed by name afterwards.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";

import { renderCli, ROOT } from "../render-cli";
import {
    ContainerPlan,
    DEFAULT_DESTROY_GRACE_SECONDS,
    DEFAULT_WAIT_TIMEOUT_SECONDS,
    formatGoDuration,
    planContainer,
    parseGoDuration,
    planNetwork,
    planService,
    planSwarmFile,
    readBackNetwork,
    readBackService,
} from "../../offline/docker-provider";

export { ROOT };

export interface ManifestResource {
    type: string;
    name: string;
    custom: boolean;
    options: { retainOnDelete: boolean; deleteBeforeReplace: boolean; dependsOn: string[] };
    inputs: Record<string, any>;
}

export interface Rendered {
    dir: string;
    resources: ManifestResource[];
    outputs: Record<string, any>;
}

export function run(
    cmd: string,
    args: string[],
    opts: { input?: string | Buffer; allowFail?: boolean; timeoutMs?: number } = {},
): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(cmd, args, { input: opts.input, encoding: "utf8", timeout: opts.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 });
    const result = { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
    if (!opts.allowFail && result.code !== 0) {
        throw new Error(`${cmd} ${args.join(" ")} failed (${result.code}): ${result.stderr || result.stdout}`);
    }
    return result;
}

export const docker = (...args: string[]) => run("docker", args).stdout.trim();

/** Renders the stack config at `configPath` with the real program, keeping generated values in `stateFile`. */
export function render(configPath: string, outDir: string, stateFile: string, stack = "e2e", secretKeys: string[] = []): Rendered {
    renderCli([
        "--stack",
        stack,
        "--config",
        configPath,
        "--out",
        outDir,
        "--state",
        stateFile,
        "--show-secrets",
        ...secretKeys.flatMap((k) => ["--secret-key", k]),
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, "manifest.json"), "utf8"));
    const outputs = JSON.parse(fs.readFileSync(path.join(outDir, "outputs.json"), "utf8"));
    return { dir: outDir, resources: manifest.resources, outputs };
}

const byType = (r: Rendered, type: string) => r.resources.filter((x) => x.type === `docker:index/${type}`);

function exists(kind: "container" | "volume" | "network" | "image", name: string): boolean {
    return run("docker", [kind, "inspect", name], { allowFail: true }).code === 0;
}

/** `docker create` arguments for a Container resource's inputs. */
export function createArgs(inputs: Record<string, any>): string[] {
    // Test-only: Docker's embedded DNS forwards names it does not know to the container's resolvers;
    // pointing those at the container's own loopback keeps every lookup on this machine.
    // A container in another's network namespace has that one's DNS and hosts (Docker refuses --dns there).
    const sharedNetwork = typeof inputs.networkMode === "string" && inputs.networkMode.startsWith("container:");
    const a: string[] = ["create", "--name", inputs.name, ...(sharedNetwork ? ["--network", containerRef(inputs.networkMode)] : ["--dns", "127.0.0.1"])];
    for (const e of inputs.envs ?? []) a.push("-e", e);
    for (const v of inputs.volumes ?? []) a.push("-v", `${v.volumeName}:${v.containerPath}${v.readOnly ? ":ro" : ""}`);
    for (const p of inputs.ports ?? []) a.push("-p", `${p.ip ?? "0.0.0.0"}:${p.external}:${p.internal}`);
    for (const h of inputs.hosts ?? []) a.push("--add-host", `${h.host}:${h.ip}`);
    const [firstNet] = inputs.networksAdvanced ?? [];
    if (firstNet) {
        a.push("--network", firstNet.name);
        for (const alias of firstNet.aliases ?? []) a.push("--network-alias", alias);
    }
    const hc = inputs.healthcheck;
    if (hc) {
        const [kind, ...cmd] = hc.tests as string[];
        a.push("--health-cmd", kind === "CMD" ? cmd.map(shellQuote).join(" ") : cmd.join(" "));
        if (hc.interval) a.push("--health-interval", hc.interval);
        if (hc.timeout) a.push("--health-timeout", hc.timeout);
        if (hc.retries) a.push("--health-retries", String(hc.retries));
        if (hc.startPeriod) a.push("--health-start-period", hc.startPeriod);
    }
    if (inputs.restart) a.push("--restart", inputs.restart);
    if (inputs.logDriver) a.push("--log-driver", inputs.logDriver);
    for (const [k, v] of Object.entries(inputs.logOpts ?? {})) a.push("--log-opt", `${k}=${v}`);
    for (const l of inputs.labels ?? []) a.push("--label", `${l.label}=${l.value}`);
    if (inputs.entrypoints?.length) a.push("--entrypoint", inputs.entrypoints[0]);
    a.push(inputs.image);
    if (inputs.entrypoints?.length > 1) a.push(...inputs.entrypoints.slice(1));
    a.push(...(inputs.command ?? []));
    return a;
}

/**
 * `container:<id>` with the offline engine's id (`<name>-id`) as the docker CLI takes it (`container:<name>`);
 * a real `pulumi up` passes the container's real id, which names the same container.
 */
function containerRef(networkMode: string): string {
    return networkMode.replace(/-id$/, "");
}

function shellQuote(s: string): string {
    return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Copies a container's uploads in with their modes, as the provider does before starting it. */
function copyUploads(container: string, uploads: { file: string; content: string; permissions?: string }[]): void {
    if (!uploads.length) return;
    const stage = fs.mkdtempSync(path.join(os.tmpdir(), "rk-uploads-"));
    try {
        for (const u of uploads) {
            const target = path.join(stage, u.file);
            fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
            fs.writeFileSync(target, u.content);
            fs.chmodSync(target, parseInt(u.permissions ?? "0644", 8));
        }
        // A tar of the top-level folders (0755, root-owned), extracted at / like the provider's upload.
        const tar = execFileSync("tar", ["-C", stage, "--owner=0", "--group=0", "-cf", "-", ...fs.readdirSync(stage)]);
        run("docker", ["cp", "-", `${container}:/`], { input: tar });
    } finally {
        fs.rmSync(stage, { recursive: true, force: true });
    }
}

/** What the provider did, or would do, to each container: the plan judged against what it read back. */
export interface DeployResult {
    /** Containers replaced (deleted, then created: every spec here is deleteBeforeReplace). */
    replaced: string[];
    /** Containers updated in place (restart policy, limits). */
    updated: string[];
    /** Per container name, the provider's plan against the state it read back (absent: created). */
    plans: Record<string, ContainerPlan>;
    /** Attached containers: their exit code and logs, which the provider keeps in state and does not act on. */
    attached: Record<string, { exitCode: number; logs: string }>;
    commands: { name: string; stdout: string }[];
}

/**
 * The provider's state for a running container: what was applied (`applied`, its inputs) with the
 * attributes the provider reads back taken from `docker inspect` (health-check durations, log options,
 * restart policy; the log options include the daemon's defaults), so the plan sees what a refresh would.
 */
export function readBack(name: string, applied: Record<string, any>): Record<string, any> {
    const [info] = JSON.parse(docker("inspect", name));
    const state: Record<string, any> = { ...applied };
    const hc = info.Config.Healthcheck;
    if (applied.healthcheck && hc) {
        state.healthcheck = {
            ...applied.healthcheck,
            interval: formatGoDuration(BigInt(hc.Interval ?? 0)),
            timeout: formatGoDuration(BigInt(hc.Timeout ?? 0)),
            startPeriod: formatGoDuration(BigInt(hc.StartPeriod ?? 0)),
            retries: hc.Retries ?? 0,
        };
    }
    if (applied.logOpts !== undefined || Object.keys(info.HostConfig.LogConfig.Config ?? {}).length > 0) state.logOpts = info.HostConfig.LogConfig.Config ?? {};
    if (applied.restart !== undefined) state.restart = info.HostConfig.RestartPolicy.Name;
    return state;
}

/**
 * `pulumi up` as the pinned Docker provider performs it (offline/docker-provider.ts): networks and
 * volumes created once (a changed network is an error: the provider would replace it under its
 * containers); each container planned against the state the provider would read back: replaced when a
 * ForceNew attribute changed (stopped with the old state's `destroyGraceSeconds`, 0 when unset),
 * updated in place for the restart policy, left alone for health-check and other state-only changes.
 * Creates copy the uploads in before the start; `attach` waits for the exit and ignores the code;
 * `wait` polls health until `waitTimeout`, with the container already recorded.
 */
export async function deploy(current: Rendered, previous?: Rendered, o: { skipImages?: string[] } = {}): Promise<DeployResult> {
    // Resources whose image cannot run here (GitLab's) are left out, with their volumes, as a test's choice.
    const skip = (r: ManifestResource) => (o.skipImages ?? []).includes(r.type.endsWith("Container") ? r.inputs.image : r.inputs.name);
    current = { ...current, resources: current.resources.filter((r) => !skip(r)) };
    for (const img of byType(current, "remoteImage:RemoteImage")) {
        if (!exists("image", img.inputs.name)) throw new Error(`image ${img.inputs.name} is not built (test/e2e/images/build-images.sh)`);
    }
    for (const net of byType(current, "network:Network")) {
        const before = previous && byType(previous, "network:Network").find((p) => p.name === net.name);
        if (before) {
            const plan = planNetwork(readBackNetwork(before.inputs), net.inputs);
            if (plan.action !== "same") throw new Error(`network ${net.inputs.name} would be replaced (${plan.changed.join(", ")}) under its containers`);
        }
        const ipam = (net.inputs.ipamConfigs ?? []).flatMap((c: { subnet?: string; gateway?: string }) => [
            ...(c.subnet ? ["--subnet", c.subnet] : []),
            ...(c.gateway ? ["--gateway", c.gateway] : []),
        ]);
        if (!exists("network", net.inputs.name)) docker("network", "create", "--driver", net.inputs.driver ?? "bridge", ...ipam, net.inputs.name);
    }
    for (const vol of byType(current, "volume:Volume")) {
        if (!exists("volume", vol.inputs.name))
            docker("volume", "create", ...(vol.inputs.labels ?? []).flatMap((l: any) => ["--label", `${l.label}=${l.value}`]), vol.inputs.name);
    }
    const result: DeployResult = { replaced: [], updated: [], plans: {}, attached: {}, commands: [] };
    for (const c of dependencyOrder(byType(current, "container:Container"))) {
        const before = previous && byType(previous, "container:Container").find((p) => p.name === c.name);
        if (exists("container", c.inputs.name)) {
            const applied = before?.inputs ?? c.inputs;
            const plan = planContainer(readBack(c.inputs.name, applied), c.inputs);
            result.plans[c.inputs.name] = plan;
            if (plan.action === "same") continue;
            if (plan.action === "update") {
                if (plan.changed.includes("restart")) docker("update", "--restart", c.inputs.restart, c.inputs.name);
                result.updated.push(c.inputs.name);
                continue;
            }
            // Containers in this one's network namespace reference its id, which the replacement changes:
            // Pulumi deletes them first and creates them again after it (delete-before-replace dependents).
            for (const dependent of byType(current, "container:Container").filter((d) => d.inputs.networkMode === `container:${c.inputs.name}-id`)) {
                if (!exists("container", dependent.inputs.name)) continue;
                const applied = byType(previous ?? current, "container:Container").find((p) => p.name === dependent.name)?.inputs ?? dependent.inputs;
                docker("stop", "-t", String(applied.destroyGraceSeconds ?? DEFAULT_DESTROY_GRACE_SECONDS), dependent.inputs.name);
                docker("rm", "-v", dependent.inputs.name);
                result.replaced.push(dependent.inputs.name);
                result.plans[dependent.inputs.name] = { action: "replace", changed: ["networkMode"], replaceBecause: ["networkMode"], notApplied: [] };
            }
            result.replaced.push(c.inputs.name);
            docker("stop", "-t", String(applied.destroyGraceSeconds ?? DEFAULT_DESTROY_GRACE_SECONDS), c.inputs.name);
            docker("rm", "-v", c.inputs.name);
        }
        docker(...createArgs(c.inputs));
        copyUploads(c.inputs.name, c.inputs.uploads ?? []);
        docker("start", c.inputs.name);
        if (c.inputs.attach) {
            // The provider waits for the exit; the code lands in state and nothing fails on it.
            const exitCode = Number(docker("wait", c.inputs.name));
            const logs = run("docker", ["logs", c.inputs.name], { allowFail: true });
            result.attached[c.inputs.name] = { exitCode, logs: c.inputs.logs ? logs.stdout + logs.stderr : "" };
        }
        if (c.inputs.wait) await providerWait(c.inputs.name, c.inputs.waitTimeout ?? DEFAULT_WAIT_TIMEOUT_SECONDS);
    }
    // Local commands run when created or when their triggers change, as @pulumi/command does.
    for (const cmd of current.resources.filter((r) => r.type === "command:local:Command")) {
        const before = previous?.resources.find((p) => p.type === cmd.type && p.name === cmd.name);
        const triggers = (r: ManifestResource) => JSON.stringify(r.inputs.triggers ?? []);
        const retrigger =
            !before || triggers(before) !== triggers(cmd) || before.inputs.create !== cmd.inputs.create || replacedContainerTriggers(cmd, result.replaced);
        if (!retrigger) continue;
        const r = run("sh", ["-c", cmd.inputs.create], { allowFail: true, timeoutMs: 900_000 });
        if (r.code !== 0) throw new Error(`command ${cmd.name} failed (${r.code}):\n${r.stderr}${r.stdout}`);
        result.commands.push({ name: cmd.name, stdout: r.stdout });
    }
    return result;
}

/**
 * The provider's `wait`: polls the container's health until healthy or the timeout, even once the
 * container has exited. Its error names no cause; the harness adds the logs the provider would not show.
 */
async function providerWait(name: string, timeoutSeconds: number): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const health = docker("inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", name);
        if (health === "healthy") return;
        if (Date.now() > deadline) {
            const logs = run("docker", ["logs", "--tail", "40", name], { allowFail: true });
            throw new Error(`container ${name} did not become healthy within ${timeoutSeconds}s\n(harness only: its logs)\n${logs.stdout}${logs.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/**
 * Offline, a container's id is a fixed placeholder (`<name>-id`), so a trigger on it never changes in
 * the manifest; the container was replaced for real, which is what the trigger stands for.
 */
function replacedContainerTriggers(cmd: ManifestResource, replaced: string[]): boolean {
    return (cmd.inputs.triggers ?? []).some((t: unknown) => replaced.some((name) => t === `${name}-id`));
}

/** Containers after the containers they depend on, as the engine creates them. */
function dependencyOrder(containers: ManifestResource[]): ManifestResource[] {
    const names = new Set(containers.map((c) => c.name));
    const done = new Set<string>();
    const ordered: ManifestResource[] = [];
    while (ordered.length < containers.length) {
        const ready = containers.filter((c) => !done.has(c.name) && c.options.dependsOn.every((d) => !names.has(d) || done.has(d)));
        if (ready.length === 0) throw new Error("containers depend on each other in a cycle");
        for (const c of ready) {
            done.add(c.name);
            ordered.push(c);
        }
    }
    return ordered;
}

/** What `pulumi destroy` does: removes everything but resources marked retainOnDelete. */
export function destroy(rendered: Rendered): void {
    for (const c of byType(rendered, "container:Container")) {
        run("docker", ["rm", "-f", "-v", c.inputs.name], { allowFail: true });
    }
    for (const v of byType(rendered, "volume:Volume")) {
        if (!v.options.retainOnDelete) run("docker", ["volume", "rm", "-f", v.inputs.name], { allowFail: true });
    }
    for (const n of byType(rendered, "network:Network")) run("docker", ["network", "rm", n.inputs.name], { allowFail: true });
}

/** Removes every container, volume and network whose name starts with `prefix` (test cleanup). */
export function removeByPrefix(prefix: string): void {
    const list = (kind: string, fmt: string) =>
        run("docker", [kind, "ls", ...(kind === "container" ? ["-a"] : []), "--format", fmt], { allowFail: true })
            .stdout.split("\n")
            .filter((n) => n.startsWith(prefix));
    for (const c of list("container", "{{.Names}}")) run("docker", ["rm", "-f", "-v", c], { allowFail: true });
    for (const v of list("volume", "{{.Name}}")) run("docker", ["volume", "rm", "-f", v], { allowFail: true });
    for (const n of list("network", "{{.Name}}")) run("docker", ["network", "rm", n], { allowFail: true });
}

/** Waits until every container reports healthy (or fails with its logs). */
export async function waitHealthy(names: string[], timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const name of names) {
        for (;;) {
            const status = docker("inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", name);
            if (status === "running healthy") break;
            if (status.startsWith("exited") || Date.now() > deadline) {
                const logs = run("docker", ["logs", "--tail", "40", name], { allowFail: true });
                throw new Error(`${name} is ${status}:\n${logs.stdout}${logs.stderr}`);
            }
            await new Promise((r) => setTimeout(r, 500));
        }
    }
}

/**
 * Runs a client command with `/etc/hosts` replaced, in a private mount namespace, so the stack's
 * hostname resolves to loopback for that command only.
 */
export function withHosts(hostsFile: string, cmd: string, args: string[], opts: { allowFail?: boolean; timeoutMs?: number } = {}) {
    return run("unshare", ["-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, cmd, ...args], opts);
}

/** A fresh image as a docker-archive tar: one layer of random bytes per size, so no digest is known anywhere. */
export function buildImageTar(work: string, tagPrefix: string, layerBytes: number[]): string {
    const ctx = fs.mkdtempSync(path.join(work, "image-"));
    const copies = layerBytes.map((size, i) => {
        fs.writeFileSync(path.join(ctx, `layer${i}.bin`), crypto.randomBytes(size));
        return `COPY layer${i}.bin /layer${i}`;
    });
    fs.writeFileSync(path.join(ctx, "Dockerfile"), ["FROM scratch", ...copies, ""].join("\n"));
    const tag = `${tagPrefix}-app:${crypto.randomUUID().slice(0, 8)}`;
    run("docker", ["build", "-q", "-t", tag, ctx], { timeoutMs: 120_000 });
    const tar = path.join(ctx, "image.tar");
    docker("save", "-o", tar, tag);
    docker("rmi", tag);
    return tar;
}

/** skopeo against the stack's registry through the proxy, trusting `certDir/ca.crt`, with the stack's hostname on loopback. */
export class RegistryClient {
    constructor(private readonly o: { work: string; hostsFile: string; certDir: string; registry: string; user: string; password: string }) {}

    skopeo(...args: string[]) {
        return withHosts(this.o.hostsFile, "skopeo", ["--command-timeout", "300s", ...args], { allowFail: true });
    }

    /** Pushes a docker-archive tar; returns the manifest digest. */
    push(tar: string, ref: string): string {
        const digestFile = path.join(fs.mkdtempSync(path.join(this.o.work, "push-")), "digest");
        const creds = `${this.o.user}:${this.o.password}`;
        const r = this.skopeo(
            "copy",
            "--dest-cert-dir",
            this.o.certDir,
            "--dest-creds",
            creds,
            "--digestfile",
            digestFile,
            `docker-archive:${tar}`,
            `docker://${this.o.registry}/${ref}`,
        );
        if (r.code !== 0) throw new Error(`push of ${ref} failed: ${r.stderr}`);
        return fs.readFileSync(digestFile, "utf8").trim();
    }

    /** Pulls into a dir: layout, checks every layer against its digest, returns the manifest digest. */
    pull(ref: string, minLayers = 1): string {
        const dir = fs.mkdtempSync(path.join(this.o.work, "pull-"));
        const creds = `${this.o.user}:${this.o.password}`;
        const r = this.skopeo(
            "copy",
            "--preserve-digests",
            "--src-cert-dir",
            this.o.certDir,
            "--src-creds",
            creds,
            `docker://${this.o.registry}/${ref}`,
            `dir:${dir}`,
        );
        if (r.code !== 0) throw new Error(`pull of ${ref} failed: ${r.stderr}`);
        const manifest = fs.readFileSync(path.join(dir, "manifest.json"));
        const layers = JSON.parse(manifest.toString()).layers as { digest: string }[];
        if (layers.length < minLayers) throw new Error(`pulled ${layers.length} layers, expected at least ${minLayers}`);
        for (const layer of layers) {
            const hex = layer.digest.replace("sha256:", "");
            const actual = crypto
                .createHash("sha256")
                .update(fs.readFileSync(path.join(dir, hex)))
                .digest("hex");
            if (actual !== hex) throw new Error(`layer ${layer.digest} arrived with digest sha256:${actual}`);
        }
        return `sha256:${crypto.createHash("sha256").update(manifest).digest("hex")}`;
    }

    /** The registry's digest for a tag (skopeo inspect). */
    inspect(ref: string, withCa = true): { code: number; digest: string; stderr: string } {
        const ca = withCa ? ["--cert-dir", this.o.certDir] : [];
        const r = this.skopeo(
            "inspect",
            ...ca,
            "--creds",
            `${this.o.user}:${this.o.password}`,
            "--format",
            "{{.Digest}}",
            `docker://${this.o.registry}/${ref}`,
        );
        return { code: r.code, digest: r.stdout.trim(), stderr: r.stderr };
    }
}

/** The leaf certificate served on 127.0.0.1:`port` for SNI `servername`, and the rest of the chain's PEM. */
export function servedCertificate(port: number, servername: string): { leaf: crypto.X509Certificate; chainPem: string } {
    const r = run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", servername, "-showcerts"], {
        input: "",
        allowFail: true,
        timeoutMs: 20_000,
    });
    const pems = r.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const [leafPem] = pems;
    if (leafPem === undefined) throw new Error(`no certificate served: ${r.stderr}`);
    return { leaf: new crypto.X509Certificate(leafPem), chainPem: pems.slice(1).join("\n") + "\n" };
}

/** `openssl verify` of a served chain against `rootPem` alone (files in `work`): its output, `<leaf>: OK` when trusted. */
export function verifyChain(work: string, rootPem: string, served: { leaf: crypto.X509Certificate; chainPem: string }): string {
    const rootFile = path.join(work, "root.pem");
    const chainFile = path.join(work, "chain.pem");
    const leafFile = path.join(work, "leaf.pem");
    fs.writeFileSync(rootFile, rootPem);
    fs.writeFileSync(chainFile, served.chainPem);
    fs.writeFileSync(leafFile, served.leaf.toString());
    return run("openssl", ["verify", "-CAfile", rootFile, "-untrusted", chainFile, leafFile]).stdout;
}

/** Polls `fn` (sync or async) until it returns a value other than undefined; a throw counts as not yet. */
export async function eventually<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        let v: T | undefined;
        try {
            v = await fn();
        } catch {
            v = undefined;
        }
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

export interface ProxyTarget {
    /** Host port of the proxy on 127.0.0.1. */
    port: number;
    /** The certificate's name: SNI and (with the port) the Host header. */
    hostname: string;
    /** PEM of the CA to trust, and nothing else. */
    ca: string;
    user: string;
    password: string;
}

/** One request to the proxy on a fresh TLS connection (no keep-alive), with basic auth. */
export function proxyRequest(
    target: ProxyTarget,
    method: string,
    pathname: string,
    body?: Buffer,
    headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
        const req = https.request(
            {
                host: "127.0.0.1",
                port: target.port,
                servername: target.hostname,
                method,
                path: pathname.replace(/^https:\/\/[^/]+/, ""),
                ca: target.ca,
                agent: false,
                timeout: 60_000,
                headers: {
                    Host: `${target.hostname}:${target.port}`,
                    Authorization: `Basic ${Buffer.from(`${target.user}:${target.password}`).toString("base64")}`,
                    "Content-Length": String(body?.length ?? 0),
                    ...headers,
                },
            },
            (res) => {
                const parts: Buffer[] = [];
                res.on("data", (d) => parts.push(d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
                res.on("error", reject);
            },
        );
        req.on("error", reject);
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.end(body);
    });
}

/** A request test/e2e/receiver.js recorded. */
export interface ReceivedRequest {
    path: string;
    headers: Record<string, string>;
    body: string;
    answered: number;
}

/** Every request the receiver container `name` (test/e2e/receiver.js) recorded so far. */
export function receivedRequests(name: string): ReceivedRequest[] {
    return run("docker", ["exec", name, "cat", "/tmp/received.jsonl"], { allowFail: true })
        .stdout.split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
}

/** `df -B1` of a Docker volume as a container mounting it sees it: [size, available] bytes. */
export function volumeDf(volume: string): [number, number] {
    const line = run("docker", [
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        `${volume}:/data:ro`,
        "registry-kit-test/base:bookworm",
        "df",
        "-B1",
        "--output=size,avail",
        "/data",
    ])
        .stdout.trim()
        .split("\n")[1];
    const [size, avail] = line.trim().split(/\s+/).map(Number);
    return [size, avail];
}

/** Checks the engine, builds (or finds cached) the stand-in images a test needs, and removes what an earlier run of it left. */
export function prepare(prefix: string, roles: string[]): void {
    run("docker", ["info"], { timeoutMs: 20_000 });
    // Prometheus comes with the volume exporter (monitoring.volumes, on by default with filesystem storage).
    const all = roles.includes("prometheus") && !roles.includes("node-exporter") ? [...roles, "node-exporter"] : roles;
    run("bash", [path.join(ROOT, "test", "e2e", "images", "build-images.sh"), ...all], { timeoutMs: 900_000 });
    removeByPrefix(`${prefix}-`);
}

/** test/e2e/receiver.js as a side service `name` on `network`: an HTTP receiver of webhooks that records what it gets. */
export function startWebhookReceiver(network: string, name: string): void {
    startSideService(network, {
        name,
        alias: name,
        image: "registry-kit-test/node:22",
        args: ["node", "/receiver.js"],
        files: [{ path: "receiver.js", content: fs.readFileSync(path.join(__dirname, "receiver.js"), "utf8") }],
    });
}

/**
 * A client container idling on a stack's network for `docker exec` (`sleep infinity`): its lookups stay
 * on this machine (`--dns 127.0.0.1`) and `proxyHost` resolves to the proxy's address there.
 */
export function startClientContainer(o: { name: string; network: string; image: string; proxyHost: string; proxyIp: string; args?: string[] }): void {
    docker(
        "run",
        "-d",
        "--name",
        o.name,
        "--network",
        o.network,
        "--dns",
        "127.0.0.1",
        "--add-host",
        `${o.proxyHost}:${o.proxyIp}`,
        ...(o.args ?? []),
        "--entrypoint",
        "sleep",
        o.image,
        "infinity",
    );
}

/**
 * A service the test brings (an ACME server, an S3 server) on the stack's network, which it creates
 * first; the deploy then reuses the network. Its lookups stay on this machine (`--dns 127.0.0.1`).
 */
export function startSideService(
    network: string,
    o: {
        name: string;
        alias: string;
        image: string;
        env?: Record<string, string>;
        publish?: string[];
        args?: string[];
        /** The network's subnet when this creates it (as the stack declares it). */
        subnet?: string;
        entrypoint?: string;
        /** Files copied in before the start. */
        files?: { path: string; content: string; permissions?: string }[];
    },
): void {
    if (run("docker", ["network", "inspect", network], { allowFail: true }).code !== 0) {
        docker("network", "create", ...(o.subnet ? ["--subnet", o.subnet] : []), network);
    }
    const env = Object.entries(o.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const ports = (o.publish ?? []).flatMap((p) => ["-p", p]);
    const entrypoint = o.entrypoint ? ["--entrypoint", o.entrypoint] : [];
    docker(
        "create",
        "--name",
        o.name,
        "--network",
        network,
        "--network-alias",
        o.alias,
        "--dns",
        "127.0.0.1",
        ...env,
        ...ports,
        ...entrypoint,
        o.image,
        ...(o.args ?? []),
    );
    copyUploads(
        o.name,
        (o.files ?? []).map((f) => ({ file: f.path, content: f.content, permissions: f.permissions })),
    );
    docker("start", o.name);
}

// ---- Swarm: services, secrets and configs, applied through the Engine API as the provider does
// (ServiceCreate, ServiceUpdate with the whole spec, SecretCreate, ConfigCreate; no secret or config
// update exists), judged by planService / planSwarmFile against what Docker reports.

/** A Docker Engine API call on a unix socket (`curl --unix-socket`); returns the parsed JSON body. */
export function engineApi(socket: string, method: string, apiPath: string, body?: unknown): any {
    const args = ["-sS", "--unix-socket", socket, "-X", method, "-H", "Content-Type: application/json", "-w", "\n%{http_code}"];
    if (body !== undefined) args.push("--data-binary", "@-");
    const r = run("curl", [...args, `http://docker/v1.41${apiPath}`], { input: body === undefined ? undefined : JSON.stringify(body) });
    const lines = r.stdout.trimEnd().split("\n");
    const code = Number(lines.pop());
    const text = lines.join("\n");
    if (code >= 400) throw new Error(`${method} ${apiPath}: ${code} ${text}`);
    return text ? JSON.parse(text) : undefined;
}

const goNs = (text: string | undefined) => (text === undefined ? undefined : Number(parseGoDuration(text)));

/** The swarm.ServiceSpec the provider sends for a Service's inputs (createServiceSpec). */
export function serviceSpec(i: Record<string, any>): Record<string, any> {
    const c = i.taskSpec.containerSpec;
    const files = (refs: any[] | undefined, kind: "Secret" | "Config") =>
        (refs ?? []).map((r) => ({
            File: { Name: r.fileName, UID: r.fileUid ?? "0", GID: r.fileGid ?? "0", Mode: r.fileMode ?? 0o444 },
            [`${kind}ID`]: r[`${kind.toLowerCase()}Id`],
            [`${kind}Name`]: r[`${kind.toLowerCase()}Name`],
        }));
    const upd = (u: any) =>
        u && {
            Parallelism: u.parallelism,
            Delay: goNs(u.delay),
            FailureAction: u.failureAction,
            Monitor: goNs(u.monitor),
            MaxFailureRatio: Number(u.maxFailureRatio ?? 0),
            Order: u.order,
        };
    const p = i.taskSpec.placement;
    const hc = c.healthcheck;
    const rp = i.taskSpec.restartPolicy;
    return {
        Name: i.name,
        Labels: Object.fromEntries((i.labels ?? []).map((l: any) => [l.label, l.value])),
        TaskTemplate: {
            ContainerSpec: {
                Image: c.image,
                Command: c.commands,
                Args: c.args,
                Env: Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`),
                Mounts: (c.mounts ?? []).map((m: any) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly ?? false })),
                StopGracePeriod: goNs(c.stopGracePeriod),
                Healthcheck: hc && {
                    Test: hc.tests,
                    Interval: goNs(hc.interval),
                    Timeout: goNs(hc.timeout),
                    StartPeriod: goNs(hc.startPeriod),
                    Retries: hc.retries,
                },
                Secrets: files(c.secrets, "Secret"),
                Configs: files(c.configs, "Config"),
            },
            Placement: p && {
                Constraints: p.constraints ?? [],
                Preferences: (p.prefs ?? []).map((d: string) => ({ Spread: { SpreadDescriptor: d } })),
                MaxReplicas: p.maxReplicas ?? 0,
            },
            Networks: (i.taskSpec.networksAdvanceds ?? []).map((n: any) => ({ Target: n.id ?? n.name, Aliases: n.aliases ?? [] })),
            RestartPolicy: rp && { Condition: rp.condition, Delay: goNs(rp.delay), MaxAttempts: rp.maxAttempts, Window: goNs(rp.window) },
            LogDriver: i.taskSpec.logDriver && { Name: i.taskSpec.logDriver.name, Options: i.taskSpec.logDriver.options ?? {} },
        },
        Mode: i.mode?.global ? { Global: {} } : { Replicated: { Replicas: i.mode?.replicated?.replicas ?? 1 } },
        UpdateConfig: upd(i.updateConfig),
        RollbackConfig: upd(i.rollbackConfig),
        EndpointSpec: i.endpointSpec && {
            Mode: i.endpointSpec.mode,
            Ports: (i.endpointSpec.ports ?? []).map((x: any) => ({
                Protocol: x.protocol,
                TargetPort: x.targetPort,
                PublishedPort: x.publishedPort,
                PublishMode: x.publishMode,
            })),
        },
    };
}

/** Replaces the offline engine's ids (`<resource name>-id`) with Docker's, everywhere in `v`. */
function withIds<T>(v: T, ids: Map<string, string>): T {
    let text = JSON.stringify(v);
    for (const [fake, real] of ids) text = text.split(JSON.stringify(fake)).join(JSON.stringify(real));
    return JSON.parse(text);
}

export interface SwarmPlan {
    /** Per resource name: what the apply did (same, update, replace, create). */
    actions: Record<string, string>;
    /** Per service: the attributes the provider would see changed. */
    changed: Record<string, string[]>;
}

/**
 * Applies the rendered stack's overlay network, secrets, configs and services to the swarm at `socket`,
 * as `pulumi up` with the pinned provider would: files whose name is new are created first, services
 * are created or updated in place with their whole spec (and waited for, as `convergeConfig` does), then
 * the files no longer referenced are removed. With `planOnly`, nothing is changed: the plan is returned.
 */
export async function applySwarm(rendered: Rendered, socket: string, o: { planOnly?: boolean; convergeMs?: number } = {}): Promise<SwarmPlan> {
    const plan: SwarmPlan = { actions: {}, changed: {} };
    const ids = new Map<string, string>();
    const api = (m: string, p: string, b?: unknown) => engineApi(socket, m, p, b);
    for (const n of byType(rendered, "network:Network")) {
        const found = api("GET", `/networks?filters=${encodeURIComponent(JSON.stringify({ name: [n.inputs.name] }))}`).find(
            (x: any) => x.Name === n.inputs.name,
        );
        if (found) {
            plan.actions[n.name] = "same";
            ids.set(`${n.name}-id`, found.Id);
        } else {
            plan.actions[n.name] = "create";
            if (o.planOnly) continue;
            const labels = Object.fromEntries((n.inputs.labels ?? []).map((l: any) => [l.label, l.value]));
            const made = api("POST", "/networks/create", {
                Name: n.inputs.name,
                Driver: n.inputs.driver,
                Attachable: n.inputs.attachable ?? false,
                Labels: labels,
                CheckDuplicate: true,
            });
            ids.set(`${n.name}-id`, made.Id);
        }
    }
    for (const [type, kind] of [
        ["secret:Secret", "secrets"],
        ["serviceConfig:ServiceConfig", "configs"],
    ] as const) {
        const existing: any[] = api("GET", `/${kind}`);
        for (const f of byType(rendered, type)) {
            const found = existing.find((x) => x.Spec.Name === f.inputs.name);
            // A config's data is read back; a secret's never is (its name carries the version).
            const same =
                found &&
                (kind === "secrets" ||
                    planSwarmFile({ name: found.Spec.Name, data: found.Spec.Data }, { name: f.inputs.name, data: f.inputs.data }) === "same");
            if (same) {
                plan.actions[f.name] = "same";
                ids.set(`${f.name}-id`, found.ID);
                continue;
            }
            plan.actions[f.name] = found ? "replace" : "create";
            if (o.planOnly) continue;
            const labels = Object.fromEntries((f.inputs.labels ?? []).map((l: any) => [l.label, l.value]));
            const made = api("POST", `/${kind}/create`, { Name: f.inputs.name, Data: f.inputs.data, Labels: { ...labels, "registry-kit.harness": "swarm" } });
            ids.set(`${f.name}-id`, made.ID);
        }
    }
    const services = byType(rendered, "service:Service");
    for (const s of services) {
        const desired = withIds(s.inputs, ids);
        const found = api("GET", `/services?filters=${encodeURIComponent(JSON.stringify({ name: [desired.name] }))}`).find(
            (x: any) => x.Spec.Name === desired.name,
        );
        if (!found) {
            plan.actions[s.name] = "create";
            if (!o.planOnly) api("POST", "/services/create", serviceSpec(desired));
            continue;
        }
        const p = planService(readBackService(found), desired);
        plan.actions[s.name] = p.action;
        plan.changed[s.name] = p.changed;
        if (o.planOnly || p.action === "same") continue;
        if (p.action === "replace")
            throw new Error(`service ${desired.name} would be replaced (${p.replaceBecause.join(", ")}): a fixed name cannot be created before it is deleted`);
        api("POST", `/services/${found.ID}/update?version=${found.Version.Index}`, serviceSpec(desired));
    }
    if (o.planOnly) return plan;
    // No fixed pause (the provider's convergeConfig waits 7s for the orchestrator to mark an update as
    // started): convergeService counts only tasks made from the service's current spec.
    for (const s of services) await convergeService(socket, s.inputs.name, o.convergeMs ?? 300_000);
    // Replaced files go last, once no service mounts them.
    for (const [type, kind] of [
        ["secret:Secret", "secrets"],
        ["serviceConfig:ServiceConfig", "configs"],
    ] as const) {
        const wanted = new Set(byType(rendered, type).map((f) => f.inputs.name));
        const prefix = rendered.resources.find((r) => r.type === "docker:index/network:Network")?.inputs.name.replace(/-net$/, "");
        for (const x of api("GET", `/${kind}`)) if (x.Spec.Name.startsWith(`${prefix}-`) && !wanted.has(x.Spec.Name)) api("DELETE", `/${kind}/${x.ID}`);
    }
    return plan;
}

/**
 * The service converged: as many running tasks as replicas, each made from the service's current task
 * template (a task keeps a copy of the template it was made from), none left from an earlier one, and
 * no update or rollback in progress.
 */
export async function convergeService(socket: string, name: string, timeoutMs: number): Promise<void> {
    await eventually(
        `service ${name} to converge`,
        () => {
            const svc = engineApi(socket, "GET", `/services/${name}`);
            const state = svc.UpdateStatus?.State;
            if (state === "rollback_completed" || state === "paused" || state === "rollback_paused")
                throw new Error(`service ${name}: update ${state}: ${svc.UpdateStatus.Message}`);
            if (state === "updating" || state === "rollback_started") return undefined;
            const tasks: any[] = engineApi(
                socket,
                "GET",
                `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: [name], "desired-state": ["running"] }))}`,
            );
            // The service's template carries `Runtime: "container"`, its tasks' copies do not.
            const spec = ({ Runtime: _runtime, ...rest }: Record<string, unknown>) => JSON.stringify(rest);
            if (tasks.some((t) => spec(t.Spec) !== spec(svc.Spec.TaskTemplate))) return undefined;
            const running = tasks.filter((t) => t.Status.State === "running").length;
            return running === (svc.Spec.Mode.Replicated?.Replicas ?? running) ? true : undefined;
        },
        timeoutMs,
        500,
    );
}

/** `pulumi destroy`: the services, then their secrets and configs, then the network; volumes stay (no resource owns them). */
export async function destroySwarm(rendered: Rendered, socket: string): Promise<void> {
    const api = (m: string, p: string) => engineApi(socket, m, p);
    for (const s of byType(rendered, "service:Service")) {
        if (api("GET", "/services").some((x: any) => x.Spec.Name === s.inputs.name)) api("DELETE", `/services/${s.inputs.name}`);
    }
    await eventually(
        "the services' containers to stop",
        () =>
            api("GET", "/containers/json").some((c: any) =>
                c.Labels?.["com.docker.swarm.service.name"]?.startsWith(
                    rendered.resources.find((r) => r.type === "docker:index/network:Network")!.inputs.name.replace(/-net$/, ""),
                ),
            )
                ? undefined
                : true,
        120_000,
        1000,
    );
    for (const [type, kind] of [
        ["secret:Secret", "secrets"],
        ["serviceConfig:ServiceConfig", "configs"],
    ] as const) {
        const names = new Set(byType(rendered, type).map((f) => f.inputs.name));
        for (const x of api("GET", `/${kind}`)) if (names.has(x.Spec.Name)) api("DELETE", `/${kind}/${x.ID}`);
    }
    for (const n of byType(rendered, "network:Network")) {
        await eventually(
            `network ${n.inputs.name} removed`,
            () =>
                run("curl", [
                    "-sS",
                    "--unix-socket",
                    socket,
                    "-X",
                    "DELETE",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    `http://docker/v1.41/networks/${n.inputs.name}`,
                ]).stdout.match(/^(204|404)$/)
                    ? true
                    : undefined,
            60_000,
            2000,
        );
    }
}
