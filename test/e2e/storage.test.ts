/**
 * S3 storage and replicas on a real Docker engine: two registry replicas (the program's own container
 * specs) behind the proxy, sharing an S3-compatible server on the test network (moto in server mode,
 * standing in for MinIO/AWS: neither can be run here) and a Redis blob-descriptor cache.
 */
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
    buildImageTar,
    deploy,
    prepare,
    startClientContainer,
    startSideService,
    destroy,
    docker,
    RegistryClient,
    removeByPrefix,
    render,
    Rendered,
    run,
    waitHealthy,
    eventually,
    proxyRequest,
} from "./harness";

const PREFIX = "rk-s3";
const HOST = "registry.s3.test";
const HTTPS = 48443;
const REGISTRY = `${HOST}:${HTTPS}`;
const S3_KEY = "rk-s3-access";
const S3_SECRET = crypto.randomBytes(20).toString("hex");
const REPLICAS = [`${PREFIX}-registry-0`, `${PREFIX}-registry-1`];

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-s3-"));
const stateFile = path.join(work, "state.json");
const hostsFile = path.join(work, "hosts");
const certDir = path.join(work, "certs");
let rendered: Rendered;
let password: string;
let pushedDigest: string;
let client: RegistryClient;
let layers: string[] = [];

function stackFile(registryExtra: Record<string, unknown> = {}, s3Extra: Record<string, unknown> = {}): string {
    const doc = {
        config: {
            "registry-kit:hostname": HOST,
            "registry-kit:docker": { namePrefix: PREFIX },
            "registry-kit:registry": {
                image: "registry-kit-test/registry:2",
                replicas: 2,
                redis: { image: "registry-kit-test/redis:7" },
                storage: {
                    type: "s3",
                    s3: {
                        create: false,
                        bucket: "images",
                        regionEndpoint: "http://s3:9000",
                        secure: false,
                        encrypt: false,
                        chunkSize: 5242880,
                        rootDirectory: "/team-registry",
                        accessKey: S3_KEY,
                        secretKey: S3_SECRET,
                        ...s3Extra,
                    },
                },
                ...registryExtra,
            },
            "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: 48080 },
            "registry-kit:monitoring": {
                image: "registry-kit-test/prometheus:2",
                hostIp: "127.0.0.1",
                port: 49090,
                scrapeInterval: "2s",
                volumes: { image: "registry-kit-test/node-exporter:1" },
            },
            "registry-kit:maintenance": {
                enabled: true,
                image: "registry-kit-test/node:22",
                schedule: "0 4 1 1 *",
                retention: [{ repositories: ["gc/*"], keepMostRecent: 1 }],
            },
        },
    };
    const file = path.join(work, `Pulumi.s3-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

/** One request to the proxy, trusting the stack's CA. */
const request = (method: string, pathname: string, body?: Buffer, headers: Record<string, string> = {}) =>
    proxyRequest({ port: HTTPS, hostname: HOST, ca: rendered.outputs.caCertificate, user: "admin", password }, method, pathname, body, headers);

/** JSON log lines of a registry replica that record a request. */
function requests(container: string): { method: string; uri: string }[] {
    const out = run("docker", ["logs", container], { allowFail: true });
    return (out.stdout + out.stderr)
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l))
        .filter((e) => e["http.request.method"] && e["http.request.uri"] && e.msg === "response completed")
        .map((e) => ({ method: e["http.request.method"], uri: e["http.request.uri"] }));
}

/** A GET straight to one replica from inside its container (loopback), bypassing the proxy. */
function getFromReplica(container: string, pathname: string): Buffer {
    // Straight to a replica, past the proxy's check: the admin's own password is under its verification
    // name there (the plain name has the login the proxy derives; README, "Users, permissions").
    const auth = Buffer.from(`admin@registry-kit-verify:${password}`).toString("base64");
    // Bytes, not text: blobs are binary. The header goes in on stdin, so a failure's message (which quotes
    // the command line) shows no credential.
    return execFileSync(
        "docker",
        [
            "exec",
            "-i",
            container,
            "sh",
            "-c",
            'read -r auth && exec wget -q -O - --header "Authorization: Basic $auth" --header "Accept: application/vnd.docker.distribution.manifest.v2+json" "$0"',
            `http://127.0.0.1:5000${pathname}`,
        ],
        {
            input: `${auth}\n`,
            maxBuffer: 64 * 1024 * 1024,
            timeout: 60_000,
        },
    );
}

