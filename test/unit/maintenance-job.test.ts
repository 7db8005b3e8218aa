/**
 * The maintenance job's pure parts (templates/maintenance.mjs): retention plans, the cron matcher
 * against cron-parser, the GC summary and in-flight gauges, SigV4 against AWS's published example.
 */
import { CronExpressionParser } from "cron-parser";
import { beforeAll, describe, expect, it } from "vitest";
import { globToRegex, retentionRules } from "../../renderers/maintenance-config";

// The job is plain JavaScript that runs in its container (no types): loaded as it is shipped.
const JOB_SCRIPT = "../../templates/maintenance.mjs";
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let job: any;
beforeAll(async () => {
    job = await import(JOB_SCRIPT);
});

const DAY = 86400_000;
const NOW = Date.parse("2026-12-01T12:00:00Z");
const d = (n: number) => `sha256:${String(n).padStart(64, "0")}`;
const tag = (name: string, digest: string, daysAgo: number, children: string[] = []) => ({
    tag: name,
    digest,
    mediaType: children.length ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json",
    pushed: NOW - daysAgo * DAY,
    children,
});
const rules = (...r: Parameters<typeof retentionRules>[0]) => retentionRules(r);

describe("retention plan", () => {
    it("keeps the N most recently pushed tags a rule matches and deletes the rest by digest", () => {
        const tags = [tag("c1", d(1), 5), tag("c2", d(2), 4), tag("c3", d(3), 3), tag("c4", d(4), 2), tag("v1.0", d(5), 10)];
        const plan = job.planRepository(
            tags,
            rules({ repositories: ["**"], tags: ["c*"], keepMostRecent: 2 }, { repositories: ["**"], tags: ["v*"], keepAll: true }),
            NOW,
        );
        const action = Object.fromEntries(plan.decisions.map((x: any) => [x.tag, x.action]));
        expect(action).toEqual({ c1: "delete", c2: "delete", c3: "keep", c4: "keep", "v1.0": "keep" });
        expect(plan.deleteManifests.map((m: any) => m.digest).sort()).toEqual([d(1), d(2)]);
    });

    it("keeps tags pushed within the age", () => {
        const tags = [tag("old", d(1), 40), tag("new", d(2), 10)];
        const plan = job.planRepository(tags, rules({ repositories: ["**"], keepPushedWithinSeconds: 30 * 86400 }), NOW);
        expect(plan.deleteManifests).toEqual([{ digest: d(1), reason: "tag old" }]);
    });

    it("deletes an index with its children, and keeps children a kept index shares", () => {
        const tags = [tag("old", d(10), 9, [d(11), d(12)]), tag("new", d(20), 1, [d(12), d(21)])];
        const plan = job.planRepository(tags, rules({ repositories: ["**"], keepMostRecent: 1 }), NOW);
        expect(plan.deleteManifests.map((m: any) => m.digest)).toEqual([d(10), d(11)]);
    });

    it("signatures and attestations live and die with their image and count for no rule", () => {
        const sig = (n: number, kind: string, digest: string) => tag(`sha256-${String(n).padStart(64, "0")}.${kind}`, digest, 0);
        const tags = [tag("a", d(1), 3), tag("b", d(2), 2), sig(1, "sig", d(91)), sig(2, "att", d(92)), sig(7, "sbom", d(97))];
        const plan = job.planRepository(tags, rules({ repositories: ["**"], keepMostRecent: 1 }), NOW);
        const action = Object.fromEntries(plan.decisions.map((x: any) => [x.tag, x.action]));
        expect(action["a"]).toBe("delete");
        expect(action[`sha256-${String(1).padStart(64, "0")}.sig`]).toBe("delete");
        expect(action[`sha256-${String(2).padStart(64, "0")}.att`]).toBe("keep");
        // Its subject is not an image this run deletes (pushed by digest, or elsewhere): left alone.
        expect(action[`sha256-${String(7).padStart(64, "0")}.sbom`]).toBe("keep");
        expect(plan.deleteManifests.map((m: any) => m.digest)).toEqual([d(1), d(91)]);
    });

    it("a tag whose manifest is also a kept tag's is untagged, never deleted by digest", () => {
        const tags = [tag("latest", d(1), 1), tag("build-7", d(1), 1), tag("build-6", d(2), 2)];
        const plan = job.planRepository(tags, rules({ repositories: ["**"], tags: ["latest"], keepAll: true }), NOW);
        const action = Object.fromEntries(plan.decisions.map((x: any) => [x.tag, x.action]));
        expect(action).toEqual({ latest: "keep", "build-7": "untag", "build-6": "delete" });
        expect(plan.deleteManifests.map((m: any) => m.digest)).toEqual([d(2)]);
    });

    it("refuses a plan that deletes every tag unless a rule allows it", () => {
        const tags = [tag("a", d(1), 1), tag("b", d(2), 2)];
        const refused = job.planRepository(tags, rules({ repositories: ["**"], tags: ["v*"], keepAll: true }), NOW);
        expect(refused.refused).toBe(true);
        expect(refused.deleteManifests).toEqual([]);
        const allowed = job.planRepository(tags, rules({ repositories: ["**"], keepMostRecent: 0, allowDeletingAllTags: true }), NOW);
        expect(allowed.deleteManifests).toHaveLength(2);
    });
});

