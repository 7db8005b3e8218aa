/**
 * The lifecycle command as local.Command runs it (`/bin/sh -c`, dash on Debian): the script arrives on
 * fd 3, stdin stays free for the files, and the refusals happen before anything changes.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { harborCommand, HarborScriptParams, harborStdin, shellQuote } from "../../renderers/harbor-scripts";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-harbor-script-"));
const bin = path.join(work, "bin");
fs.mkdirSync(bin);
// A docker that records its calls: nothing here may reach the real one.
fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\necho "docker $*" >> ${work}/docker.log\n`, { mode: 0o755 });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const params: HarborScriptParams = {
    version: "v2.15.1",
    installerUrl: `file://${work}/missing.tgz`,
    installerSha256: "a".repeat(64),
    installDir: path.join(work, "it's here"),
    dataVolume: path.join(work, "data"),
    configSha256: "b".repeat(64),
    prepareArgs: ["--with-trivy"],
};
const run = (action: "create" | "update" | "delete", stdin = "") =>
    spawnSync("/bin/sh", ["-c", harborCommand(action, params)], { input: stdin, encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });

describe("harbor lifecycle command under /bin/sh", () => {
    it("quotes settings for the shell", () => {
        expect(shellQuote("it's")).toBe("'it'\\''s'");
    });

    it("refuses a minor version change before touching anything", () => {
        fs.mkdirSync(params.installDir, { recursive: true });
        fs.writeFileSync(path.join(params.installDir, "version"), "v2.14.0\n");
        const r = run("update", harborStdin({ "harbor.yml": "hostname: x\n" }));
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("refusing to change Harbor v2.14.0 to v2.15.1");
        expect(fs.readdirSync(params.installDir)).toEqual(["version"]);
        expect(fs.existsSync(path.join(work, "docker.log"))).toBe(false);
    });

    it("refuses stdin without harbor.yml or with an unexpected file", () => {
        expect(run("create", "").stderr).toContain("no harbor.yml on stdin");
        expect(run("create", harborStdin({ "evil.sh": "x" })).stderr).toContain("unexpected file 'evil.sh' on stdin");
    });

    it("deletes nothing when nothing runs, and says what it keeps", () => {
        const r = run("delete");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`kept ${params.dataVolume} (images, database)`);
        expect(fs.existsSync(path.join(work, "docker.log"))).toBe(false);
    });
});
