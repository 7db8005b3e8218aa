// registry-kit maintenance: retention and garbage collection for a Distribution registry.
//
// Runs in its own container (Node 18 or later, no packages). Each scheduled or requested run:
//   1. retention: lists the repositories the rules name, decides per tag (JSON log line each), and
//      deletes manifests by digest through the Registry API, as any client would;
//   2. garbage collection, in a read-only window: a flag file makes the TLS proxy refuse writes,
//      uploads in flight drain (the registries' own in-flight gauges), the GC worker container runs
//      `registry garbage-collect`, the blob-descriptor cache is cleared, the flag is removed.
// Results go to stdout as JSON lines and to /metrics (Prometheus text format).
//
// Usage: node maintenance.mjs daemon <config.json>   (the container's command)
//        node maintenance.mjs run [--dry-run]        (on demand: asks the daemon over loopback)
import { createHash, createHmac } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

export const MANIFEST_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];
const INDEX_TYPES = new Set(MANIFEST_TYPES.slice(0, 2));
/** Tags that sigstore/cosign and similar tools store next to an image: `sha256-<hex>.sig|.att|.sbom`. */
export const ATTACHED_TAG = /^sha256-([a-f0-9]{64})\.(sig|att|sbom)$/;
const CONTROL_PORT = 9401;

// ---------------------------------------------------------------------------------------------
// Schedule: five-field cron (minute hour day-of-month month day-of-week) in an IANA time zone.

const CRON_RANGES = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 7],
];

/** The values one cron field allows (numbers, `*`, ranges, steps and lists; 7 is Sunday as 0). */
export function cronFieldValues(field, index) {
    const [min, max] = CRON_RANGES[index];
    const values = new Set();
    for (const part of field.split(",")) {
        const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
        if (!m) throw new Error(`cron field ${JSON.stringify(field)} is not understood`);
        const from = m[1] === "*" ? min : Number(m[2]);
        const to = m[1] === "*" ? max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? max : from;
        const step = m[4] !== undefined ? Number(m[4]) : 1;
        if (from < min || to > max || from > to || step < 1) throw new Error(`cron field ${JSON.stringify(field)} is out of range`);
        for (let v = from; v <= to; v += step) values.add(index === 4 && v === 7 ? 0 : v);
    }
    return values;
}

/** The wall-clock fields of `date` in `timeZone`. */
const formatters = new Map();
export function zonedFields(date, timeZone) {
    if (!formatters.has(timeZone)) {
        formatters.set(
            timeZone,
            new Intl.DateTimeFormat("en-US", {
                timeZone,
                hourCycle: "h23",
                minute: "numeric",
                hour: "numeric",
                day: "numeric",
                month: "numeric",
                weekday: "short",
            }),
        );
    }
    const parts = formatters.get(timeZone).formatToParts(date);
    const get = (type) => parts.find((p) => p.type === type).value;
    const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"));
    return { minute: Number(get("minute")), hour: Number(get("hour")), day: Number(get("day")), month: Number(get("month")), weekday };
}

const parsedCron = new Map();
function parseCron(expression) {
    if (!parsedCron.has(expression)) {
        const fields = expression.trim().split(/\s+/);
        if (fields.length !== 5) throw new Error(`cron expression ${JSON.stringify(expression)} needs 5 fields`);
        parsedCron.set(expression, { fields, sets: fields.map((f, i) => cronFieldValues(f, i)) });
    }
    return parsedCron.get(expression);
}

/** Whether the minute that contains `date` is one the schedule names (Vixie cron's day rule: day-of-month OR day-of-week when both are restricted). */
export function cronMatches(expression, date, timeZone) {
    const { fields, sets } = parseCron(expression);
    const t = zonedFields(date, timeZone);
    if (!sets[0].has(t.minute) || !sets[1].has(t.hour) || !sets[3].has(t.month)) return false;
    const domRestricted = fields[2] !== "*";
    const dowRestricted = fields[4] !== "*";
    const dom = sets[2].has(t.day);
    const dow = sets[4].has(t.weekday);
    if (domRestricted && dowRestricted) return dom || dow;
    return dom && dow;
}

// ---------------------------------------------------------------------------------------------
// Retention: which tags of one repository stay, which go, and why.

/**
 * The plan for one repository.
 * `tags`: [{ tag, digest, mediaType, pushed (ms since epoch), children: [digest] }].
 * `rules`: the configured rules whose repository pattern matches this repository
 *   ({ name, tags: regex source, keep: { mostRecent } | { pushedWithinSeconds } | { all: true }, allowDeletingAllTags }).
 * Returns { decisions: [{ tag, digest, action: keep|delete|untag, reason }], deleteManifests: [{ digest, reason }], refused }.
 * Semantics (as Harbor's and Zot's): a tag stays if any rule keeps it; every other tag goes.
 */