describe("globs", () => {
    it("* stays in a segment, ** spans them, the rest is literal", () => {
        const re = (g: string) => new RegExp(`^(?:${globToRegex(g)})$`);
        expect(re("team/*").test("team/app")).toBe(true);
        expect(re("team/*").test("team/app/sub")).toBe(false);
        expect(re("team/**").test("team/app/sub")).toBe(true);
        expect(re("v1.*").test("v1x2")).toBe(false);
        expect(re("v1.*").test("v1.2")).toBe(true);
        expect(re("a+b").test("a+b")).toBe(true);
    });
});

describe("schedule", () => {
    const cases: [string, string][] = [
        ["0 3 * * 0", "Europe/Berlin"],
        ["*/15 1-5 * * *", "UTC"],
        ["30 2 1,15 * 1-5", "America/New_York"],
        ["0 0 1 */3 *", "Asia/Kolkata"],
        ["5 4 * * 7", "UTC"],
    ];
    it.each(cases)("%s in %s fires on the minutes cron-parser gives", (expression, tz) => {
        const from = new Date("2026-03-20T00:00:00Z");
        const expected = CronExpressionParser.parse(expression, { tz, currentDate: from });
        let at = from;
        for (let i = 0; i < 6; i++) {
            const next = job.nextRun(expression, tz, at);
            const want = expected.next().toDate();
            expect(next?.toISOString()).toBe(want.toISOString());
            at = next!;
        }
    });
});

describe("GC output and gauges", () => {
    it("reads the summary line of registry garbage-collect", () => {
        expect(job.parseGcSummary("blob eligible for deletion: sha256:ab\n12 blobs marked, 3 blobs and 1 manifests eligible for deletion\n")).toEqual({
            blobsMarked: 12,
            blobsEligible: 3,
            manifestsEligible: 1,
        });
        expect(job.parseGcSummary("failed to garbage collect")).toBeUndefined();
    });
    it("sums the upload handlers' in-flight gauges only", () => {
        const text = [
            'registry_http_in_flight_requests{handler="blob"} 7',
            'registry_http_in_flight_requests{handler="blob_upload"} 1',
            'registry_http_in_flight_requests{handler="blob_upload_chunk"} 2',
            'registry_http_in_flight_requests{handler="manifest"} 4',
        ].join("\n");
        expect(job.uploadsInFlight(text)).toBe(3);
    });
    it("parses Redis replies split across reads", () => {
        const buf = Buffer.from("*2\r\n$1\r\n0\r\n*2\r\n$8\r\nblobs::a\r\n$3\r\nxyz\r\n");
        expect(job.parseResp(buf, 0).value).toEqual(["0", ["blobs::a", "xyz"]]);
        expect(job.parseResp(buf.subarray(0, 20), 0)).toBeUndefined();
    });
});

describe("S3 signature", () => {
    it("signs a GET as AWS's Signature Version 4 example does", () => {
        // AWS's documented example (S3 API reference, "Example: GET Object"): the same credentials,
        // date and request give the published signature (here with a list query, checked against
        // the algorithm's steps: canonical request, string to sign, derived key).
        const headers = job.signS3Get(
            "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
            { accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1" },
            new Date("2013-05-24T00:00:00Z"),
        );
        expect(headers.Authorization).toBe(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
        );
    });
});

describe("when a successful run is due (the overdue alert's input)", () => {
    it("is the first scheduled time after the last success, or after the job started, and survives a restart", async () => {
        const fs = await import("node:fs");
        const os = await import("node:os");
        const path = await import("node:path");
        const controlDir = fs.mkdtempSync(path.join(os.tmpdir(), "rk-due-"));
        const config = {
            registry: { url: "http://registry:5000" },
            schedule: "0 3 * * 0",
            timezone: "Europe/Berlin",
            retention: [],
            gc: { enabled: false },
            storage: { kind: "filesystem", root: controlDir },
            metricsTargets: [],
            controlDir,
        };
        const first = new job.Maintenance(config, {});
        first.metrics.started_timestamp_seconds = Date.parse("2026-12-01T12:00:00Z") / 1000;
        first.updateDue(new Date("2026-12-01T12:00:00Z"));
        // Sunday 6 December, 03:00 in Berlin is 02:00 UTC.
        expect(first.metrics.success_due_timestamp_seconds).toBe(Date.parse("2026-12-06T02:00:00Z") / 1000);
        const result = await first.run(false, "test");
        expect(result.success).toBe(true);
        const restarted = new job.Maintenance(config, {});
        expect(restarted.metrics.last_success_timestamp_seconds).toBe(first.metrics.last_success_timestamp_seconds);
        restarted.metrics.started_timestamp_seconds = 0;
        restarted.updateDue(new Date());
        expect(restarted.metrics.success_due_timestamp_seconds).toBeGreaterThan(restarted.metrics.last_success_timestamp_seconds);
        expect(restarted.metricsText()).toMatch(/^registry_kit_maintenance_success_due_timestamp_seconds \d+$/m);
        fs.rmSync(controlDir, { recursive: true, force: true });
    });
});
