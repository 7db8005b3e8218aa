/**
 * Harbor's lifecycle for real over SSH: the commands HarborInstaller declares are taken from the offline
 * render (their create/update/delete scripts, stdin and connection) and run the way @pulumi/command's
 * remote.Command runs them, with `ssh` against a real sshd this test starts on 127.0.0.1 (its own config,
 * host key and authorized_keys in a temp dir). Harbor's images cannot be pulled here, so the installer
 * tarball is a test one, served from a loopback HTTP server: its `prepare`, and a `docker` stub first on
 * the session's PATH, record every call (arguments, working directory, the harbor.yml prepare saw).
 * As @pulumi/command 1.2.1 does, update and delete get the stdout and stderr of the resource's last
 * successful create or update (what Pulumi keeps in state) as PULUMI_COMMAND_STDOUT and
 * PULUMI_COMMAND_STDERR, sent as SSH environment requests (the provider's session.Setenv), which the
 * test sshd accepts (`AcceptEnv`); create gets neither.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ManifestResource, render, Rendered, ROOT } from "./harness";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-harbor-e2e-"));
const host = path.join(work, "host"); // what the "remote" host's install and data paths live under
const installDir = path.join(host, "opt", "harbor");
const dataVolume = path.join(host, "data");
const callLog = path.join(work, "calls.log");
const seenDir = path.join(work, "seen");
let sshd: ChildProcess | undefined;
let sshPort = 0;
let server: http.Server | undefined;
let httpPort = 0;
let createdRunSshd = false;
const sha: Record<string, string> = {};

const sh = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
};

/** A test Harbor offline installer: harbor/prepare, install.sh, common.sh, harbor.yml.tmpl and an images tarball (prepare left out when broken). */
function buildInstaller(version: string, broken = false): string {
    const dir = fs.mkdtempSync(path.join(work, "installer-"));
    const h = path.join(dir, "harbor");
    fs.mkdirSync(h);
    fs.copyFileSync(path.join(ROOT, "test", "fixtures", "harbor-2.15.yml.tmpl"), path.join(h, "harbor.yml.tmpl"));
    fs.writeFileSync(path.join(h, "common.sh"), "# test stand-in for the installer's helpers\n");
    // install.sh runs `docker compose down -v`: it must never be called.
    fs.writeFileSync(path.join(h, "install.sh"), `#!/bin/bash\nprintf '%s\\tinstall.sh %s\\n' "$PWD" "$*" >> ${callLog}\nexit 1\n`, { mode: 0o755 });
    fs.writeFileSync(
        path.join(h, "prepare"),
        `#!/bin/bash
# Test prepare (${version}): records its call and the harbor.yml it read, checks what the real one checks,
# and writes docker-compose.yml and common/config as the real one does.
set -e
n=$(ls ${seenDir} | wc -l)
cp harbor.yml ${seenDir}/harbor-$n.yml
printf '%s\\tprepare %s\\n' "$PWD" "$*" >> ${callLog}
host=$(sed -n 's/^hostname: "\\(.*\\)"$/\\1/p' harbor.yml)
[ "$host" != "127.0.0.1" ] || { echo "127.0.0.1 can not be the hostname" >&2; exit 1; }
cert=$(sed -n 's/^  certificate: "\\(.*\\)"$/\\1/p' harbor.yml)
key=$(sed -n 's/^  private_key: "\\(.*\\)"$/\\1/p' harbor.yml)
[ -f "$cert" ] && [ -f "$key" ] || { echo "Error: The protocol is https but attribute ssl_cert is not set" >&2; exit 1; }
data=$(sed -n 's/^data_volume: "\\(.*\\)"$/\\1/p' harbor.yml)
mkdir -p common/config
printf 'name: harbor\\n# data_volume: %s\\n# version: ${version}\\n' "$data" > docker-compose.yml
`,
        { mode: 0o755 },
    );
    fs.writeFileSync(path.join(h, `harbor.${version}.tar.gz`), crypto.randomBytes(2048));
    if (broken) fs.rmSync(path.join(h, "prepare"));
    fs.mkdirSync(path.join(work, "www"), { recursive: true });
    const tgz = path.join(work, "www", `harbor-offline-installer-${version}.tgz`);
    sh("tar", ["-C", dir, "--owner=0", "--group=0", "-czf", tgz, "harbor"]);
    sha[version] = crypto.createHash("sha256").update(fs.readFileSync(tgz)).digest("hex");
    return tgz;
}

