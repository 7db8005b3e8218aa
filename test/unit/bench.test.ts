/**
 * The benchmark's pure parts: its command line (bench/args.ts), its statistics (bench/stats.ts) and the
 * fresh images it pushes (bench/image.ts). No Docker and no timing: `npm run bench` does the measuring.
 */
import * as crypto from "node:crypto";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { HELP, MB, parseBenchArgs, SCENARIOS } from "../../bench/args";
import { freshImage, tar } from "../../bench/image";
import { compareSeconds, median, medianByKey, rate, spread } from "../../bench/stats";

describe("bench arguments", () => {
    it("runs every scenario with the documented defaults", () => {
        const o = parseBenchArgs([]);
        expect(o.scenarios).toEqual([...SCENARIOS]);
        expect(o).toMatchObject({ reps: 7, warmup: 1, layers: 3, layerBytes: 100 * MB, smallLayers: 10, clients: 16, renderReps: 5, quick: false });
        expect(o.storage).toBe("filesystem");
        for (const flag of ["--scenario", "--quick", "--reps", "--small-reps", "--clients", "--render-reps", "--nginx-conf", "--pin", "--keep"])
            expect(HELP).toContain(flag);
    });

    it("selects scenarios in their fixed order, comma-separated or repeated", () => {
        expect(parseBenchArgs(["--scenario", "render,small"]).scenarios).toEqual(["small", "render"]);
        expect(parseBenchArgs(["--scenario", "concurrency", "--scenario", "large"]).scenarios).toEqual(["large", "concurrency"]);
    });

    it("--quick lowers repetitions and layer size, and an explicit flag still wins", () => {
        const q = parseBenchArgs(["--quick"]);
        expect(q).toMatchObject({ quick: true, reps: 3, layerBytes: 50 * MB, smallReps: 3, concurrencyReps: 1, renderReps: 2 });
        expect(parseBenchArgs(["--quick", "--reps", "5"]).reps).toBe(5);
    });

    it("refuses bad values with one line per problem naming the flag, the value and what is allowed", () => {
        let message = "";
        try {
            parseBenchArgs(["--reps", "0", "--clients", "many", "--scenario", "large,huge", "--storage", "tape"]);
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message.split("\n")).toEqual([
            '--reps: got "0"; allowed: an integer >= 1',
            '--clients: got "many"; allowed: an integer >= 2',
            '--scenario: got "huge"; allowed: large, small, concurrency, render (comma-separated)',
            '--storage: got "tape"; allowed: filesystem, s3',
        ]);
        expect(() => parseBenchArgs(["--reps", "2.5"])).toThrow('--reps: got "2.5"; allowed: an integer >= 1');
        expect(() => parseBenchArgs(["--scenario", "render", "--nginx-conf", "x.conf"])).toThrow(/--nginx-conf: given without the large or small scenario/);
        expect(parseBenchArgs(["--scenario", "small", "--nginx-conf", "x.conf"]).nginxConfs).toEqual(["x.conf"]);
        expect(() => parseBenchArgs(["--bogus"])).toThrow(/bogus/);
        expect(() => parseBenchArgs(["--scenario", "large", "--s3-redirect"])).toThrow(
            "--s3-redirect: given without --storage s3 and the large scenario; allowed: with --storage s3 --scenario large",
        );
        expect(() => parseBenchArgs(["--scenario", "small", "--storage", "s3", "--s3-redirect"])).toThrow(/--s3-redirect: given without/);
        expect(parseBenchArgs(["--scenario", "large", "--storage", "s3", "--s3-redirect"]).s3Redirect).toBe(true);
        expect(parseBenchArgs([]).s3Redirect).toBe(false);
    });
});