export function planRepository(tags, rules, now) {
    const attached = [];
    const plain = [];
    for (const t of tags) (ATTACHED_TAG.test(t.tag) ? attached : plain).push(t);

    const keptBy = new Map();
    for (const rule of rules) {
        const pattern = new RegExp(rule.tags);
        const candidates = plain.filter((t) => pattern.test(t.tag)).sort((a, b) => b.pushed - a.pushed || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0));
        let kept;
        if ("mostRecent" in rule.keep) kept = candidates.slice(0, rule.keep.mostRecent);
        else if ("pushedWithinSeconds" in rule.keep) kept = candidates.filter((t) => now - t.pushed <= rule.keep.pushedWithinSeconds * 1000);
        else kept = candidates;
        for (const t of kept) if (!keptBy.has(t.tag)) keptBy.set(t.tag, rule.name);
    }

    const decisions = [];
    const keptDigests = new Set();
    const byDigest = new Map();
    for (const t of [...plain, ...attached]) byDigest.set(t.digest, t);
    const keepDigest = (digest) => {
        if (keptDigests.has(digest)) return;
        keptDigests.add(digest);
        for (const child of byDigest.get(digest)?.children ?? []) keepDigest(child);
    };
    for (const t of plain) if (keptBy.has(t.tag)) keepDigest(t.digest);

    const doomed = plain.filter((t) => !keptBy.has(t.tag));
    if (plain.length > 0 && keptBy.size === 0 && !rules.some((r) => r.allowDeletingAllTags)) {
        return {
            decisions: plain.map((t) => ({
                tag: t.tag,
                digest: t.digest,
                action: "keep",
                reason: "refused: the rules would delete every tag (set allowDeletingAllTags)",
            })),
            deleteManifests: [],
            refused: true,
        };
    }

    // Signatures and attestations of kept images (and of their children) stay with them.
    for (const t of attached) {
        const subject = `sha256:${ATTACHED_TAG.exec(t.tag)[1]}`;
        if (keptDigests.has(subject)) keepDigest(t.digest);
    }

    const deleteManifests = [];
    const deleting = new Set();
    const deleteDigest = (digest, reason) => {
        if (keptDigests.has(digest) || deleting.has(digest)) return;
        deleting.add(digest);
        deleteManifests.push({ digest, reason });
    };
    for (const t of plain) {
        if (keptBy.has(t.tag)) {
            decisions.push({ tag: t.tag, digest: t.digest, action: "keep", reason: `kept by rule ${keptBy.get(t.tag)}` });
        } else if (keptDigests.has(t.digest)) {
            decisions.push({ tag: t.tag, digest: t.digest, action: "untag", reason: "no rule keeps it; its manifest is also a kept image" });
        } else {
            decisions.push({ tag: t.tag, digest: t.digest, action: "delete", reason: "no rule keeps it" });
        }
    }
    for (const t of doomed) {
        if (keptDigests.has(t.digest)) continue;
        deleteDigest(t.digest, `tag ${t.tag}`);
        for (const child of byDigest.get(t.digest)?.children ?? []) deleteDigest(child, `child of ${t.digest}`);
    }
    for (const t of attached) {
        const subject = `sha256:${ATTACHED_TAG.exec(t.tag)[1]}`;
        if (keptDigests.has(t.digest)) decisions.push({ tag: t.tag, digest: t.digest, action: "keep", reason: `attached to kept ${subject}` });
        else if (deleting.has(subject)) {
            decisions.push({ tag: t.tag, digest: t.digest, action: "delete", reason: `attached to deleted ${subject}` });
            deleteDigest(t.digest, `tag ${t.tag}`);
        } else decisions.push({ tag: t.tag, digest: t.digest, action: "keep", reason: `attached to ${subject}, which this run does not delete` });
    }
    return { decisions, deleteManifests, refused: false };
}

// ---------------------------------------------------------------------------------------------
// Registry API client.

