/**
 * Retention and garbage collection on a real Docker engine: the small-team stack with maintenance
 * enabled (the program's own container specs), images built here as OCI layouts so every blob is
 * known, pushed and pulled with skopeo through the real proxy and registry.
 */
import { spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
    deploy,
    destroy,
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

const PREFIX = "rk-mt";
const HOST = "registry.mt.test";
const HTTPS = 28443;
const PROMETHEUS = "http://127.0.0.1:29090";
const REGISTRY = `${HOST}:${HTTPS}`;
const JOB = `${PREFIX}-maintenance`;
/** The other registry's port on loopback (plain HTTP), for the test's own pushes and checks. */
const REMOTE = 28600;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-mt-"));
const stateFile = path.join(work, "state.json");
const hostsFile = path.join(work, "hosts");
const certDir = path.join(work, "certs");
let rendered: Rendered;
let password: string;
let client: RegistryClient;
let backupSnapshot: string;

function stackFile(maintenance: Record<string, unknown> = {}): string {
    const doc = {
        config: {
            "registry-kit:hostname": HOST,
            "registry-kit:docker": { namePrefix: PREFIX },
            "registry-kit:registry": { image: "registry-kit-test/registry:3" },
            "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: 28080 },
            "registry-kit:monitoring": {
                image: "registry-kit-test/prometheus:2",
                hostIp: "127.0.0.1",
                port: 29090,
                scrapeInterval: "2s",
                volumes: { image: "registry-kit-test/node-exporter:1" },
            },
            "registry-kit:maintenance": {
                enabled: true,
                image: "registry-kit-test/node:22",
                // Not during the test: runs are requested with the documented command.
                schedule: "0 4 1 1 *",
                timezone: "Europe/Berlin",
                retention: [
                    { name: "ci-recent", repositories: ["ci/*"], keepMostRecent: 2 },
                    { name: "releases", repositories: ["ci/*"], tags: ["v*"], keepAll: true },
                    { name: "multi", repositories: ["multi"], keepMostRecent: 1 },
                ],
                backup: { enabled: true, keep: 5 },
                syncImage: "registry-kit-test/client:1",
                replication: [
                    {
                        name: "to-remote",
                        direction: "push",
                        registry: "remote:5000",
                        repositories: ["ci/app", "multi"],
                        tags: ["v*", "old", "new"],
                        destinationPrefix: "site-b/",
                        tlsVerify: false,
                    },
                    { name: "from-remote", direction: "pull", registry: "remote:5000", repositories: ["upstream/tool"], tlsVerify: false },
                ],
                ...maintenance,
            },
        },
    };
    const file = path.join(work, `Pulumi.mt-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

interface Blob {
    digest: string;
    size: number;
}

/** Writes a blob into an OCI layout; returns its descriptor. */
function putBlob(layout: string, data: Buffer): Blob {
    const hex = crypto.createHash("sha256").update(data).digest("hex");
    fs.mkdirSync(path.join(layout, "blobs", "sha256"), { recursive: true });
    fs.writeFileSync(path.join(layout, "blobs", "sha256", hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
}

/** An image manifest with one random layer; returns it and every blob it consists of. */
function putImage(layout: string, layerBytes: number, platform = { architecture: "amd64", os: "linux" }) {
    const layer = putBlob(layout, crypto.randomBytes(layerBytes));
    const config = putBlob(layout, Buffer.from(JSON.stringify({ ...platform, rootfs: { type: "layers", diff_ids: [layer.digest] }, config: {} })));
    const manifest = Buffer.from(
        JSON.stringify({
            schemaVersion: 2,
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
            layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
        }),
    );
    const m = putBlob(layout, manifest);
    return { manifest: m, blobs: [m, config, layer], platform, mediaType: "application/vnd.oci.image.manifest.v1+json" };
}

/** A layout whose index.json names one artefact as `ref`. */
function layoutWith<T extends { manifest: Blob; blobs: Blob[]; mediaType: string }>(name: string, build: (layout: string) => T): T & { layout: string } {
    const layout = fs.mkdtempSync(path.join(work, `${name}-`));
    fs.writeFileSync(path.join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    const built = build(layout);
    fs.writeFileSync(
        path.join(layout, "index.json"),
        JSON.stringify({
            schemaVersion: 2,
            manifests: [{ mediaType: built.mediaType, ...built.manifest, annotations: { "org.opencontainers.image.ref.name": "x" } }],
        }),
    );
    return { ...built, layout };
}

const image = (bytes: number) => layoutWith("image", (l) => putImage(l, bytes));
const multiArch = (bytes: number) =>
    layoutWith("index", (l) => {
        const children = [putImage(l, bytes, { architecture: "amd64", os: "linux" }), putImage(l, bytes, { architecture: "arm64", os: "linux" })];
        const index = putBlob(
            l,
            Buffer.from(
                JSON.stringify({
                    schemaVersion: 2,
                    mediaType: "application/vnd.oci.image.index.v1+json",
                    manifests: children.map((c) => ({ mediaType: c.mediaType, ...c.manifest, platform: c.platform })),
                }),
            ),
        );
        return { manifest: index, blobs: [index, ...children.flatMap((c) => c.blobs)], mediaType: "application/vnd.oci.image.index.v1+json", children };
    });

function push(layout: string, ref: string): { code: number; stderr: string; stdout: string } {
    return client.skopeo(
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-cert-dir",
        certDir,
        "--dest-creds",
        `admin:${password}`,
        `oci:${layout}:x`,
        `docker://${REGISTRY}/${ref}`,
    );
}

function pushOk(layout: string, ref: string): void {
    const r = push(layout, ref);
    if (r.code !== 0) throw new Error(`push of ${ref} failed: ${r.stderr}`);
}

/** The blobs in the registry's volume: digest → size (files named `data` under blobs/). */
function storedBlobs(): Map<string, number> {
    const out = inDataVolume("cd /d/docker/registry/v2/blobs && find . -name data -type f -printf '%h %s\\n'");
    return new Map(
        out
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => {
                const [dir, size] = l.split(" ");
                return [`sha256:${path.basename(dir)}`, Number(size)];
            }),
    );
}