describe("bench statistics", () => {
    it("median of odd and even counts, unsorted input left alone", () => {
        const xs = [5, 1, 3];
        expect(median(xs)).toBe(3);
        expect(xs).toEqual([5, 1, 3]);
        expect(median([4, 1, 3, 2])).toBe(2.5);
        expect(() => median([])).toThrow(/empty/);
    });

    it("spread: median, extremes and range relative to the median", () => {
        expect(spread([2, 4, 3])).toEqual({ n: 3, median: 3, min: 2, max: 4, relativeRange: 2 / 3 });
        expect(spread([7]).relativeRange).toBe(0);
    });

    it("compares times as throughput ratios, of the medians and pair by pair", () => {
        // direct took 2, 4, 3 s; the proxy 4, 4, 3 s: pairs 0.5, 1, 1.
        const c = compareSeconds([2, 4, 3], [4, 4, 3]);
        expect(c.ratio).toBeCloseTo(3 / 4);
        expect(c.pairs).toEqual({ n: 3, median: 1, min: 0.5, max: 1, relativeRange: 0.5 });
        expect(c.baseline.median).toBe(3);
        expect(c.candidate.median).toBe(4);
        // A faster candidate gives a ratio above 1.
        expect(compareSeconds([2], [1]).ratio).toBe(2);
        expect(() => compareSeconds([1, 2], [1])).toThrow(/pair/);
        expect(() => compareSeconds([0], [1])).toThrow(/positive/);
    });

    it("rates and per-key medians (null when any value is unknown)", () => {
        expect(rate(300, 4)).toBe(75);
        expect(() => rate(1, 0)).toThrow();
        expect(
            medianByKey([
                { client: 1, proxy: 0.5, registry: null },
                { client: 3, proxy: 0.7, registry: 2 },
                { client: 2, proxy: 0.6, registry: 1 },
            ]),
        ).toEqual({ client: 2, proxy: 0.6, registry: null });
    });
});

describe("bench images", () => {
    const entry = (img: ReturnType<typeof freshImage>, suffix: string) => img.entries.find((e) => e.name.endsWith(suffix))?.data;

    it("an OCI layout whose blobs match their digests, with fresh random layers each time", () => {
        const a = freshImage("src-a", 2, 1000);
        const b = freshImage("src-b", 2, 1000);
        expect(a.manifestDigest).not.toBe(b.manifestDigest);
        const blobs = a.entries.filter((e) => e.name.startsWith("src-a/blobs/sha256/") && e.data);
        for (const blob of blobs) expect(`src-a/blobs/sha256/${crypto.createHash("sha256").update(blob.data!).digest("hex")}`).toBe(blob.name);
        const index = JSON.parse(entry(a, "/index.json")!.toString());
        expect(index.manifests[0].digest).toBe(a.manifestDigest);
        const manifest = JSON.parse(entry(a, `/${a.manifestDigest.slice(7)}`)!.toString());
        expect(manifest.layers).toHaveLength(2);
        // payloadBytes: the layers and the config, what a push sends as blobs.
        expect(a.payloadBytes).toBe(manifest.layers[0].size + manifest.layers[1].size + manifest.config.size);
        // Each layer is a gzip (stored, level 0) of a tar holding the random bytes.
        const layer = zlib.gunzipSync(entry(a, `/${manifest.layers[0].digest.slice(7)}`)!);
        expect(layer.subarray(0, 10).toString()).toBe("layer1.bin");
        expect(layer.length).toBe(512 + 1024 + 1024); // header, 1000 bytes padded to 1024, end-of-archive
    });

    it("tar: 512-byte headers with valid checksums, data padded, two zero blocks at the end", () => {
        const t = tar([{ name: "d" }, { name: "d/f", data: Buffer.from("hello") }]);
        expect(t.length).toBe(512 + 512 + 512 + 1024);
        const header = t.subarray(512, 1024);
        const stored = parseInt(header.subarray(148, 154).toString(), 8);
        const sum = [...header].reduce((s, x, i) => s + (i >= 148 && i < 156 ? 32 : x), 0);
        expect(stored).toBe(sum);
        expect(t.subarray(0, 2).toString()).toBe("d/");
        expect(t.subarray(1024, 1029).toString()).toBe("hello");
    });
});
