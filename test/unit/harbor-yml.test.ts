/**
 * harbor.yml against Harbor 2.15's installer template (../shared/reference/harbor/harbor.yml.tmpl, a
 * copy in test/fixtures): every key we write exists there with the same shape, and every key the
 * installer's prepare requires is present. Plus the Harbor rules we enforce before it would.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { HARBOR_STORAGE_DRIVERS, harborHostnameProblem, harborPasswordProblem } from "../../primitives/harbor";
import { HarborYmlInput, renderHarborYml, storageServiceBlock } from "../../renderers/harbor-yml";

const TEMPLATE = fs.readFileSync(path.join(__dirname, "..", "fixtures", "harbor-2.15.yml.tmpl"), "utf8");

/**
 * The template's keys, commented-out blocks included: a comment line whose text (after one `#`) is
 * `key:` or `key: value` with a lower-case key is a key the installer documents (e.g. `metric:`).
 */
export function templateTree(text: string): unknown {
    const lines = text.split("\n").map((line) => {
        const m = /^(\s*)#\s?(\s*)([a-z_][A-Za-z0-9_]*:(\s.*)?)$/.exec(line);
        const nested = /^(\s*)#\s*#\s?(\s*)([a-z_][A-Za-z0-9_]*:(\s.*)?)$/.exec(line);
        if (nested) return `${nested[1]}${nested[2]}${nested[3]}`.replace(/\s+#.*$/, "");
        if (m) return `${m[1]}${m[2]}${m[3]}`.replace(/\s+#.*$/, "");
        return /^\s*#/.test(line) ? "" : line;
    });
    return parse(lines.join("\n"), { uniqueKeys: false });
}

/** Dotted paths of the leaves of a parsed YAML map (a list is a leaf). */
function leafPaths(tree: unknown, at: string[] = []): string[] {
    if (tree === null || typeof tree !== "object" || Array.isArray(tree)) return [at.join(".")];
    return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) => leafPaths(v, [...at, k]));
}
const hasPath = (tree: unknown, p: string) => {
    const keys = p.split(".");
    const parent = keys.slice(0, -1).reduce((cur: any, k) => cur?.[k], tree);
    return parent !== null && typeof parent === "object" && keys[keys.length - 1] in parent;
};

type Shape = "map" | "list" | "scalar" | "empty";
const shape = (v: unknown): Shape => (v === null || v === undefined ? "empty" : Array.isArray(v) ? "list" : typeof v === "object" ? "map" : "scalar");

/** Paths of `ours` missing from `template` or of another shape (an empty template value takes anything but a map). */
function mismatches(ours: unknown, template: unknown, at: string[] = []): string[] {
    const out: string[] = [];
    if (shape(ours) !== "map") return out;
    for (const [key, value] of Object.entries(ours as Record<string, unknown>)) {
        const p = [...at, key];
        const t = (template as Record<string, unknown> | null)?.[key];
        if (template === null || typeof template !== "object" || !(key in (template as object))) {
            out.push(`${p.join(".")}: not in the template`);
            continue;
        }
        const [a, b] = [shape(value), shape(t)];
        if (a !== b && !(b === "empty" && a !== "map")) out.push(`${p.join(".")}: ${a} here, ${b} in the template`);
        else if (a === "map") out.push(...mismatches(value, t, p));
    }
    return out;
}

export const input: HarborYmlInput = {
    version: "v2.15.1",
    hostname: "harbor.example.com",
    httpPort: 80,
    https: { port: 443, certificatePath: "/opt/rk/tls/server.crt", privateKeyPath: "/opt/rk/tls/server.key", strongSslCiphers: false },
    adminPassword: "Adm1n&<>\"'#: {x}",
    databasePassword: "db&<>\"'pass: #1",
    dataVolume: "/data",
    trivy: { ignoreUnfixed: false, skipUpdate: false, skipJavaDbUpdate: false, offlineScan: false, insecure: false, timeout: "5m0s" },
    jobservice: { maxJobWorkers: 10, maxJobDurationHours: 24, loggerSweeperDays: 1 },
    log: { level: "info", rotateCount: 50, rotateSize: "200M", location: "/var/log/harbor" },
    proxy: { httpProxy: "http://proxy.internal:3128", components: ["core", "jobservice", "trivy"] },
    metric: { enabled: true, port: 9090, path: "/metrics" },
    uploadPurging: { enabled: true, age: "168h", interval: "24h", dryrun: false },
};

