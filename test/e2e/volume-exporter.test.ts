/**
 * The volume exporter on a real Docker engine: the node exporter stand-in (Debian's
 * prometheus-node-exporter) with the component's own flags, a volume mounted read-only, no host root and
 * no Docker socket, reports that volume's mount point with the size and available bytes `df` shows for the
 * same volume in another container; other mounts stay out.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { volumeExporterCommand } from "../../components/volume-exporter";
import { docker, eventually, prepare, removeByPrefix, run, volumeDf } from "./harness";

// Not `rk-am-`: alertmanager.test.ts clears that prefix when it starts, and test files run in parallel.
const PREFIX = "rk-amvx";
const EXPORTER = `${PREFIX}-exporter`;

beforeAll(() => {
    prepare(PREFIX, ["node-exporter"]);
    docker("volume", "create", `${PREFIX}-data`);
    docker("volume", "create", `${PREFIX}-backup`);
}, 900_000);
afterAll(() => removeByPrefix(`${PREFIX}-`));

/** `name{labels} value` lines of node_filesystem_* series, by metric and mount point. */
function filesystemSeries(text: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of text.matchAll(/^(node_filesystem_[a-z_]+)\{([^}]*)\} (\S+)$/gm)) {
        const mount = /mountpoint="([^"]*)"/.exec(m[2])?.[1];
        out.set(`${m[1]} ${mount}`, Number(m[3]));
    }
    return out;
}

describe("the volume exporter on a real engine", () => {
    it("reports each mounted volume's filesystem as df sees it, and no other mount", async () => {
        docker(
            "run",
            "-d",
            "--name",
            EXPORTER,
            "--network",
            "none",
            "-v",
            `${PREFIX}-data:/volumes/registry:ro`,
            "-v",
            `${PREFIX}-backup:/volumes/backup:ro`,
            "registry-kit-test/node-exporter:1",
            ...volumeExporterCommand(),
        );
        const inspect = JSON.parse(docker("inspect", EXPORTER))[0];
        expect(inspect.Config.User).toBe("nobody");
        expect(inspect.Mounts.map((m: any) => `${m.Name}:${m.Destination}:${m.RW}`).sort()).toEqual([
            `${PREFIX}-backup:/volumes/backup:false`,
            `${PREFIX}-data:/volumes/registry:false`,
        ]);
        const metrics = await eventually("the exporter's metrics", () => {
            const r = run("docker", ["exec", EXPORTER, "wget", "-q", "-O", "-", "http://127.0.0.1:9100/metrics"], { allowFail: true });
            return r.code === 0 ? r.stdout : undefined;
        });
        const series = filesystemSeries(metrics);
        const mounts = new Set([...series.keys()].map((k) => k.split(" ")[1]));
        expect([...mounts].sort()).toEqual(["/volumes/backup", "/volumes/registry"]);
        // Only the filesystem collector: no cpu, meminfo, network series.
        expect(metrics).not.toMatch(/^node_(cpu|memory|network)_/m);

        // df of the same volume from a container that mounts it (1-byte blocks).
        const df = volumeDf(`${PREFIX}-data`);
        const [dfSize, dfAvail] = df;
        const size = series.get("node_filesystem_size_bytes /volumes/registry")!;
        const avail = series.get("node_filesystem_avail_bytes /volumes/registry")!;
        console.log(`exporter size=${size} avail=${avail}; df size=${dfSize} avail=${dfAvail}`);
        expect(size).toBe(dfSize);
        // Other tests write to the same disk meanwhile: equal within 1% of the filesystem.
        expect(Math.abs(avail - dfAvail)).toBeLessThan(size / 100);
        expect(avail).toBeGreaterThan(0);
        expect(avail).toBeLessThanOrEqual(size);
    }, 120_000);
});
