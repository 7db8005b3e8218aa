/**
 * The lifecycle command as local.Command runs it (`/bin/sh -c`, dash on Debian): the script arrives on
 * fd 3, stdin stays free for the files, and the refusals (version change or downgrade, database password
 * of another database) happen before anything changes. A delete by a replaced resource stops nothing.
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { harborCommand, HarborScriptParams, harborStdin, shellQuote } from "../../renderers/harbor-scripts";
import { templateText } from "../../renderers/template";

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
    configHmac: "b".repeat(64),
    owner: "c".repeat(32),
    prepareArgs: ["--with-trivy"],
};
const dataState = path.join(params.dataVolume, ".registry-kit");
const run = (action: "create" | "update" | "delete", stdin = "", p = params) =>
    spawnSync("/bin/sh", ["-c", harborCommand(action, p)], { input: stdin, encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` } });
const files = (db = "Db-Pass-1") => harborStdin({ "harbor.yml": "hostname: x\n", "database-password": db });
const dockerCalls = () => (fs.existsSync(path.join(work, "docker.log")) ? fs.readFileSync(path.join(work, "docker.log"), "utf8") : "");

beforeEach(() => {
    for (const p of [params.installDir, params.dataVolume, path.join(work, "docker.log")]) fs.rmSync(p, { recursive: true, force: true });
});

describe("harbor lifecycle command under /bin/sh", () => {
    it("quotes settings for the shell", () => {
        expect(shellQuote("it's")).toBe("'it'\\''s'");
    });

    it("computes HMAC-SHA256 with coreutils exactly as Node does", () => {
        const fn = templateText("harbor-lifecycle.sh").match(/^hmac_sha256\(\) \{[\s\S]*?^\}$/m)![0];
        const key = crypto.randomBytes(32).toString("hex");
        const message = "p\0ss%w\\x41 '\"$(x)\n\u00e9";
        fs.writeFileSync(path.join(work, "msg"), message);
        const r = spawnSync("bash", ["-c", `${fn}\nhmac_sha256 "$1" "$2"`, "-", key, path.join(work, "msg")], { encoding: "utf8" });
        expect(r.stdout.trim()).toBe(crypto.createHmac("sha256", Buffer.from(key, "hex")).update(message).digest("hex"));
    });

    it("refuses a minor version change before touching anything, saying what to do", () => {
        fs.mkdirSync(params.installDir, { recursive: true });
        fs.writeFileSync(path.join(params.installDir, "version"), "v2.14.0\n");
        const r = run("update", files());
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`refusing to change Harbor v2.14.0 to v2.15.1 (${params.installDir}/version records v2.14.0)`);
        expect(r.stderr).toContain(`1. back up ${params.dataVolume} (at least ${params.dataVolume}/database) and ${params.installDir}`);
        expect(r.stderr).toContain("goharbor/prepare:v2.15.1 migrate -i");
        expect(r.stderr).toContain("4. set registry-kit:harbor.version (and installerUrl, installerSha256) to v2.15.1 and run pulumi up again");
        expect(fs.readdirSync(params.installDir)).toEqual(["version"]);
        expect(dockerCalls()).toBe("");
    });

    it("refuses a downgrade recorded in data_volume, even from a new install directory", () => {
        fs.mkdirSync(dataState, { recursive: true });
        fs.writeFileSync(path.join(dataState, "version"), "v2.15.2\n");
        const r = run("create", files());
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`refusing to downgrade Harbor v2.15.2 to v2.15.1 (${dataState}/version records v2.15.2)`);
        expect(r.stderr).toContain("Set registry-kit:harbor.version (and installerUrl, installerSha256) back to v2.15.2");
        expect(fs.existsSync(params.installDir)).toBe(false);
        expect(dockerCalls()).toBe("");
    });

    it("refuses another database password than data_volume's database was initialised with, before touching anything", () => {
        const key = crypto.randomBytes(32).toString("hex");
        const hmac = crypto.createHmac("sha256", Buffer.from(key, "hex")).update("Original-Db-1").digest("hex");
        fs.mkdirSync(dataState, { recursive: true });
        fs.writeFileSync(path.join(dataState, "database-password.hmac"), `${key} ${hmac}\n`);
        const r = run("create", files("Another-Db-2"));
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`the database password differs from the one the database in ${params.dataVolume} was initialised with`);
        expect(r.stderr).toContain("Set registry-kit:harbor.databasePassword (pulumi config set --secret) to the original password");
        expect(r.stderr).not.toContain("Another-Db-2");
        expect(fs.existsSync(params.installDir)).toBe(false);
        expect(dockerCalls()).toBe("");
        // The original password passes the check (and then fails later, on the missing installer).
        const ok = run("create", files("Original-Db-1"));
        expect(ok.stderr).not.toContain("database password");
        expect(ok.stderr).toContain("could not download");
    });

    it("refuses stdin without harbor.yml, without the database password, or with an unexpected file", () => {
        expect(run("create", "").stderr).toContain("no harbor.yml on stdin");
        expect(run("create", harborStdin({ "harbor.yml": "x" })).stderr).toContain("no database-password on stdin");
        expect(run("create", harborStdin({ "evil.sh": "x" })).stderr).toContain("unexpected file 'evil.sh' on stdin");
    });

    it("deletes nothing when nothing runs, and says what it keeps", () => {
        const r = run("delete");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`kept ${params.dataVolume} (images, database)`);
        expect(dockerCalls()).toBe("");
    });

    it("stops the project on delete only when this resource is the recorded owner", () => {
        fs.mkdirSync(path.join(params.installDir, "harbor"), { recursive: true });
        fs.writeFileSync(path.join(params.installDir, "harbor", "docker-compose.yml"), "name: harbor\n");
        fs.writeFileSync(path.join(params.installDir, "owner"), `${"d".repeat(32)}\n`);
        const other = run("delete");
        expect(other.status).toBe(0);
        expect(other.stdout).toContain("now belongs to another registry-kit resource");
        expect(dockerCalls()).toBe("");
        fs.writeFileSync(path.join(params.installDir, "owner"), `${params.owner}\n`);
        expect(run("delete").status).toBe(0);
        expect(dockerCalls()).toBe("docker compose down\n");
        expect(fs.existsSync(path.join(params.installDir, "owner"))).toBe(false);
    });
});