export class RegistryApi {
    constructor(url, user, password) {
        this.url = url.replace(/\/$/, "");
        this.auth = user ? "Basic " + Buffer.from(`${user}:${password}`).toString("base64") : undefined;
    }
    async request(method, pathAndQuery, headers = {}) {
        const res = await fetch(this.url + pathAndQuery, {
            method,
            headers: { ...(this.auth ? { Authorization: this.auth } : {}), ...headers },
            signal: AbortSignal.timeout(60_000),
        });
        const body = method === "HEAD" ? "" : await res.text();
        return { status: res.status, headers: res.headers, body };
    }
    async paged(first, key) {
        const out = [];
        let next = first;
        while (next) {
            const r = await this.request("GET", next);
            if (r.status === 404 && key === "tags") return out;
            if (r.status !== 200) throw new Error(`GET ${next}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
            out.push(...(JSON.parse(r.body)[key] ?? []));
            const link = r.headers.get("link");
            const m = link && /<([^>]+)>/.exec(link);
            next = m ? new URL(m[1], this.url + "/").pathname + new URL(m[1], this.url + "/").search : undefined;
        }
        return out;
    }
    repositories() {
        return this.paged("/v2/_catalog?n=1000", "repositories");
    }
    tags(repo) {
        return this.paged(`/v2/${repo}/tags/list?n=1000`, "tags");
    }
    async manifest(repo, reference) {
        const r = await this.request("GET", `/v2/${repo}/manifests/${reference}`, { Accept: MANIFEST_TYPES.join(", ") });
        if (r.status !== 200) throw new Error(`GET manifest ${repo}:${reference}: HTTP ${r.status}`);
        const digest = r.headers.get("docker-content-digest") ?? `sha256:${createHash("sha256").update(r.body).digest("hex")}`;
        const doc = JSON.parse(r.body);
        const mediaType = doc.mediaType ?? r.headers.get("content-type");
        const children = INDEX_TYPES.has(mediaType) ? (doc.manifests ?? []).map((m) => m.digest) : [];
        return { digest, mediaType, children };
    }
    async deleteManifest(repo, reference) {
        const r = await this.request("DELETE", `/v2/${repo}/manifests/${reference}`);
        return r.status;
    }
}

// ---------------------------------------------------------------------------------------------
// Storage: push times (when the tag's link was last written) and bytes of blobs, read-only.

/** AWS Signature Version 4 for one S3 GET (no body). */
export function signS3Get(url, { accessKey, secretKey, region }, date = new Date()) {
    const u = new URL(url);
    const amzDate = date
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");
    const day = amzDate.slice(0, 8);
    const payloadHash = createHash("sha256").update("").digest("hex");
    const query = [...u.searchParams.entries()]
        .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1))
        .map(([k, v]) => `${k}=${v}`)
        .join("&");
    const canonicalPath = u.pathname
        .split("/")
        .map((s) => encodeRfc3986(decodeURIComponent(s)))
        .join("/");
    const headers = { host: u.host, "x-amz-content-sha256": payloadHash, "x-amz-date": amzDate };
    const signed = Object.keys(headers).sort();
    const canonicalHeaders = signed.map((h) => `${h}:${headers[h]}\n`).join("");
    const canonical = ["GET", canonicalPath, query, canonicalHeaders, signed.join(";"), payloadHash].join("\n");
    const scope = `${day}/${region}/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
    let key = createHmac("sha256", `AWS4${secretKey}`).update(day).digest();
    for (const part of [region, "s3", "aws4_request"]) key = createHmac("sha256", key).update(part).digest();
    const signature = createHmac("sha256", key).update(toSign).digest("hex");
    return {
        "x-amz-content-sha256": payloadHash,
        "x-amz-date": amzDate,
        Authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
    };
}

function encodeRfc3986(s) {
    return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The registry's storage as this job reads it: a read-only mount of the volume, or the S3 bucket. */
export class StorageReader {
    constructor(storage, credentials) {
        this.storage = storage;
        this.credentials = credentials;
        const root = storage.kind === "filesystem" ? storage.root : (storage.rootDirectory ?? "/").replace(/^\/+|\/+$/g, "");
        this.base = storage.kind === "filesystem" ? path.join(root, "docker/registry/v2") : (root ? `${root}/` : "") + "docker/registry/v2";
    }
    /** Objects under `prefix` (relative to docker/registry/v2): [{ key, size, modified (ms) }]. */
    async list(prefix) {
        if (this.storage.kind === "filesystem") {
            const out = [];
            const walk = (dir) => {
                let entries;
                try {
                    entries = fs.readdirSync(dir, { withFileTypes: true });
                } catch (e) {
                    if (e.code === "ENOENT") return;
                    throw e;
                }
                for (const e of entries) {
                    const p = path.join(dir, e.name);
                    if (e.isDirectory()) walk(p);
                    else if (e.isFile()) {
                        const st = fs.statSync(p);
                        out.push({ key: path.relative(this.base, p), size: st.size, modified: st.mtimeMs });
                    }
                }
            };
            walk(path.join(this.base, prefix));
            return out;
        }
        const { bucket, endpoint, region, forcePathStyle } = this.storage;
        const origin = endpoint ? endpoint.replace(/\/$/, "") : `https://s3.${region}.amazonaws.com`;
        const out = [];
        let token;
        do {
            const host = new URL(origin);
            const base = forcePathStyle ? `${origin}/${bucket}` : `${host.protocol}//${bucket}.${host.host}`;
            const url = new URL(base + "/");
            url.searchParams.set("list-type", "2");
            url.searchParams.set("prefix", `${this.base}/${prefix}`);
            if (token) url.searchParams.set("continuation-token", token);
            const res = await fetch(url, { headers: signS3Get(url.toString(), { ...this.credentials, region }), signal: AbortSignal.timeout(60_000) });
            const xml = await res.text();
            if (res.status !== 200) throw new Error(`S3 list ${prefix}: HTTP ${res.status} ${xml.slice(0, 300)}`);
            for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
                const field = (name) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(m[1])?.[1];
                out.push({
                    key: decodeXml(field("Key")).slice(this.base.length + 1),
                    size: Number(field("Size")),
                    modified: Date.parse(field("LastModified")),
                });
            }
            token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? decodeXml(/<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? "") : undefined;
        } while (token);
        return out;
    }
    /** When each tag of `repo` was last pushed (its link's modification time). */
    async pushTimes(repo) {
        const prefix = `repositories/${repo}/_manifests/tags/`;
        const times = new Map();
        for (const o of await this.list(prefix)) {
            const m = /\/_manifests\/tags\/([^/]+)\/current\/link$/.exec(o.key);
            if (m) times.set(m[1], o.modified);
        }
        return times;
    }
    /** Bytes of all blobs. */
    async blobBytes() {
        return (await this.list("blobs/")).reduce((sum, o) => sum + o.size, 0);
    }
}

function decodeXml(s) {
    return s
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&");
}

// ---------------------------------------------------------------------------------------------
// Redis: the registry's blob-descriptor cache keys, deleted after GC (never FLUSHDB: the Redis may be shared).

/** Minimal RESP client: sends commands, reads replies. */
class Resp {
    constructor(address) {
        const i = address.lastIndexOf(":");
        this.host = address.slice(0, i).replace(/^\[|\]$/g, "");
        this.port = Number(address.slice(i + 1));
        this.buffer = Buffer.alloc(0);
        this.waiting = [];
    }
    connect() {
        return new Promise((resolve, reject) => {
            this.socket = net.connect({ host: this.host, port: this.port }, resolve);
            this.socket.setTimeout(30_000, () => this.socket.destroy(new Error("redis timeout")));
            this.socket.on("error", (e) => {
                reject(e);
                for (const w of this.waiting.splice(0)) w.reject(e);
            });
            this.socket.on("data", (d) => {
                this.buffer = Buffer.concat([this.buffer, d]);
                this.drain();
            });
        });
    }
    drain() {
        while (this.waiting.length > 0) {
            const parsed = parseResp(this.buffer, 0);
            if (!parsed) return;
            this.buffer = this.buffer.subarray(parsed.end);
            const w = this.waiting.shift();
            if (parsed.value instanceof Error) w.reject(parsed.value);
            else w.resolve(parsed.value);
        }
    }
    command(...args) {
        const parts = [`*${args.length}\r\n`, ...args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`)];
        return new Promise((resolve, reject) => {
            this.waiting.push({ resolve, reject });
            this.socket.write(parts.join(""));
        });
    }
    close() {
        this.socket?.end();
    }
}

export function parseResp(buf, at) {
    const lineEnd = buf.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const type = String.fromCharCode(buf[at]);
    const line = buf.toString("utf8", at + 1, lineEnd);
    if (type === "+") return { value: line, end: lineEnd + 2 };
    if (type === "-") return { value: new Error(line), end: lineEnd + 2 };
    if (type === ":") return { value: Number(line), end: lineEnd + 2 };
    if (type === "$") {
        const n = Number(line);
        if (n < 0) return { value: null, end: lineEnd + 2 };
        if (buf.length < lineEnd + 2 + n + 2) return undefined;
        return { value: buf.toString("utf8", lineEnd + 2, lineEnd + 2 + n), end: lineEnd + 2 + n + 2 };
    }
    if (type === "*") {
        const n = Number(line);
        const items = [];
        let end = lineEnd + 2;
        for (let i = 0; i < n; i++) {
            const item = parseResp(buf, end);
            if (!item) return undefined;
            items.push(item.value);
            end = item.end;
        }
        return { value: items, end };
    }
    throw new Error(`unexpected Redis reply ${JSON.stringify(line)}`);
}

/** Deletes the registry's cache keys (`blobs::*`, `repository::*`) from the Redis at `address`; returns how many. */
export async function clearRedisCache(address, password, db = 0) {
    const redis = new Resp(address);
    await redis.connect();
    try {
        if (password) await redis.command("AUTH", password);
        if (db) await redis.command("SELECT", db);
        // The cache has no expiry: without allkeys-lru a full Redis refuses the registry's writes.
        try {
            const [, policy] = await redis.command("CONFIG", "GET", "maxmemory-policy");
            if (policy && policy !== "allkeys-lru")
                log("gc.cache.warning", { maxmemoryPolicy: policy, advice: "run the registry's Redis with maxmemory-policy allkeys-lru" });
        } catch {
            // CONFIG is often disabled on managed Redis: nothing to check.
        }
        let deleted = 0;
        for (const match of ["blobs::*", "repository::*"]) {
            let cursor = "0";
            do {
                const [next, keys] = await redis.command("SCAN", cursor, "MATCH", match, "COUNT", 1000);
                cursor = next;
                if (keys.length > 0) deleted += await redis.command("DEL", ...keys);
            } while (cursor !== "0");
        }
        return deleted;
    } finally {
        redis.close();
    }
}

// ---------------------------------------------------------------------------------------------
// Garbage collection's result, as `registry garbage-collect` prints it.

/** `N blobs marked, M blobs and K manifests eligible for deletion`; undefined when absent. */
export function parseGcSummary(output) {
    const m = /(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion/.exec(output);
    return m ? { blobsMarked: Number(m[1]), blobsEligible: Number(m[2]), manifestsEligible: Number(m[3]) } : undefined;
}

/** Sum of `registry_http_in_flight_requests` for the upload handlers in a /metrics text. */
export function uploadsInFlight(metricsText) {
    let sum = 0;
    for (const m of metricsText.matchAll(/^registry_http_in_flight_requests\{handler="(blob_upload|blob_upload_chunk)"\} ([0-9.e+]+)$/gm)) sum += Number(m[2]);
    return sum;
}

// ---------------------------------------------------------------------------------------------
// The job.

const log = (event, fields = {}) =>
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), component: "registry-kit-maintenance", event, ...fields }) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Maintenance {
    constructor(config, env = process.env) {
        this.config = config;
        this.api = new RegistryApi(config.registry.url, env.REGISTRY_KIT_REGISTRY_USER, env.REGISTRY_KIT_REGISTRY_PASSWORD);
        this.storage = new StorageReader(config.storage, { accessKey: env.REGISTRY_KIT_S3_ACCESS_KEY, secretKey: env.REGISTRY_KIT_S3_SECRET_KEY });
        this.redisPassword = env.REGISTRY_KIT_REDIS_PASSWORD;
        this.running = undefined;
        this.metrics = {
            runs_total: { success: 0, failure: 0 },
            last_run_timestamp_seconds: 0,
            last_success_timestamp_seconds: 0,
            last_run_success: 1,
            last_run_duration_seconds: 0,
            last_run_dry_run: 0,
            retention_manifests_deleted: 0,
            retention_tags_deleted: 0,
            retention_errors: 0,
            gc_blobs_deleted: 0,
            gc_manifests_deleted: 0,
            gc_bytes_freed: 0,
            gc_duration_seconds: 0,
            readonly: 0,
            next_run_timestamp_seconds: 0,
            success_due_timestamp_seconds: 0,
            backup_last_success_timestamp_seconds: 0,
            sync_images_copied: 0,
            sync_images_skipped: 0,
            sync_failures: 0,
            started_timestamp_seconds: Math.floor(Date.now() / 1000),
        };
        // The last success survives restarts of this container (it is kept on the control volume).
        this.stateFile = path.join(config.controlDir, "last-success");
        try {
            this.metrics.last_success_timestamp_seconds = Number(fs.readFileSync(this.stateFile, "utf8").trim()) || 0;
        } catch {
            // none yet
        }
    }

    /** A successful run is due by the first scheduled time after the last success (or after this job started). */
    updateDue(now = new Date()) {
        const m = this.metrics;
        m.next_run_timestamp_seconds = Math.floor((nextRun(this.config.schedule, this.config.timezone, now)?.getTime() ?? 0) / 1000);
        const since = Math.max(m.last_success_timestamp_seconds, m.started_timestamp_seconds);
        m.success_due_timestamp_seconds = Math.floor((nextRun(this.config.schedule, this.config.timezone, new Date(since * 1000))?.getTime() ?? 0) / 1000);
    }

    /** One run; concurrent requests wait for the run in progress instead of starting another. */
    run(dryRun, trigger) {
        if (!this.running) this.running = this.runOnce(dryRun, trigger).finally(() => (this.running = undefined));
        return this.running;
    }

    async runOnce(dryRun, trigger) {
        const started = Date.now();
        const result = { dryRun, trigger, retention: { manifestsDeleted: 0, tagsDeleted: 0, errors: [] }, gc: undefined, errors: [] };
        log("run.start", { dryRun, trigger });
        try {
            if ((this.config.replication ?? []).length > 0) result.replication = await this.replicate(dryRun);
            await this.retention(dryRun, result.retention);
            if (this.config.gc.enabled || this.config.backup?.enabled) result.gc = await this.garbageCollect(dryRun);
        } catch (e) {
            result.errors.push(String(e.message ?? e));
        }
        const failed = result.errors.length > 0 || result.retention.errors.length > 0;
        const m = this.metrics;
        m.runs_total[failed ? "failure" : "success"]++;
        m.last_run_timestamp_seconds = Math.floor(started / 1000);
        if (!failed && !dryRun) {
            m.last_success_timestamp_seconds = Math.floor(Date.now() / 1000);
            fs.writeFileSync(this.stateFile, `${m.last_success_timestamp_seconds}\n`);
        }
        this.updateDue();
        m.last_run_success = failed ? 0 : 1;
        m.last_run_duration_seconds = (Date.now() - started) / 1000;
        m.last_run_dry_run = dryRun ? 1 : 0;
        m.retention_manifests_deleted = result.retention.manifestsDeleted;
        m.retention_tags_deleted = result.retention.tagsDeleted;
        m.retention_errors = result.retention.errors.length;
        if (result.gc) {
            m.gc_blobs_deleted = result.gc.blobsDeleted;
            m.gc_manifests_deleted = result.gc.manifestsDeleted;
            m.gc_bytes_freed = result.gc.bytesFreed;
            m.gc_duration_seconds = result.gc.durationSeconds;
        }
        result.durationSeconds = m.last_run_duration_seconds;
        result.success = !failed;
        log("run.end", result);
        return result;
    }

    async retention(dryRun, out) {
        const rules = this.config.retention.map((r) => ({ ...r, repositoryPattern: new RegExp(r.repositories) }));
        if (rules.length === 0) return;
        const repos = await this.api.repositories();
        for (const repo of repos) {
            const matching = rules.filter((r) => r.repositoryPattern.test(repo));
            if (matching.length === 0) continue;
            try {
                const names = await this.api.tags(repo);
                const pushed = await this.storage.pushTimes(repo);
                const tags = [];
                for (const tag of names) {
                    const m = await this.api.manifest(repo, tag);
                    tags.push({ tag, ...m, pushed: pushed.get(tag) ?? 0 });
                }
                const plan = planRepository(tags, matching, Date.now());
                for (const d of plan.decisions)
                    log("retention.tag", { repository: repo, ...d, pushed: new Date(tags.find((t) => t.tag === d.tag).pushed).toISOString(), dryRun });
                if (plan.refused) {
                    out.errors.push(`${repo}: the rules would delete every tag`);
                    log("retention.refused", { repository: repo, reason: "the rules would delete every tag; set allowDeletingAllTags on a rule to allow it" });
                    continue;
                }
                if (dryRun) continue;
                for (const d of plan.deleteManifests) {
                    const status = await this.api.deleteManifest(repo, d.digest);
                    if (status === 202 || status === 404) {
                        out.manifestsDeleted++;
                        log("retention.deleted", { repository: repo, digest: d.digest, reason: d.reason });
                    } else {
                        out.errors.push(`${repo}@${d.digest}: HTTP ${status}`);
                        log("retention.error", { repository: repo, digest: d.digest, status });
                    }
                }
                out.tagsDeleted += plan.decisions.filter((d) => d.action === "delete").length;
                for (const d of plan.decisions.filter((x) => x.action === "untag")) {
                    // Registry 3 deletes a tag alone; registry 2.8 cannot (the tag stays, and is logged).
                    const status = await this.api.deleteManifest(repo, d.tag);
                    if (status === 202) out.tagsDeleted++;
                    log("retention.untag", { repository: repo, tag: d.tag, status, kept: status !== 202 });
                }
            } catch (e) {
                out.errors.push(`${repo}: ${e.message}`);
                log("retention.error", { repository: repo, error: String(e.message ?? e) });
            }
        }
    }

    async uploadsInFlight() {
        let sum = 0;
        for (const target of this.config.metricsTargets) {
            const res = await fetch(`http://${target}/metrics`, { signal: AbortSignal.timeout(10_000) });
            if (res.status !== 200) throw new Error(`metrics of ${target}: HTTP ${res.status}`);
            sum += uploadsInFlight(await res.text());
        }
        return sum;
    }

    /**
     * Copies the configured repositories (pull: from another registry into this one; push: from this
     * one to another) with the sync worker; a dry run only logs the plan. Runs before retention and
     * outside the read-only window (a pull writes to the registry), never during garbage collection.
     */
    async replicate(dryRun) {
        const local = this.config.localRegistry;
        const lines = [];
        this.config.replication.forEach((r, i) => {
            for (const repo of r.repositories) {
                const remote = [r.registry, r.tlsVerify ? 1 : 0];
                const here = [local, 0];
                const [src, dest] = r.direction === "pull" ? [remote, here] : [here, remote];
                lines.push([i, src[0], src[1], repo.source, dest[0], dest[1], repo.destination, r.tags].join(" "));
            }
        });
        const result = { copied: 0, skipped: 0, failed: [] };
        if (dryRun) {
            log("sync.plan", { lines: lines.length, dryRun });
            return result;
        }
        const dir = path.join(this.config.controlDir, "sync");
        const id = `${Date.now()}-${process.pid}`;
        fs.mkdirSync(dir, { recursive: true });
        for (const f of fs.readdirSync(dir)) if (f !== "request") fs.rmSync(path.join(dir, f), { force: true });
        fs.writeFileSync(path.join(dir, `${id}.plan`), lines.join("\n") + "\n");
        fs.writeFileSync(path.join(dir, "request.tmp"), `${id}\n`);
        fs.renameSync(path.join(dir, "request.tmp"), path.join(dir, "request"));
        log("sync.start", { id, repositories: lines.length });
        const exitFile = path.join(dir, `${id}.exit`);
        const deadline = Date.now() + this.config.gc.timeoutSeconds * 1000;
        while (!fs.existsSync(exitFile)) {
            if (Date.now() > deadline) throw new Error(`the sync worker did not finish within ${this.config.gc.timeoutSeconds}s`);
            await sleep(500);
        }
        for (const line of fs.readFileSync(path.join(dir, `${id}.log`), "utf8").split("\n")) {
            const [word, ref, ...rest] = line.split(" ");
            if (word === "copied") result.copied++;
            else if (word === "skipped") result.skipped++;
            else if (word === "failed") result.failed.push(`${ref} ${rest.join(" ")}`.trim());
            if (word === "copied" || word === "failed") log(`sync.${word}`, { image: ref, ...(rest.length ? { error: rest.join(" ") } : {}) });
        }
        log("sync.end", { copied: result.copied, skipped: result.skipped, failed: result.failed.length });
        this.metrics.sync_images_copied = result.copied;
        this.metrics.sync_images_skipped = result.skipped;
        this.metrics.sync_failures = result.failed.length;
        if (result.failed.length > 0) throw new Error(`replication failed for ${result.failed.length} images: ${result.failed.slice(0, 3).join("; ")}`);
        return result;
    }

    /** Asks the storage worker for one step (`kind` gc or backup) and waits for it; returns its output. */
    async workerStep(kind, words, timeoutSeconds) {
        const dir = path.join(this.config.controlDir, kind);
        const id = `${Date.now()}-${process.pid}`;
        fs.mkdirSync(dir, { recursive: true });
        for (const f of fs.readdirSync(dir)) if (f !== "request") fs.rmSync(path.join(dir, f), { force: true });
        fs.writeFileSync(path.join(dir, "request.tmp"), `${id} ${words}\n`);
        fs.renameSync(path.join(dir, "request.tmp"), path.join(dir, "request"));
        log(`${kind}.start`, { id, words });
        const exitFile = path.join(dir, `${id}.exit`);
        const deadline = Date.now() + timeoutSeconds * 1000;
        while (!fs.existsSync(exitFile)) {
            if (Date.now() > deadline) throw new Error(`the storage worker did not finish ${kind} within ${timeoutSeconds}s`);
            await sleep(500);
        }
        const code = Number(fs.readFileSync(exitFile, "utf8").trim());
        const output = fs.readFileSync(path.join(dir, `${id}.log`), "utf8");
        return { code, output };
    }

    /** Runs `steps` with writes refused at the proxy, after uploads in flight have finished. */
    async readOnlyWindow(result, steps) {
        const gc = this.config.gc;
        const flag = path.join(this.config.controlDir, "readonly");
        fs.writeFileSync(flag, `${new Date().toISOString()}\n`);
        const windowStart = Date.now();
        this.metrics.readonly = 1;
        log("gc.readonly", { state: "on" });
        try {
            // Requests already past the proxy's check reach the registry within this settle time.
            await sleep(gc.settleSeconds * 1000);
            const deadline = Date.now() + gc.drainTimeoutSeconds * 1000;
            for (;;) {
                const inFlight = await this.uploadsInFlight();
                if (inFlight === 0) break;
                if (Date.now() > deadline)
                    throw new Error(`${inFlight} uploads still in flight after ${gc.drainTimeoutSeconds}s; garbage collection and backup skipped`);
                log("gc.drain", { uploadsInFlight: inFlight });
                await sleep(1000);
            }
            await steps();
        } finally {
            fs.rmSync(flag, { force: true });
            this.metrics.readonly = 0;
            result.readOnlySeconds = (Date.now() - windowStart) / 1000;
            log("gc.readonly", { state: "off", seconds: result.readOnlySeconds });
        }
    }

    async collect(dryRun, result) {
        const gc = this.config.gc;
        const flags = [dryRun ? "--dry-run" : "", gc.deleteUntagged ? "--delete-untagged" : ""].filter(Boolean).join(" ");
        const { code, output } = await this.workerStep("gc", flags, gc.timeoutSeconds);
        // An empty registry has no repositories directory yet: nothing to collect.
        const summary =
            parseGcSummary(output) ??
            (/Path not found: \S*\/repositories\b/.test(output) ? { blobsMarked: 0, blobsEligible: 0, manifestsEligible: 0 } : undefined);
        if ((code !== 0 && summary?.blobsMarked !== 0) || !summary)
            throw new Error(`registry garbage-collect exited ${code}: ${output.split("\n").slice(-5).join(" | ")}`);
        result.blobsDeleted = summary.blobsEligible;
        result.manifestsDeleted = summary.manifestsEligible;
        if (!dryRun && this.config.redis) {
            result.cacheKeysDeleted = await clearRedisCache(this.config.redis.address, this.redisPassword, this.config.redis.db ?? 0);
            log("gc.cache", { redisKeysDeleted: result.cacheKeysDeleted });
        }
    }

    async backupStep(phase) {
        const b = this.config.backup;
        const { code, output } = await this.workerStep("backup", `${phase} ${b.keep}`, this.config.gc.timeoutSeconds);
        if (code !== 0) throw new Error(`backup ${phase} exited ${code}: ${output.split("\n").slice(-5).join(" | ")}`);
        return output.trim().split("\n").pop();
    }

    /** Garbage collection and the backup's last step, in one read-only window; a dry run collects with --dry-run and backs nothing up. */
    async garbageCollect(dryRun) {
        const started = Date.now();
        const result = { blobsDeleted: 0, manifestsDeleted: 0, bytesFreed: 0, durationSeconds: 0, cacheKeysDeleted: 0, readOnlySeconds: 0, backup: undefined };
        const gcEnabled = this.config.gc.enabled;
        const backupEnabled = this.config.backup?.enabled && !dryRun;
        const bytesBefore = await this.storage.blobBytes();
        if (dryRun) {
            if (gcEnabled) await this.collect(true, result);
        } else {
            // Blobs never change: most of the copy happens before the window.
            if (backupEnabled) log("backup.prepare", { output: await this.backupStep("prepare") });
            await this.readOnlyWindow(result, async () => {
                if (gcEnabled) await this.collect(false, result);
                if (backupEnabled) {
                    result.backup = await this.backupStep("finish");
                    log("backup.end", { output: result.backup });
                    this.metrics.backup_last_success_timestamp_seconds = Math.floor(Date.now() / 1000);
                }
            });
        }
        result.bytesFreed = dryRun ? 0 : bytesBefore - (await this.storage.blobBytes());
        result.durationSeconds = (Date.now() - started) / 1000;
        return result;
    }

    metricsText() {
        const m = this.metrics;
        const lines = [];
        const gauge = (name, help, value, labels = "") => {
            lines.push(
                `# HELP registry_kit_maintenance_${name} ${help}`,
                `# TYPE registry_kit_maintenance_${name} gauge`,
                `registry_kit_maintenance_${name}${labels} ${value}`,
            );
        };
        lines.push("# HELP registry_kit_maintenance_runs_total Maintenance runs by result.", "# TYPE registry_kit_maintenance_runs_total counter");
        lines.push(
            `registry_kit_maintenance_runs_total{result="success"} ${m.runs_total.success}`,
            `registry_kit_maintenance_runs_total{result="failure"} ${m.runs_total.failure}`,
        );
        gauge("last_run_timestamp_seconds", "Start of the last run (0: none since the job started).", m.last_run_timestamp_seconds);
        gauge("last_success_timestamp_seconds", "End of the last successful run that was not a dry run (0: none yet).", m.last_success_timestamp_seconds);
        gauge("last_run_success", "1 if the last run succeeded (or none ran yet), else 0.", m.last_run_success);
        gauge("last_run_duration_seconds", "Duration of the last run.", m.last_run_duration_seconds);
        gauge("last_run_dry_run", "1 if the last run was a dry run.", m.last_run_dry_run);
        gauge("retention_manifests_deleted", "Manifests the last run's retention deleted.", m.retention_manifests_deleted);
        gauge("retention_tags_deleted", "Tags the last run's retention deleted.", m.retention_tags_deleted);
        gauge("retention_errors", "Repositories or manifests the last run's retention failed on.", m.retention_errors);
        gauge("gc_blobs_deleted", "Blobs the last garbage collection deleted.", m.gc_blobs_deleted);
        gauge("gc_manifests_deleted", "Manifests the last garbage collection deleted.", m.gc_manifests_deleted);
        gauge("gc_bytes_freed", "Bytes of blobs the last garbage collection freed on the storage.", m.gc_bytes_freed);
        gauge("gc_duration_seconds", "Duration of the last garbage collection, read-only window included.", m.gc_duration_seconds);
        gauge("readonly", "1 while writes are refused for garbage collection.", m.readonly);
        gauge(
            "backup_last_success_timestamp_seconds",
            "When the last backup snapshot was completed (0: none since the job started).",
            m.backup_last_success_timestamp_seconds,
        );
        gauge("next_run_timestamp_seconds", "When the next scheduled run starts.", m.next_run_timestamp_seconds);
        gauge(
            "success_due_timestamp_seconds",
            "When a successful run is due: the first scheduled time after the last success or the job's start.",
            m.success_due_timestamp_seconds,
        );
        gauge("started_timestamp_seconds", "When this job started.", m.started_timestamp_seconds);
        return lines.join("\n") + "\n";
    }
}

/** The minute after `from` when the schedule next fires (searches a year ahead). */
export function nextRun(expression, timeZone, from) {
    const t = new Date(Math.floor(from.getTime() / 60_000) * 60_000 + 60_000);
    for (let i = 0; i < 366 * 24 * 60; i++, t.setTime(t.getTime() + 60_000)) if (cronMatches(expression, t, timeZone)) return new Date(t);
    return undefined;
}

/** Resolves when the storage worker's latest requests (GC, backup) have finished (or there are none). */
async function gcIdle(controlDir) {
    for (const kind of ["gc", "backup"]) {
        for (;;) {
            let id;
            try {
                id = fs.readFileSync(path.join(controlDir, kind, "request"), "utf8").split(/\s+/)[0];
            } catch {
                break;
            }
            if (!id || fs.existsSync(path.join(controlDir, kind, `${id}.exit`))) break;
            await sleep(1000);
        }
    }
}

async function daemon(configPath) {
    const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
    const job = new Maintenance(config);
    // A flag left by a run that was stopped mid-window would refuse writes forever. This job is the
    // only one that sets it; it is removed once the GC worker has no collection in progress.
    const flag = path.join(config.controlDir, "readonly");
    const stopping = async (signal) => {
        if (fs.existsSync(flag)) {
            await gcIdle(config.controlDir);
            fs.rmSync(flag, { force: true });
            log("gc.readonly", { state: "off", reason: signal });
        }
        process.exit(0);
    };
    process.on("SIGTERM", () => stopping("stopped"));
    process.on("SIGINT", () => stopping("stopped"));
    if (fs.existsSync(flag)) {
        await gcIdle(config.controlDir);
        fs.rmSync(flag, { force: true });
        log("gc.readonly", { state: "off", reason: "left by a run that did not finish" });
    }
    http.createServer((req, res) => {
        if (req.method === "GET" && req.url === "/metrics") {
            res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
            res.end(job.metricsText());
        } else {
            res.writeHead(404);
            res.end();
        }
    }).listen(config.metricsPort, "0.0.0.0");
    // Runs on demand: loopback only, so only `docker exec` in this container can start one.
    http.createServer(async (req, res) => {
        const url = new URL(req.url, "http://localhost");
        if (req.method !== "POST" || url.pathname !== "/run") {
            res.writeHead(404);
            return res.end();
        }
        const result = await job.run(url.searchParams.get("dryRun") === "1" || config.dryRun, "on-demand");
        res.writeHead(result.success ? 200 : 500, { "Content-Type": "application/json" });
        res.end(JSON.stringify(result) + "\n");
    }).listen(CONTROL_PORT, "127.0.0.1");
    log("daemon.start", { schedule: config.schedule, timezone: config.timezone, dryRun: config.dryRun, rules: config.retention.length, gc: config.gc.enabled });
    // A run starts at the beginning of a minute the schedule names, never in the minute the job started.
    let last = new Date().toISOString().slice(0, 16);
    for (;;) {
        const now = new Date();
        const minute = now.toISOString().slice(0, 16);
        job.updateDue(now);
        if (minute !== last && cronMatches(config.schedule, now, config.timezone)) {
            last = minute;
            await job.run(config.dryRun, "schedule");
        }
        await sleep(60_000 - (Date.now() % 60_000) + 50);
    }
}

async function requestRun(dryRun) {
    const res = await fetch(`http://127.0.0.1:${CONTROL_PORT}/run${dryRun ? "?dryRun=1" : ""}`, { method: "POST" });
    process.stdout.write(await res.text());
    process.exitCode = res.status === 200 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
    const [command, arg] = process.argv.slice(2);
    if (command === "daemon") await daemon(arg);
    else if (command === "run") await requestRun(arg === "--dry-run");
    else {
        process.stderr.write("usage: maintenance.mjs daemon <config.json> | run [--dry-run]\n");
        process.exitCode = 2;
    }
}
