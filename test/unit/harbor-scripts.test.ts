/**
 * The lifecycle command as local.Command runs it (`/bin/sh -c`, dash on Debian): the script arrives on
 * fd 3, stdin stays free for the files, and the refusals (version change or downgrade, database password
 * of another database) happen before anything changes. A delete by a replaced resource stops nothing:
 * ownership is the owner id (RK_OWNER) and a token each create and update draws on the host and prints,
 * which update and delete read back from PULUMI_COMMAND_STDOUT (what @pulumi/command 1.2.1 passes them).
 */
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { harborAcmeScripts } from "../../renderers/harbor-acme";
import { harborCommand, HarborScriptParams, harborStdin, shellQuote } from "../../renderers/harbor-scripts";
import { templateText } from "../../renderers/template";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-harbor-script-"));
const bin = path.join(work, "bin");
fs.mkdirSync(bin);
// A docker that records its calls: nothing here may reach the real one. `docker run` fails while docker-run-fails exists.
const runFails = path.join(work, "docker-run-fails");
fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\necho "docker $*" >> ${work}/docker.log\n[ "$1" != run ] || [ ! -f ${runFails} ] || exit 1\n`, {
    mode: 0o755,
});
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
/** `previousStdout`: PULUMI_COMMAND_STDOUT, the stdout of the resource's last create or update (never set for a create). */
const run = (action: "create" | "update" | "delete", stdin = "", p = params, previousStdout?: string) =>
    spawnSync("/bin/sh", ["-c", harborCommand(action, p)], {
        input: stdin,
        encoding: "utf8",
        env: { PATH: `${bin}:/usr/bin:/bin`, ...(previousStdout ? { PULUMI_COMMAND_STDOUT: previousStdout } : {}) },
    });
const files = (db = "Db-Pass-1") => harborStdin({ "harbor.yml": "hostname: x\n", "database-password": db });
const dockerCalls = () => (fs.existsSync(path.join(work, "docker.log")) ? fs.readFileSync(path.join(work, "docker.log"), "utf8") : "");

beforeEach(() => {
    for (const p of [params.installDir, params.dataVolume, path.join(work, "docker.log"), runFails]) fs.rmSync(p, { recursive: true, force: true });
});

/** Harbor installed with these params' version and config: create and update take the path that restarts nothing. */
function installed() {
    fs.mkdirSync(path.join(params.installDir, "harbor"), { recursive: true });
    fs.writeFileSync(path.join(params.installDir, "harbor", "prepare"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(params.installDir, "harbor", "docker-compose.yml"), "name: harbor\n");
    fs.writeFileSync(path.join(params.installDir, "version"), `${params.version}\n`);
    fs.writeFileSync(path.join(params.installDir, "config.hmac"), `${params.configHmac}\n`);
}
const ownerFile = () => path.join(params.installDir, "owner");
const recordedOwner = () => fs.readFileSync(ownerFile(), "utf8");
/** The owner token a create or update printed: exactly one line. */
const tokenIn = (stdout: string) => {
    const tokens = [...stdout.matchAll(/^registry-kit harbor: owner token (.*)$/gm)].map((m) => m[1]);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatch(/^[0-9a-f]{32}$/);
    return tokens[0];
};
/** What the last create or update of a registry-kit release before owner tokens printed. */
const outputWithoutToken = `registry-kit harbor: Harbor ${params.version} is installed with this configuration: taking it over without a restart`;
const stopped = () => dockerCalls().includes("docker compose down");

describe("harbor lifecycle command under /bin/sh", () => {
    it("quotes settings for the shell", () => {
        expect(shellQuote("it's")).toBe("'it'\\''s'");
    });

    it("computes HMAC-SHA256 with openssl exactly as Node does", () => {
        const fn = templateText("harbor-lifecycle.sh").match(/^hmac_sha256\(\) \{.*\}$/m)![0];
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

    it("each create draws a fresh owner token on the host, records it with the owner id and prints it; the command text has none", () => {
        installed();
        const first = run("create", files());
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        const t1 = tokenIn(first.stdout);
        expect(recordedOwner()).toBe(`${params.owner}:${t1}\n`);
        const second = run("create", files());
        expect(second.status).toBe(0);
        const t2 = tokenIn(second.stdout);
        expect(t2).not.toBe(t1);
        expect(recordedOwner()).toBe(`${params.owner}:${t2}\n`);
        // Printed after everything else: the last line of the output.
        expect(second.stdout.trimEnd().split("\n").pop()).toBe(`registry-kit harbor: owner token ${t2}`);
        expect(harborCommand("create", params)).not.toContain(t1);
        expect(second.stdout).not.toContain("Db-Pass-1");
    });

    it("an update with its own token recorded records a fresh one; the delete with that update's output stops Harbor", () => {
        installed();
        const created = run("create", files());
        const updated = run("update", files(), params, created.stdout);
        expect(updated.stderr).toBe("");
        expect(updated.status).toBe(0);
        expect(updated.stdout).not.toContain("taken over");
        const t2 = tokenIn(updated.stdout);
        expect(t2).not.toBe(tokenIn(created.stdout));
        expect(recordedOwner()).toBe(`${params.owner}:${t2}\n`);
        // The create's output is no longer this resource's state: its token is not the owner's any more.
        fs.writeFileSync(path.join(work, "docker.log"), "");
        expect(run("delete", "", params, created.stdout).stdout).toContain("now belongs to another registry-kit resource");
        expect(stopped()).toBe(false);
        const deleted = run("delete", "", params, updated.stdout);
        expect(deleted.status).toBe(0);
        expect(stopped()).toBe(true);
        expect(fs.existsSync(ownerFile())).toBe(false);
    });

    it("pulumi up --replace (the same owner id): the old delete leaves Harbor running after the new create, the new one's delete stops it", () => {
        installed();
        const oldCreate = run("create", files());
        const newCreate = run("create", files());
        expect(newCreate.status).toBe(0);
        fs.writeFileSync(path.join(work, "docker.log"), "");
        const oldDelete = run("delete", "", params, oldCreate.stdout);
        expect(oldDelete.status).toBe(0);
        expect(oldDelete.stdout).toContain("now belongs to another registry-kit resource");
        expect(dockerCalls()).toBe("");
        expect(recordedOwner()).toBe(`${params.owner}:${tokenIn(newCreate.stdout)}\n`);
        const newDelete = run("delete", "", params, newCreate.stdout);
        expect(newDelete.status).toBe(0);
        expect(dockerCalls()).toBe("docker compose down\n");
    });

    it("an update whose token is no longer recorded (another resource took Harbor over) takes Harbor back, says so, and records a fresh token", () => {
        installed();
        const mine = run("create", files());
        const theirs = run("create", files());
        const updated = run("update", files(), params, mine.stdout);
        expect(updated.status).toBe(0);
        expect(updated.stdout).toContain("another registry-kit resource had taken Harbor");
        const t = tokenIn(updated.stdout);
        expect(recordedOwner()).toBe(`${params.owner}:${t}\n`);
        fs.writeFileSync(path.join(work, "docker.log"), "");
        expect(run("delete", "", params, theirs.stdout).stdout).toContain("now belongs to another registry-kit resource");
        expect(stopped()).toBe(false);
    });

    it("from before owner tokens (an owner file with the id only, output without a token line): the id decides, and an update records a token", () => {
        installed();
        fs.writeFileSync(ownerFile(), `${params.owner}\n`);
        const updated = run("update", files(), params, outputWithoutToken);
        expect(updated.status).toBe(0);
        expect(updated.stdout).not.toContain("taken over");
        expect(updated.stdout).not.toContain("warning");
        expect(recordedOwner()).toBe(`${params.owner}:${tokenIn(updated.stdout)}\n`);
        // A delete with such output and such an owner file: its own id, it stops Harbor; another id, it leaves it running.
        fs.writeFileSync(ownerFile(), `${params.owner}\n`);
        fs.writeFileSync(path.join(work, "docker.log"), "");
        expect(run("delete", "", params, outputWithoutToken).status).toBe(0);
        expect(stopped()).toBe(true);
        fs.writeFileSync(ownerFile(), `${"d".repeat(32)}\n`);
        fs.writeFileSync(path.join(work, "docker.log"), "");
        expect(run("delete", "", params, outputWithoutToken).stdout).toContain("now belongs to another registry-kit resource");
        expect(stopped()).toBe(false);
        // A token recorded under another id is another resource's, whatever the output says.
        fs.writeFileSync(ownerFile(), `${"d".repeat(32)}:${"e".repeat(32)}\n`);
        expect(run("delete", "", params, `registry-kit harbor: owner token ${"e".repeat(32)}`).stdout).toContain("now belongs to another");
        expect(stopped()).toBe(false);
    });

    it("a token recorded but none in the output (PULUMI_COMMAND_STDOUT did not arrive): the id decides, with a warning that says why", () => {
        installed();
        run("create", files());
        for (const output of [undefined, outputWithoutToken]) {
            const updated = run("update", files(), params, output);
            expect(updated.status).toBe(0);
            expect(updated.stdout).toContain("warning: this command's previous output (PULUMI_COMMAND_STDOUT) did not reach the host");
            expect(updated.stdout).toContain("AcceptEnv PULUMI_COMMAND_STDOUT");
            expect(recordedOwner()).toBe(`${params.owner}:${tokenIn(updated.stdout)}\n`);
        }
        fs.writeFileSync(path.join(work, "docker.log"), "");
        const deleted = run("delete");
        expect(deleted.status).toBe(0);
        expect(deleted.stdout).toContain("warning: this command's previous output (PULUMI_COMMAND_STDOUT) did not reach the host");
        expect(stopped()).toBe(true);
    });

    it("a create or update that fails after Harbor is up (certbot) leaves the recorded owner alone: Pulumi keeps the previous output", () => {
        installed();
        const acmeParams = { ...params, acme: { image: "certbot/certbot:v3.3.0", container: "rk-certbot" } };
        const acmeFiles = harborStdin({
            "harbor.yml": "hostname: x\n",
            "database-password": "Db-Pass-1",
            "server.crt": "crt",
            "server.key": "key",
            "acme.env": "RK_CERT_NAME=registry-kit\n",
            "acme.server.conf": "server {}\n",
            ...harborAcmeScripts(),
        });
        const created = run("create", acmeFiles, acmeParams);
        expect(created.stderr).toBe("");
        expect(created.status).toBe(0);
        // As if the last successful run had drawn this token (recorded on the host, printed into Pulumi's state).
        const token = "e".repeat(32);
        fs.writeFileSync(ownerFile(), `${params.owner}:${token}\n`);
        const owner = recordedOwner();
        fs.writeFileSync(runFails, "");
        for (const [action, output] of [
            ["update", `registry-kit harbor: owner token ${token}`],
            ["create", undefined],
        ] as const) {
            const failed = run(action, acmeFiles, acmeParams, output);
            expect(failed.status).not.toBe(0);
            expect(failed.stdout).not.toContain("owner token");
            expect(recordedOwner()).toBe(owner);
        }
    });
});