describe("harbor.yml against the installer's template", () => {
    const template = templateTree(TEMPLATE) as Record<string, any>;

    it("reads the template, commented blocks included", () => {
        expect(template.hostname).toBe("reg.mydomain.com");
        expect(template.metric).toEqual({ enabled: false, port: 9090, path: "/metrics" });
        expect(Object.keys(template.storage_service)).toEqual(expect.arrayContaining(["ca_bundle", "filesystem", "redirect"]));
        expect(template._version).toBe("2.15.0");
    });

    it("writes only keys the template has, with the same shape", () => {
        const ours = parse(renderHarborYml(input));
        expect(mismatches(ours, template)).toEqual([]);
    });

    it("has every key the installer's template sets (uncommented), but for deliberate omissions", () => {
        // The installer's own harbor.yml is its template with the uncommented keys: prepare reads them,
        // some without a default (make/photon/prepare/utils/configs.py: configs[...], a KeyError without them).
        const required = leafPaths(parse(TEMPLATE));
        // Keys of the template registry-kit deliberately does not write, each with its reason. None today:
        // add one here, with why, rather than dropping it from the template silently.
        const deliberateOmissions: string[] = [];
        expect(required.length).toBeGreaterThan(40);
        expect(required).toEqual(expect.arrayContaining(["hostname", "database.password", "trivy.db_repository", "jobservice.job_loggers"]));
        expect(required).not.toContain("metric.enabled");
        const ours = parse(renderHarborYml(input));
        const missing = required.filter((p) => !deliberateOmissions.includes(p) && !hasPath(ours, p));
        expect(missing).toEqual([]);
        // The metric block is commented out in the template, and we always write it: prepare reads it when present.
        for (const p of ["metric.enabled", "metric.port", "metric.path"]) expect(hasPath(ours, p), p).toBe(true);
        expect(ours._version).toBe("2.15.0");
        expect(ours.database.password).toBe(input.databasePassword);
    });

    it("keeps passwords with YAML and HTML special characters exactly", () => {
        const ours = parse(renderHarborYml(input));
        expect(ours.harbor_admin_password).toBe("Adm1n&<>\"'#: {x}");
        expect(ours.proxy).toEqual({
            http_proxy: "http://proxy.internal:3128",
            https_proxy: null,
            no_proxy: null,
            components: ["core", "jobservice", "trivy"],
        });
    });

    it("writes s3 as a storage_service driver the installer knows, filesystem as nothing (data_volume)", () => {
        expect(storageServiceBlock(undefined)).toBe("");
        const ours = parse(
            renderHarborYml({
                ...input,
                s3: {
                    bucket: "b",
                    region: "eu-west-1",
                    regionEndpoint: "https://minio.internal:9000",
                    accessKey: "AK",
                    secretKey: "s&<\"'ecret",
                    chunkSize: 5242880,
                },
            }),
        );
        const drivers = Object.keys(ours.storage_service);
        expect(drivers).toEqual(["s3"]);
        // The template lists the drivers it supports in a comment: s3 is one.
        expect(TEMPLATE).toMatch(/options include filesystem, azure, gcs, s3, swift and oss/);
        expect(HARBOR_STORAGE_DRIVERS).toContain("s3");
        expect(ours.storage_service.s3).toEqual({
            region: "eu-west-1",
            bucket: "b",
            accesskey: "AK",
            secretkey: "s&<\"'ecret",
            regionendpoint: "https://minio.internal:9000",
            forcepathstyle: true,
            encrypt: true,
            secure: true,
            chunksize: 5242880,
            rootdirectory: "/registry",
        });
        // Everything but the driver's own parameters (Distribution's, passed through) is the template's.
        const { storage_service: _driver, ...rest } = ours;
        expect(mismatches({ ...rest, storage_service: {} }, template)).toEqual([]);
    });

    it("serves plain HTTP only without an https block", () => {
        const ours = parse(renderHarborYml({ ...input, https: undefined }));
        expect(ours.https).toBeUndefined();
        expect(ours.http.port).toBe(80);
    });
});

describe("what Harbor refuses", () => {
    it("hostnames: localhost and loopback (its prepare refuses 127.0.0.1), the template's placeholder", () => {
        for (const h of ["localhost", "harbor.localhost", "127.0.0.1", "127.1.2.3", "::1", "0.0.0.0", "reg.mydomain.com"]) {
            expect(harborHostnameProblem(h), h).toBeDefined();
        }
        for (const h of ["harbor.example.com", "10.0.0.5", "harbor"]) expect(harborHostnameProblem(h), h).toBeUndefined();
    });

    it("passwords: 8 to 128 characters with an uppercase, a lowercase letter and a digit", () => {
        expect(harborPasswordProblem("Harbor12345")).toBeUndefined();
        expect(harborPasswordProblem("short1A")).toMatch(/8 to 128 characters/);
        expect(harborPasswordProblem("alllowercase1")).toMatch(/an uppercase letter/);
        expect(harborPasswordProblem("ALLUPPERCASE1")).toMatch(/a lowercase letter/);
        expect(harborPasswordProblem("NoDigitsHere")).toMatch(/a digit/);
        expect(harborPasswordProblem("A1" + "a".repeat(127))).toMatch(/8 to 128/);
    });
});