/** Keys and sizes of every object in the test's bucket. */
function bucketObjects(): Map<string, number> {
    const listing = run("docker", [
        "exec",
        `${PREFIX}-s3`,
        "python3",
        "-c",
        "import boto3,os;c=boto3.client('s3',endpoint_url='http://127.0.0.1:9000',aws_access_key_id=os.environ['S3_ACCESS_KEY'],aws_secret_access_key=os.environ['S3_SECRET_KEY'],region_name='us-east-1');" +
            "p=c.get_paginator('list_objects_v2');print('\\n'.join(o['Key']+' '+str(o['Size']) for page in p.paginate(Bucket='images') for o in page.get('Contents',[])))",
    ]);
    return new Map(
        listing.stdout
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]),
    );
}

describe("S3 storage with two registry replicas", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry", "nginx", "prometheus", "s3", "redis", "node", "client"]);
        // The S3 service is the test's, not the stack's.
        startSideService(`${PREFIX}-net`, {
            name: `${PREFIX}-s3`,
            alias: "s3",
            image: "registry-kit-test/s3:2",
            env: { S3_ACCESS_KEY: S3_KEY, S3_SECRET_KEY: S3_SECRET, S3_BUCKET: "images" },
        });

        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "s3", ["registry"]);
        await deploy(rendered);
        await waitHealthy(
            [...REPLICAS, `${PREFIX}-redis`, `${PREFIX}-proxy`, `${PREFIX}-prometheus`, `${PREFIX}-maintenance`, `${PREFIX}-registry-gc`],
            120_000,
        );
        password = rendered.outputs.adminPassword;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), rendered.outputs.caCertificate);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
        client = new RegistryClient({ work, hostsFile, certDir, registry: REGISTRY, user: "admin", password });
    });

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("plans no change on a second pulumi up, against what Docker reports", async () => {
        const again = render(stackFile(), path.join(work, "render-again"), stateFile, "s3", ["registry"]);
        const result = await deploy(again, rendered);
        expect(Object.keys(result.plans).sort()).toEqual(
            [
                ...REPLICAS,
                ...REPLICAS.map((r) => `${r}-metrics-gate`),
                `${PREFIX}-prometheus`,
                `${PREFIX}-proxy`,
                `${PREFIX}-redis`,
                `${PREFIX}-maintenance`,
                `${PREFIX}-registry-gc`,
            ].sort(),
        );
        expect(Object.entries(result.plans).filter(([, p]) => p.action !== "same")).toEqual([]);
    });

    it("pushes a multi-layer image through the proxy to the replicas and pulls it back", () => {
        // 12 MiB crosses the 5 MiB chunk size: the driver's multipart upload is used.
        pushedDigest = client.push(buildImageTar(work, PREFIX, [12 << 20, 256 << 10, 256 << 10]), "team/app:v1");
        expect(client.pull("team/app:v1", 3)).toBe(pushedDigest);
    });

    it("completes a chunked upload whose requests alternate between the replicas", async () => {
        // POST, sixteen PATCHes and a PUT, one after another through the proxy: each nginx worker
        // round-robins over the replicas' addresses, so the session's requests spread over both.
        const CHUNKS = 16;
        const blob = crypto.randomBytes(CHUNKS * 256 * 1024);
        const digest = `sha256:${crypto.createHash("sha256").update(blob).digest("hex")}`;
        let location = (await request("POST", "/v2/team/chunked/blobs/uploads/")).headers.location as string;
        const chunk = blob.length / CHUNKS;
        for (let i = 0; i < CHUNKS; i++) {
            const body = blob.subarray(i * chunk, (i + 1) * chunk);
            const res = await request("PATCH", location, body, {
                "Content-Type": "application/octet-stream",
                "Content-Range": `${i * chunk}-${(i + 1) * chunk - 1}`,
            });
            expect(res.status).toBe(202);
            location = res.headers.location as string;
        }
        const put = await request("PUT", `${location}${location.includes("?") ? "&" : "?"}digest=${digest}`);
        expect(put.status).toBe(201);
        const get = await request("GET", `/v2/team/chunked/blobs/${digest}`);
        expect(get.status).toBe(200);
        expect(`sha256:${crypto.createHash("sha256").update(get.body).digest("hex")}`).toBe(digest);

        const session = new URL(location, "https://x").pathname.split("/").pop()!;
        const served = REPLICAS.map((r) => requests(r).filter((q) => q.uri.includes(session)).length);
        console.log(`upload ${session}: ${served[0]} requests on replica 0, ${served[1]} on replica 1`);
        expect(served[0]).toBeGreaterThan(0);
        expect(served[1]).toBeGreaterThan(0);
        expect(served[0] + served[1]).toBe(CHUNKS + 1);
    });

    it("stores the objects under the configured root directory in the bucket", () => {
        const keys = [...bucketObjects().keys()];
        expect(keys.length).toBeGreaterThan(5);
        expect(keys.every((k) => k.startsWith("team-registry/docker/registry/v2/"))).toBe(true);
        const manifest = JSON.parse(getFromReplica(REPLICAS[0], "/v2/team/app/manifests/v1").toString("utf8"));
        layers = manifest.layers.map((l: { digest: string }) => l.digest);
        for (const digest of layers) expect(keys).toContain(`team-registry/docker/registry/v2/blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}/data`);
    });

    it("serves the image from each replica directly", () => {
        for (const replica of REPLICAS) {
            const manifest = getFromReplica(replica, "/v2/team/app/manifests/v1");
            expect(`sha256:${crypto.createHash("sha256").update(manifest).digest("hex")}`).toBe(pushedDigest);
            for (const digest of layers) {
                const blob = getFromReplica(replica, `/v2/team/app/blobs/${digest}`);
                expect(`sha256:${crypto.createHash("sha256").update(blob).digest("hex")}`).toBe(digest);
            }
        }
    });

    it("has Prometheus scraping both replicas", async () => {
        const up = await eventually("both registry targets up", async () => {
            const body = (await (await fetch("http://127.0.0.1:49090/api/v1/targets")).json()) as { data: { activeTargets: any[] } };
            const instances = body.data.activeTargets.filter((t) => t.labels.job === "registry" && t.health === "up").map((t) => t.labels.instance);
            return instances.length === 2 ? instances.sort() : undefined;
        });
        expect(up).toEqual(["registry-0:5001", "registry-1:5001"]);
    });

    it("retention and GC on S3 with two replicas: the deleted image leaves the bucket, the Redis cache forgets it, a re-push uploads it again", async () => {
        const oldTar = buildImageTar(work, PREFIX, [3 << 20, 128 << 10]);
        const oldDigest = client.push(oldTar, "gc/app:old");
        const newDigest = client.push(buildImageTar(work, PREFIX, [1 << 20]), "gc/app:new");
        // Pulls through both replicas put the old image's blob descriptors in Redis.
        for (let i = 0; i < 4; i++) expect(client.pull("gc/app:old")).toBe(oldDigest);
        const oldLayers = (JSON.parse(getFromReplica(REPLICAS[0], `/v2/gc/app/manifests/${oldDigest}`).toString()).layers as { digest: string }[]).map(
            (l) => l.digest,
        );
        const blobKey = (d: string) => `team-registry/docker/registry/v2/blobs/sha256/${d.slice(7, 9)}/${d.slice(7)}/data`;
        const before = bucketObjects();
        for (const d of oldLayers) expect(before.has(blobKey(d))).toBe(true);
        expect(
            Number(
                docker(
                    "exec",
                    `${PREFIX}-redis`,
                    "sh",
                    "-c",
                    'redis-cli -a "$(sed -n "s/^requirepass //p" /usr/local/etc/redis/redis.conf)" --no-auth-warning --scan --pattern "blobs::*" | wc -l',
                ),
            ),
        ).toBeGreaterThan(0);

        const out = run("docker", ["exec", `${PREFIX}-maintenance`, "node", "/opt/registry-kit/maintenance.mjs", "run"], {
            allowFail: true,
            timeoutMs: 300_000,
        });
        expect(out.code, out.stdout + out.stderr).toBe(0);
        const result = JSON.parse(out.stdout);
        expect(result).toMatchObject({ success: true, retention: { manifestsDeleted: 1 } });
        const after = bucketObjects();
        for (const d of oldLayers) expect(after.has(blobKey(d)), d).toBe(false);
        const sum = (m: Map<string, number>, pick: (k: string) => boolean) => [...m].filter(([k]) => pick(k)).reduce((a, [, v]) => a + v, 0);
        const isBlob = (k: string) => k.includes("/v2/blobs/");
        expect(result.gc.bytesFreed).toBe(sum(before, isBlob) - sum(after, isBlob));
        expect(result.gc.bytesFreed).toBeGreaterThan(3 << 20);
        expect(result.gc.cacheKeysDeleted).toBeGreaterThan(0);
        expect(client.pull("gc/app:new")).toBe(newDigest);

        // Pushed again: every layer is uploaded again (a stale cache would answer "exists") and pulls.
        expect(client.push(oldTar, "gc/app:again")).toBe(oldDigest);
        const again = bucketObjects();
        for (const d of oldLayers) expect(again.has(blobKey(d)), d).toBe(true);
        expect(client.pull("gc/app:again", 2)).toBe(oldDigest);
    }, 300_000);

    it("with registry.storage.s3.redirect, answers blob GETs through the proxy with a 307 to a presigned S3 URL that a client on the network follows", async () => {
        const redirected = render(stackFile({}, { redirect: true }), path.join(work, "render-redirect"), stateFile, "s3", ["registry"]);
        const config = fs.readFileSync(path.join(redirected.dir, "files", REPLICAS[0], "etc", "docker", "registry", "config.yml"), "utf8");
        expect(config).toMatch(/redirect:\n\s+disable: false/);
        const { replaced, plans } = await deploy(redirected, rendered);
        // Only what runs the registry's config: the proxy, its log and its allowlist stay as they are.
        expect(replaced.sort(), JSON.stringify(plans)).toEqual([...REPLICAS, ...REPLICAS.map((r) => `${r}-metrics-gate`), `${PREFIX}-registry-gc`].sort());
        await waitHealthy([...REPLICAS, ...REPLICAS.map((r) => `${r}-metrics-gate`)]);
        rendered = redirected;

        // Clients on the stack's network, where s3:9000 is reachable: node for one raw request at a time
        // (no redirect following), skopeo for a real pull. The proxy's name points at its address there.
        const network = `${PREFIX}-net`;
        const proxyIp = docker("inspect", "-f", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, `${PREFIX}-proxy`);
        for (const [name, image] of [
            [`${PREFIX}-node`, "registry-kit-test/node:22"],
            [`${PREFIX}-client`, "registry-kit-test/client:1"],
        ]) {
            startClientContainer({ name, network, image, proxyHost: HOST, proxyIp });
        }
        const caFile = path.join(work, "ca.crt");
        fs.writeFileSync(caFile, rendered.outputs.caCertificate);
        docker("exec", `${PREFIX}-client`, "mkdir", "-p", "/certs");
        docker("cp", caFile, `${PREFIX}-client:/certs/ca.crt`);
        docker("cp", caFile, `${PREFIX}-node:/ca.crt`);

        const script = `
const https = require("https"), http = require("http"), fs = require("fs"), crypto = require("crypto");
const auth = "Basic " + Buffer.from("admin:" + process.env.PW).toString("base64");
const get = (mod, url, headers) => new Promise((resolve, reject) => {
    mod.get(url, { headers, ca: fs.readFileSync("/ca.crt") }, (res) => {
        const chunks = []; res.on("data", (c) => chunks.push(c)); res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on("error", reject);
});
(async () => {
    const base = "https://${HOST}/v2/team/app";
    const m = await get(https, base + "/manifests/v1", { authorization: auth, accept: "application/vnd.docker.distribution.manifest.v2+json" });
    const out = [];
    for (const layer of JSON.parse(m.body).layers) {
        const r = await get(https, base + "/blobs/" + layer.digest, { authorization: auth });
        const s3 = await get(http, r.headers.location, {});
        out.push({ digest: layer.digest, status: r.status, location: r.headers.location, bodyBytes: r.body.length, s3Status: s3.status,
            s3Digest: "sha256:" + crypto.createHash("sha256").update(s3.body).digest("hex") });
    }
    const anon = await get(https, base + "/blobs/" + JSON.parse(m.body).layers[0].digest, {});
    console.log(JSON.stringify({ manifestStatus: m.status, layers: out, anonymousStatus: anon.status }));
})().catch((e) => { console.error(e); process.exit(1); });`;
        const raw = JSON.parse(docker("exec", "-e", `PW=${password}`, `${PREFIX}-node`, "node", "-e", script));
        expect(raw.manifestStatus).toBe(200);
        expect(raw.anonymousStatus).toBe(401);
        expect(raw.layers.map((l: { digest: string }) => l.digest)).toEqual(layers);
        for (const l of raw.layers) {
            expect(l.status, l.digest).toBe(307);
            const location = new URL(l.location);
            expect(location.host).toBe("s3:9000");
            expect(location.pathname).toBe(`/images/team-registry/docker/registry/v2/blobs/sha256/${l.digest.slice(7, 9)}/${l.digest.slice(7)}/data`);
            expect(location.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
            // Distribution 2.8's s3 driver presigns for 20 minutes.
            expect(location.searchParams.get("X-Amz-Expires")).toBe("1200");
            expect(l.bodyBytes).toBeLessThan(1024);
            expect(l.s3Status).toBe(200);
            expect(l.s3Digest).toBe(l.digest);
        }

        // A real pull through the proxy on the network: skopeo follows the redirects and checks every blob.
        const logLinesBefore = run("docker", ["logs", `${PREFIX}-proxy`]).stdout.split("\n").length;
        docker(
            "exec",
            `${PREFIX}-client`,
            "skopeo",
            "copy",
            "-q",
            "--src-cert-dir",
            "/certs",
            "--src-creds",
            `admin:${password}`,
            `docker://${HOST}/team/app:v1`,
            "dir:/tmp/pulled",
        );
        const sums = docker("exec", `${PREFIX}-client`, "sh", "-c", "cd /tmp/pulled && sha256sum *")
            .trim()
            .split("\n")
            .map((l) => l.split(/\s+/));
        const byName = new Map(sums.map(([sum, name]) => [name, `sha256:${sum}`]));
        expect(byName.get("manifest.json")).toBe(pushedDigest);
        for (const digest of layers) expect(byName.get(digest.slice(7))).toBe(digest);
        // The proxy saw each layer's GET and answered it with the registry's 307: the bytes came from S3.
        const access = run("docker", ["logs", `${PREFIX}-proxy`])
            .stdout.split("\n")
            .slice(logLinesBefore - 1)
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l));
        for (const digest of layers) {
            const hits = access.filter((e) => e.method === "GET" && e.uri === `/v2/team/app/blobs/${digest}`);
            expect(hits.length, digest).toBeGreaterThan(0);
            for (const e of hits) {
                expect(e.status).toBe(307);
                expect(e.bytes_sent).toBeLessThan(2048);
            }
        }
    }, 300_000);

    it("loses nothing when every registry container is replaced", async () => {
        const before = REPLICAS.map((r) => docker("inspect", "-f", "{{.Id}}", r));
        const changed = render(stackFile({ logLevel: "debug" }), path.join(work, "render-2"), stateFile, "s3", ["registry"]);
        const { replaced, plans } = await deploy(changed, rendered);
        // Each replica's metrics gate shares its network namespace: it is replaced with it. The GC worker
        // runs the registry's config.
        expect(replaced.sort(), JSON.stringify(plans)).toEqual([...REPLICAS, ...REPLICAS.map((r) => `${r}-metrics-gate`), `${PREFIX}-registry-gc`].sort());
        await waitHealthy([...REPLICAS, ...REPLICAS.map((r) => `${r}-metrics-gate`)]);
        expect(REPLICAS.map((r) => docker("inspect", "-f", "{{.Id}}", r))).not.toEqual(before);
        expect(client.pull("team/app:v1", 3)).toBe(pushedDigest);
        rendered = changed;
        destroy(rendered);
    });
});