/** `docker` for the SSH session: records each call; compose up creates data under data_volume; down -v would delete it. */
function writeDockerStub(): string {
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
        path.join(bin, "docker"),
        `#!/bin/bash
printf '%s\\tdocker %s\\n' "$PWD" "$*" >> ${callLog}
data() { sed -n 's/^# data_volume: //p' docker-compose.yml; }
case "$1 $2" in
    "compose version") echo "Docker Compose version v2-test-stub" ;;
    "compose up")
        d=$(data); mkdir -p "$d/database" "$d/registry"
        [ -f "$d/database/PG_VERSION" ] || echo 15 > "$d/database/PG_VERSION" ;;
    "compose down")
        for a in "$@"; do case "$a" in -v | --volumes) rm -rf "$(data)"/* ;; esac; done ;;
    "load -i") [ -f "$3" ] || exit 1 ;;
esac
exit 0
`,
        { mode: 0o755 },
    );
    return bin;
}

async function freePort(): Promise<number> {
    for (let i = 0; i < 50; i++) {
        const p = 62000 + crypto.randomInt(1000);
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.createServer();
            s.once("error", () => resolve(false));
            s.listen(p, "127.0.0.1", () => s.close(() => resolve(true)));
        });
        if (ok) return p;
    }
    throw new Error("no free port in 62000-62999");
}

async function startSshd(bin: string): Promise<void> {
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "host_key")]);
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "client_key")]);
    // A second key, for a key rotation: both are authorised, as while an operator rotates keys.
    sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(work, "rotated_key")]);
    fs.writeFileSync(
        path.join(work, "authorized_keys"),
        fs.readFileSync(path.join(work, "client_key.pub"), "utf8") + fs.readFileSync(path.join(work, "rotated_key.pub"), "utf8"),
    );
    if (!fs.existsSync("/run/sshd")) {
        fs.mkdirSync("/run/sshd", { mode: 0o755 });
        createdRunSshd = true;
    }
    sshPort = await freePort();
    const config = path.join(work, "sshd_config");
    fs.writeFileSync(
        config,
        [
            `Port ${sshPort}`,
            "ListenAddress 127.0.0.1",
            `HostKey ${path.join(work, "host_key")}`,
            `PidFile ${path.join(work, "sshd.pid")}`,
            `AuthorizedKeysFile ${path.join(work, "authorized_keys")}`,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            `SetEnv PATH=${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
            // What Harbor's host needs for remote.Command's PULUMI_COMMAND_STDOUT to arrive (README, "Replacements").
            "AcceptEnv PULUMI_COMMAND_STDOUT PULUMI_COMMAND_STDERR",
            "LogLevel ERROR",
            "",
        ].join("\n"),
    );
    sshd = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    sshd.stderr!.on("data", (d) => (err += d));
    for (let i = 0; i < 50; i++) {
        if ((await ssh(["true"])).code === 0) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sshd did not start: ${err}`);
}

/** The stdout and stderr Pulumi keeps in a command resource's state: those of its last successful create or update. */
interface CommandState {
    stdout: string;
    stderr: string;
}

/**
 * ssh to the test sshd as the rendered connection says, with the rendered private key. Asynchronous: the
 * installer's HTTP server runs in this process and must keep answering while ssh runs. `previous`: the
 * state whose output goes along as PULUMI_COMMAND_STDOUT/STDERR (each only when not empty, as the provider does).
 */
