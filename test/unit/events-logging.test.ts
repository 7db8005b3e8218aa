/**
 * The log driver as the pinned Docker provider sees it (offline/docker-provider.ts), and the registry's
 * redacting entrypoint with headers beyond Authorization, run for real under /bin/sh.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { planContainer, readBackContainer } from "../../offline/docker-provider";
import { logConfig } from "../../primitives/logging";
import { REDACTING_ENTRYPOINT, redactingEntrypointFor } from "../../renderers/registry-config";

const spec = (logging?: Parameters<typeof logConfig>[0]) => ({ name: "rk-x-proxy", image: "nginx", restart: "unless-stopped", ...logConfig(logging) });

describe("log drivers against the provider's read-back", () => {
    const syslog = { driver: "syslog" as const, options: { "syslog-address": "udp://127.0.0.1:26514" } };
    it("the default is today's json-file rotation: an unchanged stack plans no change", () => {
        const before = {
            name: "rk-x-proxy",
            image: "nginx",
            restart: "unless-stopped",
            logDriver: "json-file",
            logOpts: { "max-size": "10m", "max-file": "3" },
        };
        expect(planContainer(readBackContainer(before), spec()).action).toBe("same");
    });

    it("syslog under a daemon whose default is json-file with options: Docker does not merge them in, so no diff", () => {
        const daemon = { driver: "json-file", opts: { "max-size": "50m" } };
        expect(readBackContainer(spec(syslog), daemon).logOpts).toEqual(syslog.options);
        expect(planContainer(readBackContainer(spec(syslog), daemon), spec(syslog)).action).toBe("same");
        // json-file under the same daemon: its options are merged in, and ours (given) win.
        expect(readBackContainer(spec(), daemon).logOpts).toEqual({ "max-size": "10m", "max-file": "3" });
    });

    it("a changed driver or option replaces the container (log options are ForceNew)", () => {
        const plan = planContainer(readBackContainer(spec()), spec(syslog));
        expect(plan.action).toBe("replace");
        expect(plan.replaceBecause).toEqual(["logDriver", "logOpts"]);
        const opt = planContainer(readBackContainer(spec(syslog)), spec({ ...syslog, options: { ...syslog.options, tag: "{{.Name}}" } }));
        expect(opt.replaceBecause).toEqual(["logOpts"]);
    });
});

describe("the registry's log line of its endpoints, with more headers", () => {
    const run = (entrypoint: string[], line: string) => {
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "rk-redact-"));
        fs.writeFileSync(path.join(bin, "registry"), `#!/bin/sh\necho '${line}' >&2\nexit 0\n`, { mode: 0o755 });
        const [shell, ...rest] = entrypoint;
        const r = spawnSync(shell, [...rest, "/etc/distribution/config.yml"], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: "utf8" });
        fs.rmSync(bin, { recursive: true, force: true });
        return r.stdout + r.stderr;
    };
    const line =
        '{"level":"info","msg":"configuring endpoint ci (https://ci.example.com/hook), timeout=500ms, headers=map[Authorization:[Bearer s3cr3t] X-Gitee-Token:[t0ken v] X-Other:[abc]]"}';

    it("masks every header value and keeps the names", () => {
        const out = run(redactingEntrypointFor(true), line);
        expect(out).toContain("headers=map[Authorization:[redacted] X-Gitee-Token:[redacted] X-Other:[redacted]]");
        expect(out).not.toMatch(/s3cr3t|t0ken|abc/);
    });

    it("stays today's entrypoint (no container replaced) without extra headers, which masks only Authorization", () => {
        expect(redactingEntrypointFor(false)).toBe(REDACTING_ENTRYPOINT);
        expect(run(REDACTING_ENTRYPOINT, line)).toContain("X-Gitee-Token:[t0ken v]");
    });
});