/** Every file of the volume with size and modification time, as one text (a dry run must not change it). */
function storageListing(): string {
    return inDataVolume("cd /d && find . -printf '%p %s %T@\\n' | sort");
}

/** A shell command's output in a throwaway container with the registry's volume at /d, read-only. */
function inDataVolume(script: string): string {
    return run("docker", ["run", "--rm", "--network", "none", "-v", `${PREFIX}-registry-data:/d:ro`, "registry-kit-test/base:bookworm", "sh", "-c", script])
        .stdout;
}

const tags = async (repo: string): Promise<string[]> => {
    const r = await request("GET", `/v2/${repo}/tags/list`);
    return r.status === 200 ? ((JSON.parse(r.body.toString()).tags ?? []) as string[]).sort() : [];
};
const request = (method: string, pathname: string, body?: Buffer, headers: Record<string, string> = {}) =>
    proxyRequest({ port: HTTPS, hostname: HOST, ca: rendered.outputs.caCertificate, user: "admin", password }, method, pathname, body, headers);

/** Runs the documented on-demand command; resolves with its JSON result. */
function runMaintenance(dryRun: boolean): Promise<any> {
    const command: string[] = rendered.outputs.maintenanceRunCommand.split(" ");
    return new Promise((resolve, reject) => {
        const child = spawn(command[0], [...command.slice(1), ...(dryRun ? ["--dry-run"] : [])]);
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("close", () => {
            try {
                resolve(JSON.parse(out));
            } catch {
                reject(new Error(`not JSON: ${out}`));
            }
        });
    });
}

function jobLog(): any[] {
    const out = run("docker", ["logs", JOB], { allowFail: true });
    return out.stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
}

/** The status of a manifest request to the other registry (any manifest type). */
function remoteManifest(ref: string): number {
    const [repo, reference] = ref.includes("@") ? ref.split("@") : [ref.slice(0, ref.lastIndexOf(":")), ref.slice(ref.lastIndexOf(":") + 1)];
    const accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"].join(", ");
    const r = run("curl", [
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        `Accept: ${accept}`,
        `http://127.0.0.1:${REMOTE}/v2/${repo}/manifests/${reference}`,
    ]);
    return Number(r.stdout);
}

/** The digest the other registry serves for a reference (skopeo over loopback). */
function remoteDigest(ref: string): string {
    return run("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", `docker://127.0.0.1:${REMOTE}/${ref}`]).stdout.trim();
}