function ssh(
    args: string[],
    input?: string,
    connection?: { host: string; port: number; user: string; privateKey: string },
    previous?: CommandState,
): Promise<{ code: number; stdout: string; stderr: string }> {
    const keyFile = path.join(work, connection ? "connection_key" : "client_key");
    if (connection) fs.writeFileSync(keyFile, connection.privateKey, { mode: 0o600 });
    const c = connection ?? { host: "127.0.0.1", port: sshPort, user: "root" };
    const env: Record<string, string> = {};
    if (previous?.stdout) env.PULUMI_COMMAND_STDOUT = previous.stdout;
    if (previous?.stderr) env.PULUMI_COMMAND_STDERR = previous.stderr;
    const child = spawn(
        "ssh",
        [
            "-p",
            String(c.port),
            "-i",
            keyFile,
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            `UserKnownHostsFile=${path.join(work, "known_hosts")}`,
            "-o",
            "LogLevel=ERROR",
            ...Object.keys(env).flatMap((k) => ["-o", `SendEnv=${k}`]),
            `${c.user}@${c.host}`,
            ...args,
        ],
        { stdio: ["pipe", "pipe", "pipe"], timeout: 60_000, env: { ...process.env, PULUMI_COMMAND_STDOUT: "", PULUMI_COMMAND_STDERR: "", ...env } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.end(input ?? "");
    return new Promise((resolve) => {
        child.on("error", (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
}

function stackConfig(name: string, harbor: Record<string, unknown>, more: Record<string, unknown> = {}): string {
    const file = path.join(work, `${name}.yaml`);
    const config = {
        ...more,
        "registry-kit:topology": "harbor",
        "registry-kit:hostname": "harbor.e2e.test",
        "registry-kit:docker": { namePrefix: "rk-he2e" },
        "registry-kit:monitoring": { enabled: false },
        "registry-kit:harbor": {
            version: "v2.15.0",
            installerUrl: `http://127.0.0.1:${httpPort}/harbor-offline-installer-v2.15.0.tgz`,
            installerSha256: sha["v2.15.0"],
            installDir,
            dataVolume,
            ssh: { host: "127.0.0.1", port: sshPort, user: "root", privateKey: fs.readFileSync(path.join(work, "client_key"), "utf8") },
            adminPassword: "E2e-Admin-Pass1",
            log: { location: path.join(host, "log") },
            ...harbor,
        },
    };
    fs.writeFileSync(file, stringify({ config }));
    return file;
}

const state = path.join(work, "state.json");
let renders = 0;
function renderStack(name: string, harbor: Record<string, unknown> = {}, more: Record<string, unknown> = {}): Rendered {
    return render(stackConfig(name, harbor, more), path.join(work, `render-${renders++}`), state, "e2e", ["harbor"]);
}
const commandOf = (r: Rendered): ManifestResource => {
    const c = r.resources.find((x) => x.type === "command:remote:Command");
    if (!c) throw new Error("no remote command rendered");
    return c;
};

/**
 * Pulumi's state of each deployed command resource: a successful create or update stores its output (the provider
 * trims one trailing newline); a failed one keeps what the state had. Keyed by the render the resource was last
 * deployed with: a replacement is another render (another resource), even with the same inputs.
 */
const states = new WeakMap<Rendered, CommandState>();
function keep(r: Rendered, result: { code: number; stdout: string; stderr: string } | undefined, previous?: Rendered) {
    const s = result?.code === 0 ? { stdout: result.stdout.replace(/\n$/, ""), stderr: result.stderr.replace(/\n$/, "") } : previous && states.get(previous);
    if (s) states.set(r, s);
}

/** What @pulumi/command does on `pulumi up`: create when new, update when any input changed, nothing otherwise. */
async function up(current: Rendered, previous?: Rendered): Promise<{ ran: "create" | "update" | "nothing"; code: number; stdout: string; stderr: string }> {
    const cmd = commandOf(current);
    const before = previous && commandOf(previous);
    if (before && JSON.stringify(before.inputs) === JSON.stringify(cmd.inputs)) {
        keep(current, undefined, previous);
        return { ran: "nothing", code: 0, stdout: "", stderr: "" };
    }
    const action = before ? "update" : "create";
    const r = await ssh([cmd.inputs[action]], cmd.inputs.stdin, cmd.inputs.connection, previous && states.get(previous));
    keep(current, r, previous);
    return { ran: action, ...r };
}
/** The create of a new resource (a replacement: Pulumi creates the new one before it deletes the old one). */
async function create(r: Rendered) {
    return up(r);
}
/** The delete, with the output in this resource's state (the old resource's, in a replacement). */
function destroy(current: Rendered) {
    const cmd = commandOf(current);
    return ssh([cmd.inputs.delete], cmd.inputs.stdin, cmd.inputs.connection, states.get(current));
}

/** The settings of a release served by the test's HTTP server. */
const release = (version: string) => ({
    version,
    installerUrl: `http://127.0.0.1:${httpPort}/harbor-offline-installer-${version}.tgz`,
    installerSha256: sha[version],
});
const sshWith = (keyFile: string) => ({
    ssh: { host: "127.0.0.1", port: sshPort, user: "root", privateKey: fs.readFileSync(path.join(work, keyFile), "utf8") },
});
/** The log settings of the "warning" update, which later renders keep so that only what a test changes differs. */
const warningLog = () => ({ log: { level: "warning", location: path.join(host, "log") } });
const tail = (from: number) => calls().slice(from);
const fingerprint = path.join(dataVolume, ".registry-kit", "database-password.hmac");

/** The owner id in a command's text (RK_OWNER), and the owner token its create or update printed. */
const ownerId = (r: Rendered) => /RK_OWNER='([0-9a-f]{32})'/.exec(commandOf(r).inputs.create)![1];
const tokenIn = (stdout: string) => {
    const tokens = [...stdout.matchAll(/^registry-kit harbor: owner token ([0-9a-f]{32})$/gm)].map((m) => m[1]);
    expect(tokens).toHaveLength(1);
    return tokens[0];
};
const recordedOwner = () => fs.readFileSync(path.join(installDir, "owner"), "utf8").trim();
const calls = () => (fs.existsSync(callLog) ? fs.readFileSync(callLog, "utf8").trim().split("\n").filter(Boolean) : []);
const harborDir = path.join(installDir, "harbor");

beforeAll(async () => {
    fs.mkdirSync(seenDir);
    fs.mkdirSync(host);
    buildInstaller("v2.15.0");
    buildInstaller("v2.15.1");
    buildInstaller("v2.15.2", true);
    server = http.createServer((req, res) => {
        const file = path.join(work, "www", path.basename(req.url ?? ""));
        if (!fs.existsSync(file)) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { "Content-Type": "application/gzip" });
        fs.createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    httpPort = (server.address() as net.AddressInfo).port;
    await startSshd(writeDockerStub());
}, 60_000);

afterAll(async () => {
    sshd?.kill("SIGTERM");
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (createdRunSshd) fs.rmSync("/run/sshd", { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
});

describe("Harbor over SSH", () => {
    let deployed: Rendered;

    it("aborts on a checksum mismatch before extracting or running anything", async () => {
        const bad = renderStack("bad-checksum", { installerSha256: "0".repeat(64) });
        const r = await up(bad);
        expect(r.ran).toBe("create");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(
            `checksum mismatch for http://127.0.0.1:${httpPort}/harbor-offline-installer-v2.15.0.tgz: expected sha256 ${"0".repeat(64)}, got ${sha["v2.15.0"]}`,
        );
        expect(fs.existsSync(harborDir)).toBe(false);
        expect(fs.readdirSync(path.join(installDir, "downloads"))).toEqual([]);
        // Only the check that Compose is there ran: no load, no prepare, no compose up.
        expect(calls()).toEqual([expect.stringMatching(/\tdocker compose version$/)]);
    }, 60_000);

    it("installs: downloads, verifies, extracts, writes harbor.yml and TLS files, loads images, runs prepare, starts the project", async () => {
        deployed = renderStack("v2.15.0");
        const before = calls().length;
        const r = await up(deployed);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("installer checksum verified");
        expect(calls().slice(before)).toEqual([
            expect.stringMatching(/\tdocker compose version$/),
            `${harborDir}\tdocker load -i ${harborDir}/harbor.v2.15.0.tar.gz`,
            `${harborDir}\tprepare --with-trivy`,
            `${harborDir}\tdocker compose up -d --remove-orphans`,
        ]);
        // The files land where the installer and prepare expect them.
        const stdinLine = (commandOf(deployed).inputs.stdin as string).split("\n").find((l) => l.startsWith("harbor.yml "))!;
        const stdinYml = Buffer.from(stdinLine.split(" ")[1], "base64").toString();
        expect(fs.readFileSync(path.join(harborDir, "harbor.yml"), "utf8")).toBe(stdinYml);
        expect(fs.readFileSync(path.join(seenDir, "harbor-0.yml"), "utf8")).toBe(stdinYml);
        const yml = parse(stdinYml);
        expect(yml.https.certificate).toBe(path.join(installDir, "tls", "server.crt"));
        expect(yml.data_volume).toBe(dataVolume);
        expect(fs.statSync(path.join(harborDir, "harbor.yml")).mode & 0o777).toBe(0o600);
        expect(fs.statSync(path.join(installDir, "tls", "server.key")).mode & 0o777).toBe(0o600);
        expect(new crypto.X509Certificate(fs.readFileSync(path.join(installDir, "tls", "server.crt"))).subjectAltName).toContain("DNS:harbor.e2e.test");
        expect(fs.readFileSync(path.join(installDir, "version"), "utf8").trim()).toBe("v2.15.0");
        expect(fs.existsSync(path.join(dataVolume, "database", "PG_VERSION"))).toBe(true);
        expect(r.stdout + r.stderr).not.toContain("E2e-Admin-Pass1");
        // Markers: the version with the data too, this resource as the owner, the database password's HMAC (never the password).
        expect(fs.readFileSync(path.join(dataVolume, ".registry-kit", "version"), "utf8").trim()).toBe("v2.15.0");
        // The owner: this resource's id and a token drawn on the host by this create, printed on stdout (kept in state),
        // never in the command's inputs.
        const token = tokenIn(r.stdout);
        expect(recordedOwner()).toBe(`${ownerId(deployed)}:${token}`);
        expect(JSON.stringify(commandOf(deployed).inputs)).not.toContain(token);
        const db = deployed.outputs.databasePassword as string;
        expect(db).toMatch(/^[A-Za-z0-9]{32}$/);
        const [key, hmac] = fs.readFileSync(fingerprint, "utf8").trim().split(" ");
        expect(hmac).toBe(crypto.createHmac("sha256", Buffer.from(key, "hex")).update(db).digest("hex"));
        expect(fs.readFileSync(fingerprint, "utf8")).not.toContain(db);
        expect(fs.statSync(fingerprint).mode & 0o777).toBe(0o600);
    }, 60_000);

    it("changes nothing and runs no command on a second run with the same config", async () => {
        const again = renderStack("v2.15.0");
        const before = calls().length;
        expect((await up(again, deployed)).ran).toBe("nothing");
        expect(calls().length).toBe(before);
        deployed = again;
    }, 60_000);

    it("updates harbor.yml: prepare again and the project up again, volumes and data kept, no download", async () => {
        fs.writeFileSync(path.join(dataVolume, "registry", "image-layer"), "pushed before the update");
        const changed = renderStack("warning", warningLog());
        const before = calls().length;
        const r = await up(changed, deployed);
        expect(r.ran).toBe("update");
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).not.toContain("downloading");
        expect(calls().slice(before)).toEqual([
            expect.stringMatching(/\tdocker compose version$/),
            `${harborDir}\tprepare --with-trivy`,
            `${harborDir}\tdocker compose up -d --force-recreate --remove-orphans`,
        ]);
        expect(parse(fs.readFileSync(path.join(harborDir, "harbor.yml"), "utf8")).log.level).toBe("warning");
        expect(fs.readFileSync(path.join(dataVolume, "registry", "image-layer"), "utf8")).toBe("pushed before the update");
        expect(fs.existsSync(path.join(dataVolume, "database", "PG_VERSION"))).toBe(true);
        deployed = changed;
    }, 60_000);

    it("upgrades to a patch release in place: verified download, project stopped without -v, new images, prepare, up", async () => {
        const patch = renderStack("v2.15.1", {
            version: "v2.15.1",
            installerUrl: `http://127.0.0.1:${httpPort}/harbor-offline-installer-v2.15.1.tgz`,
            installerSha256: sha["v2.15.1"],
            ...warningLog(),
        });
        const before = calls().length;
        const r = await up(patch, deployed);
        expect(r.code).toBe(0);
        expect(calls().slice(before)).toEqual([
            expect.stringMatching(/\tdocker compose version$/),
            `${harborDir}\tdocker compose down`,
            `${harborDir}\tdocker load -i ${harborDir}/harbor.v2.15.1.tar.gz`,
            `${harborDir}\tprepare --with-trivy`,
            `${harborDir}\tdocker compose up -d --remove-orphans`,
        ]);
        expect(fs.readFileSync(path.join(harborDir, "docker-compose.yml"), "utf8")).toContain("# version: v2.15.1");
        expect(fs.existsSync(path.join(installDir, "previous", "harbor.v2.15.0.tar.gz"))).toBe(true);
        expect(fs.readFileSync(path.join(installDir, "version"), "utf8").trim()).toBe("v2.15.1");
        expect(fs.readFileSync(path.join(dataVolume, "registry", "image-layer"), "utf8")).toBe("pushed before the update");
        deployed = patch;
    }, 60_000);

    it("refuses an installer with the right checksum but no prepare before stopping Harbor", async () => {
        const broken = renderStack("v2.15.2-broken", { ...release("v2.15.2"), ...warningLog() });
        const before = calls().length;
        const r = await up(broken, deployed);
        expect(r.ran).toBe("update");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(
            "(checksum verified) is not a Harbor v2.15.2 offline installer: it has no executable harbor/prepare. Nothing was stopped or replaced.",
        );
        // Only the Compose check ran: no `down`, the running installation is untouched.
        expect(tail(before)).toEqual([expect.stringMatching(/\tdocker compose version$/)]);
        expect(fs.readFileSync(path.join(harborDir, "docker-compose.yml"), "utf8")).toContain("# version: v2.15.1");
        expect(fs.existsSync(path.join(installDir, ".staging"))).toBe(false);
        expect(fs.readFileSync(path.join(installDir, "version"), "utf8").trim()).toBe("v2.15.1");
    }, 60_000);

    it("refuses a downgrade to v2.15.0, saying what to do, and changes nothing", async () => {
        const older = renderStack("v2.15.0-again", { ...release("v2.15.0"), ...warningLog() });
        const before = calls().length;
        const r = await up(older, deployed);
        expect(r.ran).toBe("update");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`refusing to downgrade Harbor v2.15.1 to v2.15.0 (${dataVolume}/.registry-kit/version records v2.15.1)`);
        expect(r.stderr).toContain("Set registry-kit:harbor.version (and installerUrl, installerSha256) back to v2.15.1");
        expect(tail(before)).toEqual([]);
    }, 60_000);

    it("refuses a version change recorded in data_volume even when installDir changes", async () => {
        fs.writeFileSync(path.join(dataVolume, ".registry-kit", "version"), "v2.14.3\n");
        const moved = renderStack("moved", { ...release("v2.15.1"), installDir: path.join(host, "opt", "harbor-new") });
        const before = calls().length;
        const r = await up(moved, deployed);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`refusing to change Harbor v2.14.3 to v2.15.1 (${dataVolume}/.registry-kit/version records v2.14.3)`);
        expect(tail(before)).toEqual([]);
        expect(fs.existsSync(path.join(host, "opt", "harbor-new"))).toBe(false);
        fs.writeFileSync(path.join(dataVolume, ".registry-kit", "version"), "v2.15.1\n");
    }, 60_000);

    it("rotates the SSH key: the new command takes Harbor over without a restart, the old one's delete leaves it running", async () => {
        const rotated = renderStack("rotated", {
            ...release("v2.15.1"),
            ...warningLog(),
            ...sshWith("rotated_key"),
        });
        const [oldCmd, newCmd] = [commandOf(deployed), commandOf(rotated)];
        expect(newCmd.inputs.connection.privateKey).not.toBe(oldCmd.inputs.connection.privateKey);
        expect(newCmd.inputs.stdin).toBe(oldCmd.inputs.stdin);
        // A connection change replaces the command: Pulumi creates the new one first, then deletes the old one.
        const before = calls().length;
        const created = await create(rotated);
        expect(created.stderr).toBe("");
        expect(created.code).toBe(0);
        expect(created.stdout).toContain("taking it over without a restart");
        expect(tail(before)).toEqual([expect.stringMatching(/\tdocker compose version$/), `${harborDir}\tdocker compose up -d --remove-orphans`]);
        const deleted = await destroy(deployed);
        expect(deleted.code).toBe(0);
        expect(deleted.stdout).toContain("now belongs to another registry-kit resource");
        expect(tail(before).filter((c) => c.includes("compose down"))).toEqual([]);
        expect(recordedOwner()).toBe(`${ownerId(rotated)}:${tokenIn(created.stdout)}`);
        deployed = rotated;
    }, 60_000);

    it("`pulumi up --replace` with the same connection: the new create takes Harbor over without a restart, the old delete leaves it running", async () => {
        // Same URN, same connection: the same owner id and the same inputs; only the token the new create draws differs.
        const replacement = renderStack("replaced", { ...release("v2.15.1"), ...warningLog(), ...sshWith("rotated_key") });
        expect(commandOf(replacement).inputs).toEqual(commandOf(deployed).inputs);
        const oldToken = tokenIn(states.get(deployed)!.stdout);
        const before = calls().length;
        const created = await create(replacement);
        expect(created.stderr).toBe("");
        expect(created.code).toBe(0);
        expect(created.stdout).toContain("taking it over without a restart");
        const newToken = tokenIn(created.stdout);
        expect(newToken).not.toBe(oldToken);
        expect(recordedOwner()).toBe(`${ownerId(replacement)}:${newToken}`);
        const deleted = await destroy(deployed);
        expect(deleted.code).toBe(0);
        expect(deleted.stdout).toContain("now belongs to another registry-kit resource");
        expect(tail(before)).toEqual([expect.stringMatching(/\tdocker compose version$/), `${harborDir}\tdocker compose up -d --remove-orphans`]);
        expect(recordedOwner()).toBe(`${ownerId(replacement)}:${newToken}`);
        deployed = replacement;
    }, 60_000);

    it("refuses a minor version change on the host, saying what to do, and changes nothing", async () => {
        // As if Harbor 2.14 were installed there: moving to 2.15 needs Harbor's migration.
        fs.writeFileSync(path.join(installDir, "version"), "v2.14.3\n");
        const ymlBefore = fs.readFileSync(path.join(harborDir, "harbor.yml"), "utf8");
        const changed = renderStack("migration", {
            version: "v2.15.1",
            installerUrl: `http://127.0.0.1:${httpPort}/harbor-offline-installer-v2.15.1.tgz`,
            installerSha256: sha["v2.15.1"],
            jobservice: { maxJobWorkers: 3 },
        });
        const before = calls().length;
        const r = await up(changed, deployed);
        expect(r.ran).toBe("update");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(
            `refusing to change Harbor v2.14.3 to v2.15.1 (${installDir}/version records v2.14.3): a minor or major version change needs Harbor's migration`,
        );
        expect(r.stderr).toContain(`docker run -it --rm -v /:/hostfs goharbor/prepare:v2.15.1 migrate -i ${harborDir}/harbor.yml`);
        expect(r.stderr).toContain(`1. back up ${dataVolume} (at least ${dataVolume}/database)`);
        expect(r.stderr).toContain("Nothing was changed");
        expect(calls().length).toBe(before);
        expect(fs.readFileSync(path.join(harborDir, "harbor.yml"), "utf8")).toBe(ymlBefore);
        fs.writeFileSync(path.join(installDir, "version"), "v2.15.1\n");
    }, 60_000);

    it("deletes: stops the project without -v and keeps data_volume, the database and harbor.yml", async () => {
        const before = calls().length;
        const r = await destroy(deployed);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`kept ${dataVolume} (images, database)`);
        expect(calls().slice(before)).toEqual([`${harborDir}\tdocker compose down`]);
        expect(fs.readFileSync(path.join(dataVolume, "registry", "image-layer"), "utf8")).toBe("pushed before the update");
        expect(fs.existsSync(path.join(dataVolume, "database", "PG_VERSION"))).toBe(true);
        expect(fs.existsSync(path.join(harborDir, "harbor.yml"))).toBe(true);
    }, 60_000);

    it("after a destroy, refuses a reinstall with another database password before anything changes, and accepts the original", async () => {
        const original = deployed.outputs.databasePassword as string;
        const ymlBefore = fs.readFileSync(path.join(harborDir, "harbor.yml"), "utf8");
        const other = renderStack("other-db", { ...release("v2.15.1"), databasePassword: "Another-Db-Pass-9" });
        const before = calls().length;
        const r = await up(other);
        expect(r.ran).toBe("create");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`the database password differs from the one the database in ${dataVolume} was initialised with`);
        expect(r.stderr).toContain("Set registry-kit:harbor.databasePassword (pulumi config set --secret) to the original password");
        expect(r.stderr + r.stdout).not.toContain("Another-Db-Pass-9");
        expect(tail(before)).toEqual([]);
        expect(fs.readFileSync(path.join(harborDir, "harbor.yml"), "utf8")).toBe(ymlBefore);

        const restored = renderStack("original-db", { ...release("v2.15.1"), databasePassword: original });
        const ok = await up(restored);
        expect(ok.stderr).toBe("");
        expect(ok.code).toBe(0);
        expect(tail(before)).toEqual([
            expect.stringMatching(/\tdocker compose version$/),
            `${harborDir}\tprepare --with-trivy`,
            `${harborDir}\tdocker compose up -d --force-recreate --remove-orphans`,
        ]);
        deployed = restored;
    }, 60_000);

    it("tls.mode acme, `pulumi up --replace` with the same connection: the new create restarts certbot, the old delete leaves Harbor and certbot running", async () => {
        const acme = (name: string) =>
            renderStack(
                name,
                { ...release("v2.15.1"), databasePassword: deployed.outputs.databasePassword },
                { "registry-kit:tls": { mode: "acme", acme: { directory: "https://acme.e2e.test/dir" } } },
            );
        const certbotStarted = /\tdocker run -d --name rk-he2e-certbot --restart unless-stopped /;
        let before = calls().length;
        const withAcme = acme("acme");
        const updated = await up(withAcme, deployed);
        expect(updated.ran).toBe("update");
        expect(updated.stderr).toBe("");
        expect(updated.code).toBe(0);
        expect(tail(before).filter((c) => certbotStarted.test(c))).toHaveLength(1);

        const replacement = acme("acme-replaced");
        expect(commandOf(replacement).inputs).toEqual(commandOf(withAcme).inputs);
        before = calls().length;
        const created = await create(replacement);
        expect(created.stderr).toBe("");
        expect(created.code).toBe(0);
        expect(created.stdout).toContain("taking it over without a restart");
        expect(tail(before).filter((c) => / compose (up|down)/.test(c))).toEqual([`${harborDir}\tdocker compose up -d --remove-orphans`]);
        expect(tail(before).filter((c) => certbotStarted.test(c))).toHaveLength(1);
        before = calls().length;
        const deleted = await destroy(withAcme);
        expect(deleted.code).toBe(0);
        expect(deleted.stdout).toContain("now belongs to another registry-kit resource");
        expect(tail(before)).toEqual([]);
        expect(fs.readFileSync(path.join(installDir, "acme", "container"), "utf8").trim()).toBe("rk-he2e-certbot");

        // The new resource's own delete (pulumi destroy) removes certbot and stops Harbor.
        const destroyed = await destroy(replacement);
        expect(destroyed.code).toBe(0);
        expect(tail(before)).toEqual([expect.stringMatching(/\tdocker rm -f rk-he2e-certbot$/), `${harborDir}\tdocker compose down`]);
    }, 60_000);

    it("never called install.sh or anything that deletes volumes", async () => {
        const all = calls();
        expect(all.length).toBeGreaterThan(8);
        for (const c of all) {
            expect(c).not.toMatch(/install\.sh/);
            expect(c).not.toMatch(/down .*(-v|--volumes)\b/);
            expect(c).not.toMatch(/volume (rm|prune)/);
        }
    });
});