/** Resolves once the proxy sees the job's flag file (replication and retention come first, on a machine that may be busy). */
function readOnlyWindowOpen(): Promise<boolean> {
    const flagSeen = () => run("docker", ["exec", `${PREFIX}-proxy`, "test", "-f", "/run/registry-kit-maintenance/readonly"], { allowFail: true }).code === 0;
    return eventually("the read-only window", () => (flagSeen() ? true : undefined), 240_000, 50);
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const sigTag = (digest: string) => `${digest.replace(":", "-")}.sig`;

describe("retention and garbage collection (filesystem storage)", () => {
    const ci: Record<string, ReturnType<typeof image>> = {};
    let sigOld: ReturnType<typeof image>;
    let sigNew: ReturnType<typeof image>;
    let oldIndex: ReturnType<typeof multiArch>;
    let newIndex: ReturnType<typeof multiArch>;
    let other: ReturnType<typeof image>;
    let tool: ReturnType<typeof image>;

    beforeAll(async () => {
        prepare(PREFIX, ["registry3", "nginx", "prometheus", "node", "client"]);
        // Another registry on the test network (a second site, an upstream): the replication's other side.
        startSideService(`${PREFIX}-net`, {
            name: `${PREFIX}-remote`,
            alias: "remote",
            image: "registry-kit-test/registry:2",
            publish: [`127.0.0.1:${REMOTE}:5000`],
            env: { REGISTRY_STORAGE_DELETE_ENABLED: "true" },
            args: ["serve", "/etc/docker/registry/config.yml"],
        });
        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "mt");
        await deploy(rendered);
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`, `${PREFIX}-prometheus`, JOB, `${PREFIX}-registry-gc`], 120_000);
        password = rendered.outputs.adminPassword;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), rendered.outputs.caCertificate);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
        client = new RegistryClient({ work, hostsFile, certDir, registry: REGISTRY, user: "admin", password });

        // Pushed one after another: push time is when the tag's link was written.
        for (const t of ["v1.0", "b1", "b2", "b3", "b4"]) ci[t] = image(256 << 10);
        // `alias` is b4's manifest under an older tag: no rule keeps it, but its manifest stays.
        for (const t of ["v1.0", "alias", "b1", "b2", "b3", "b4"]) pushOk(ci[t === "alias" ? "b4" : t].layout, `ci/app:${t}`);
        sigOld = image(1024);
        pushOk(sigOld.layout, `ci/app:${sigTag(ci.b1.manifest.digest)}`);
        sigNew = image(1024);
        pushOk(sigNew.layout, `ci/app:${sigTag(ci.b4.manifest.digest)}`);
        oldIndex = multiArch(128 << 10);
        pushOk(oldIndex.layout, "multi:old");
        newIndex = multiArch(128 << 10);
        pushOk(newIndex.layout, "multi:new");
        other = image(64 << 10);
        pushOk(other.layout, "other/keep:x");
        tool = image(96 << 10);
        const r = run(
            "skopeo",
            ["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${tool.layout}:x`, `docker://127.0.0.1:${REMOTE}/upstream/tool:1`],
            {
                allowFail: true,
            },
        );
        if (r.code !== 0) throw new Error(`push to the remote failed: ${r.stderr}`);
    }, 600_000);

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("a dry run logs the plan and changes nothing on the storage, byte for byte", async () => {
        const before = storageListing();
        const result = await runMaintenance(true);
        expect(result).toMatchObject({ dryRun: true, success: true, trigger: "on-demand" });
        expect(storageListing()).toBe(before);
        const decisions = jobLog().filter((e) => e.event === "retention.tag" && e.dryRun);
        const action = (repo: string, tag: string) => decisions.find((e) => e.repository === repo && e.tag === tag)?.action;
        expect(action("ci/app", "b1")).toBe("delete");
        expect(action("ci/app", "b3")).toBe("keep");
        expect(action("ci/app", "v1.0")).toBe("keep");
        expect(action("multi", "old")).toBe("delete");
        expect(action("ci/app", "alias")).toBe("untag");
        expect(decisions.find((e) => e.tag === "b1")?.reason).toBe("no rule keeps it");
        expect(decisions.some((e) => e.repository === "other/keep")).toBe(false);
    }, 120_000);

    it("deletes what the rules say, refuses pushes in the read-only window, keeps serving pulls, and frees exactly the deleted images' blobs", async () => {
        const before = storedBlobs();
        // Pulls of a kept image through the proxy, all the way through the run.
        let pulling = true;
        const pulls = { ok: 0, failed: [] as string[] };
        const pullLoop = (async () => {
            while (pulling) {
                const m = await request("GET", `/v2/ci/app/manifests/v1.0`, undefined, { Accept: OCI_MANIFEST });
                const blob = await request("GET", `/v2/ci/app/blobs/${ci["v1.0"].blobs[2].digest}`);
                const ok =
                    m.status === 200 &&
                    blob.status === 200 &&
                    crypto.createHash("sha256").update(blob.body).digest("hex") === ci["v1.0"].blobs[2].digest.slice(7);
                if (ok) pulls.ok++;
                else pulls.failed.push(`${m.status}/${blob.status}`);
            }
        })();
        const late = image(200 << 10);
        const running = runMaintenance(false);
        // The window opens after retention; push into it.
        await readOnlyWindowOpen();
        const refusedPost = await request("POST", "/v2/ci/late/blobs/uploads/");
        const refusedPush = push(late.layout, "ci/late:1");
        const result = await running;
        pulling = false;
        await pullLoop;

        expect(refusedPost.status).toBe(503);
        expect(refusedPost.headers["retry-after"]).toBe("300");
        expect(JSON.parse(refusedPost.body.toString()).errors[0].code).toBe("UNAVAILABLE");
        expect(refusedPush.code).not.toBe(0);
        expect(refusedPush.stderr).toMatch(/503|UNAVAILABLE|unavailable/i);
        expect(pulls.failed).toEqual([]);
        expect(pulls.ok).toBeGreaterThan(5);
        expect(result, JSON.stringify(result.errors)).toMatchObject({ dryRun: false, success: true });
        // Replication ran first: this registry's release went to the other, the other's tool came here.
        expect(result.replication, JSON.stringify(jobLog().filter((e) => e.event.startsWith("sync.")))).toEqual({ copied: 4, skipped: 0, failed: [] });
        expect(remoteDigest("site-b/ci/app:v1.0")).toBe(ci["v1.0"].manifest.digest);
        // Indexes arrive whole, with the same digest and every child.
        expect(remoteDigest("site-b/multi:old")).toBe(oldIndex.manifest.digest);
        expect(remoteDigest("site-b/multi:new")).toBe(newIndex.manifest.digest);
        for (const child of [...oldIndex.children, ...newIndex.children]) expect(remoteManifest(`site-b/multi@${child.manifest.digest}`)).toBe(200);
        expect(client.pull(`upstream/tool@${tool.manifest.digest}`)).toBe(tool.manifest.digest);
        expect(client.inspect("upstream/tool:1").digest).toBe(tool.manifest.digest);

        // Registry 2.8 cannot delete a tag alone (DELETE by tag is DIGEST_INVALID): the alias stays, logged.
        expect(await tags("ci/app")).toEqual(["alias", "b3", "b4", sigTag(ci.b4.manifest.digest), "v1.0"].sort());
        expect(jobLog().find((e) => e.event === "retention.untag" && e.tag === "alias")).toMatchObject({ status: 400, kept: true });
        expect(await tags("multi")).toEqual(["new"]);
        expect(await tags("other/keep")).toEqual(["x"]);
        // The old index's children went with it; the new one's stay.
        const head = async (digest: string) => (await request("HEAD", `/v2/multi/manifests/${digest}`, undefined, { Accept: OCI_MANIFEST })).status;
        for (const child of oldIndex.children) expect(await head(child.manifest.digest)).toBe(404);
        for (const child of newIndex.children) expect(await head(child.manifest.digest)).toBe(200);

        // Exactly the deleted images' blobs are gone from the storage (the refused push left none).
        const deleted = [ci.b1, ci.b2, sigOld, oldIndex].flatMap((a) => a.blobs);
        const after = storedBlobs();
        const expectedGone = new Map(deleted.map((b) => [b.digest, b.size]));
        expect([...before.keys()].filter((d) => !after.has(d)).sort()).toEqual([...expectedGone.keys()].sort());
        const freed = [...expectedGone.values()].reduce((a, b) => a + b, 0);
        expect(result.gc.bytesFreed).toBe(freed);
        expect(result.gc.blobsDeleted).toBe(expectedGone.size);
        expect(result.retention.manifestsDeleted).toBe(2 + 1 + 3);
        // The snapshot, taken in the same window after GC, holds exactly the blobs left.
        expect(result.gc.backup).toMatch(/^snapshot \d{8}T\d{6}Z /);
        const snapshot = / (\d{8}T\d{6}Z) /.exec(result.gc.backup)![1];
        const snapped = run("docker", [
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            `${PREFIX}-registry-backup:/b:ro`,
            "registry-kit-test/base:bookworm",
            "sh",
            "-c",
            `cd /b/${snapshot}/docker/registry/v2/blobs && find . -name data -type f -printf '%h %s\\n'`,
        ]).stdout;
        expect(snapped.trim().split("\n").length).toBe(after.size);
        backupSnapshot = snapshot;

        // Every kept image pulls by digest, every layer verified.
        for (const a of [ci.b3, ci.b4, ci["v1.0"], sigNew, other]) {
            const repo = a === other ? "other/keep" : "ci/app";
            expect(client.pull(`${repo}@${a.manifest.digest}`)).toBe(a.manifest.digest);
        }
        for (const child of newIndex.children) expect(client.pull(`multi@${child.manifest.digest}`)).toBe(child.manifest.digest);

        // The refused push succeeds when retried after the window, and pulls.
        pushOk(late.layout, "ci/late:1");
        expect(client.pull(`ci/late@${late.manifest.digest}`)).toBe(late.manifest.digest);
        // The result is in Prometheus.
        const freedMetric = await eventually("the maintenance metrics in Prometheus", async () => {
            const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent("registry_kit_maintenance_gc_bytes_freed")}`);
            const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
            return body.data.result[0] && Number(body.data.result[0].value[1]) === freed ? body.data.result[0].value[1] : undefined;
        });
        expect(Number(freedMetric)).toBe(freed);
    }, 300_000);

    it("re-pushing a deleted image uploads its layers again, and the result pulls (no stale cache)", async () => {
        pushOk(ci.b1.layout, "ci/app:b1-again");
        const stored = storedBlobs();
        for (const b of ci.b1.blobs) expect(stored.get(b.digest), b.digest).toBe(b.size);
        expect(client.pull(`ci/app@${ci.b1.manifest.digest}`)).toBe(ci.b1.manifest.digest);
    }, 120_000);

    it("waits for an upload in flight to finish before collecting; the upload completes after the window", async () => {
        // A chunked PATCH that starts before the window opens and goes on streaming for 4 s into it.
        const hash = crypto.createHash("sha256");
        const pieces: Buffer[] = [];
        const started = await request("POST", "/v2/ci/slow/blobs/uploads/");
        expect(started.status).toBe(202);
        let location = started.headers.location as string;
        let windowSeenAt = 0;
        const patchDone = new Promise<{ status: number; location: string; at: number }>((resolve, reject) => {
            const req = https.request(
                {
                    host: "127.0.0.1",
                    port: HTTPS,
                    servername: HOST,
                    method: "PATCH",
                    path: location.replace(/^https:\/\/[^/]+/, ""),
                    ca: rendered.outputs.caCertificate,
                    agent: false,
                    headers: {
                        Host: `${HOST}:${HTTPS}`,
                        Authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`,
                        "Content-Type": "application/octet-stream",
                        "Transfer-Encoding": "chunked",
                    },
                },
                (res) => {
                    res.resume();
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, location: String(res.headers.location), at: Date.now() }));
                },
            );
            req.on("error", reject);
            const tick = setInterval(() => {
                const piece = crypto.randomBytes(64 << 10);
                pieces.push(piece);
                hash.update(piece);
                req.write(piece);
                if ((windowSeenAt && Date.now() - windowSeenAt > 4000) || pieces.length > 1200) {
                    clearInterval(tick);
                    req.end();
                }
            }, 250);
        });
        const running = runMaintenance(false);
        await readOnlyWindowOpen();
        windowSeenAt = Date.now();
        const patch = await patchDone;
        const result = await running;
        expect(patch.status).toBe(202);
        expect(result.success, JSON.stringify(result.errors)).toBe(true);
        const events = jobLog();
        const lastRun = events.slice(events.map((e) => e.event).lastIndexOf("run.start"));
        const drained = lastRun.filter((e) => e.event === "gc.drain");
        const gcStart = lastRun.find((e) => e.event === "gc.start");
        // The job saw the upload in flight and started collecting only after the PATCH had finished.
        expect(drained.length).toBeGreaterThan(0);
        expect(drained[0].uploadsInFlight).toBeGreaterThanOrEqual(1);
        expect(Date.parse(gcStart.time)).toBeGreaterThanOrEqual(patch.at - 1000);
        // After the window the session completes, and the blob is whole.
        location = patch.location;
        const digest = `sha256:${hash.digest("hex")}`;
        const put = await request("PUT", `${location}${location.includes("?") ? "&" : "?"}digest=${digest}`);
        expect(put.status).toBe(201);
        const got = await request("GET", `/v2/ci/slow/blobs/${digest}`);
        expect(crypto.createHash("sha256").update(got.body).digest("hex")).toBe(digest.slice(7));
    }, 300_000);

    it("a second run copies nothing that is already there", async () => {
        const result = await runMaintenance(false);
        expect(result.success, JSON.stringify([result.errors, result.replication])).toBe(true);
        expect(result.replication).toEqual({ copied: 0, skipped: 3, failed: [] });
        // A target image deleted at the other side is copied again.
        const del = run("curl", [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "DELETE",
            `http://127.0.0.1:${REMOTE}/v2/site-b/multi/manifests/${newIndex.manifest.digest}`,
        ]);
        expect(del.stdout).toBe("202");
        expect(remoteManifest("site-b/multi:new")).toBe(404);
        const third = await runMaintenance(false);
        expect(third.replication).toEqual({ copied: 1, skipped: 2, failed: [] });
        expect(remoteDigest("site-b/multi:new")).toBe(newIndex.manifest.digest);
    }, 400_000);

    it("loads alert rules Prometheus accepts (promtool), for a failed, overdue or missing run and a long read-only window", async () => {
        const check = run("docker", ["exec", `${PREFIX}-prometheus`, "promtool", "check", "rules", "/etc/prometheus/rules/maintenance.yml"], {
            allowFail: true,
        });
        expect(check.code, check.stdout + check.stderr).toBe(0);
        const names = await eventually("the rules in Prometheus", async () => {
            const body = (await (await fetch(`${PROMETHEUS}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string }[] }[] } };
            const all = body.data.groups.filter((g) => g.name === "registry-kit-maintenance").flatMap((g) => g.rules.map((r) => r.name));
            return all.length ? all : undefined;
        });
        expect(names.sort()).toEqual(["RegistryMaintenanceDown", "RegistryMaintenanceFailed", "RegistryMaintenanceOverdue", "RegistryReadOnlyTooLong"]);
    }, 60_000);

    it("plans no change on a second pulumi up, judged by what the provider reads back", async () => {
        const second = render(stackFile(), path.join(work, "render-again"), stateFile, "mt");
        const result = await deploy(second, rendered);
        for (const [name, plan] of Object.entries(result.plans)) expect(plan, name).toMatchObject({ action: "same", changed: [] });
        expect(result.replaced).toEqual([]);
    }, 120_000);

    it("a job killed with its flag set removes it when it starts again, and pushes work again", async () => {
        docker("exec", JOB, "sh", "-c", "date > /maintenance/readonly");
        expect((await request("POST", "/v2/ci/flag/blobs/uploads/")).status).toBe(503);
        // SIGKILL: no handler runs (a stop, SIGTERM, removes the flag on the way out).
        docker("kill", "-s", "KILL", JOB);
        docker("start", JOB);
        await waitHealthy([JOB]);
        const gone = await eventually("the flag removed", () =>
            run("docker", ["exec", `${PREFIX}-proxy`, "test", "-f", "/run/registry-kit-maintenance/readonly"], { allowFail: true }).code !== 0
                ? true
                : undefined,
        );
        expect(gone).toBe(true);
        expect((await request("POST", "/v2/ci/flag/blobs/uploads/")).status).toBe(202);
        expect(jobLog().some((e) => e.event === "gc.readonly" && e.reason === "left by a run that did not finish")).toBe(true);
        // The last success survived the restart (the overdue alert counts from it).
        const metrics = run("docker", ["exec", `${PREFIX}-prometheus`, "wget", "-q", "-O", "-", "http://maintenance:9400/metrics"]).stdout;
        expect(Number(/^registry_kit_maintenance_last_success_timestamp_seconds (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(Date.now() / 1000 - 3600);
    }, 120_000);

    it("runs on its schedule, in its time zone (every minute here, as a dry run)", async () => {
        const every = render(stackFile({ schedule: "* * * * *", dryRun: true }), path.join(work, "render-schedule"), stateFile, "mt");
        const { replaced } = await deploy(every, rendered);
        expect(replaced).toEqual([JOB]);
        await waitHealthy([JOB]);
        const end = await eventually("a scheduled run", () => jobLog().find((e) => e.event === "run.end" && e.trigger === "schedule"), 130_000, 2000);
        expect(end).toMatchObject({ dryRun: true, success: true });
        // It started on a minute boundary.
        const start = jobLog().find((e) => e.event === "run.start" && e.trigger === "schedule");
        expect(new Date(start.time).getUTCSeconds()).toBeLessThan(5);
        rendered = every;
    }, 180_000);

    it("logs no password: neither the job nor the GC worker", () => {
        for (const c of [JOB, `${PREFIX}-registry-gc`, `${PREFIX}-proxy`]) {
            const out = run("docker", ["logs", c], { allowFail: true });
            expect(out.stdout + out.stderr, c).not.toContain(password);
        }
        // The job's env holds it, as the registry's does; `docker inspect` shows it only to root.
        expect(docker("inspect", "-f", "{{json .Config.Env}}", JOB)).toContain("REGISTRY_KIT_REGISTRY_PASSWORD=");
    });
    it("after destroy and the data volume's removal, restores the backup into a new stack: every image of the snapshot pulls with its digest, nothing pushed after it is there", async () => {
        const FRESH = "rk-mt2";
        removeByPrefix(`${FRESH}-`);
        // The old stack is gone, its data volume too: only the backup volume is left.
        destroy(rendered);
        docker("volume", "rm", `${PREFIX}-registry-data`);
        expect(run("docker", ["volume", "inspect", `${PREFIX}-registry-backup`], { allowFail: true }).code).toBe(0);
        // README, "Backup and restore": the fresh stack's data volume, filled before its first `pulumi up`.
        docker("volume", "create", `${FRESH}-registry-data`);
        docker(
            "run",
            "--rm",
            "--network",
            "none",
            "-v",
            `${PREFIX}-registry-backup:/backup:ro`,
            "-v",
            `${FRESH}-registry-data:/var/lib/registry`,
            "registry-kit-test/registry:3",
            "sh",
            "-c",
            `cp -a /backup/${backupSnapshot}/docker /var/lib/registry/`,
        );
        const doc = {
            config: {
                "registry-kit:hostname": HOST,
                "registry-kit:docker": { namePrefix: FRESH },
                "registry-kit:registry": { image: "registry-kit-test/registry:3" },
                "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: 28543, httpPort: 28180 },
                "registry-kit:monitoring": { enabled: false },
                // The same admin password as the old stack: a restore keeps the users (README: keep the Pulumi state).
                "registry-kit:auth": { adminPassword: password },
            },
        };
        const file = path.join(work, "Pulumi.mt2.yaml");
        fs.writeFileSync(file, stringify(doc));
        const fresh = render(file, path.join(work, "render-fresh"), path.join(work, "state-fresh.json"), "mt2", ["auth"]);
        try {
            await deploy(fresh);
            await waitHealthy([`${FRESH}-registry`, `${FRESH}-proxy`]);
            const freshCerts = fs.mkdtempSync(path.join(work, "fresh-certs-"));
            fs.writeFileSync(path.join(freshCerts, "ca.crt"), fresh.outputs.caCertificate);
            const restored = new RegistryClient({ work, hostsFile, certDir: freshCerts, registry: `${HOST}:28543`, user: "admin", password });
            for (const [repo, a] of [
                ["ci/app", ci.b3],
                ["ci/app", ci.b4],
                ["ci/app", ci["v1.0"]],
                ["ci/app", sigNew],
                ["other/keep", other],
                ...newIndex.children.map((c) => ["multi", c] as const),
            ] as const) {
                expect(restored.pull(`${repo}@${a.manifest.digest}`)).toBe(a.manifest.digest);
            }
            expect(restored.inspect("ci/app:b3").digest).toBe(ci.b3.manifest.digest);
            // Pushed after the snapshot: not in it.
            expect(restored.inspect("ci/late:1").code).not.toBe(0);
            expect(restored.inspect("ci/app:b1").code).not.toBe(0);
        } finally {
            removeByPrefix(`${FRESH}-`);
            run("docker", ["volume", "rm", `${FRESH}-registry-data`], { allowFail: true });
        }
    }, 300_000);
});
