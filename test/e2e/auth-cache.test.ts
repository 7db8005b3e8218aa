/**
 * The proxy's htpasswd check on a real Docker engine: the small-team stack (the program's own container
 * specs, stand-in images: Debian's registry 2.8 and nginx with njs 0.7.9), skopeo pushing and pulling
 * through the proxy, and the registry's own log counting how often it verified a user's bcrypt hash.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { proxiedPassword } from "../../renderers/htpasswd";
import { renderTokenSubjectJs, NGINX_AUTH_JS_PATH } from "../../renderers/nginx-auth";
import { NGINX_CERT_PATH, NGINX_CONFIG_PATH, NGINX_KEY_PATH, renderNginxConf } from "../../renderers/nginx-conf";
import {
    buildImageTar,
    deploy,
    docker,
    eventually,
    prepare,
    proxyRequest,
    RegistryClient,
    removeByPrefix,
    render,
    Rendered,
    run,
    waitHealthy,
} from "./harness";

const PREFIX = "rk-auth";
const HOST = "registry.auth.test";
const HTTPS = 32443;
const REGISTRY = `${HOST}:${HTTPS}`;
const PASSWORDS = { ci: "ci-password-7431", reader: "reader-password-5512", alice: "alice-password-9027", bob: "bob-password-3318" };

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-auth-"));
const stateFile = path.join(work, "state.json");
const hostsFile = path.join(work, "hosts");
const certDir = path.join(work, "certs");
let rendered: Rendered;
let adminPassword: string;

type Users = { name: string; password: string; access?: unknown }[];
const USERS: Users = [
    { name: "ci", password: PASSWORDS.ci, access: [{ repositories: ["team/*"], actions: ["pull", "push"] }] },
    { name: "reader", password: PASSWORDS.reader, access: [{ repositories: ["team/**"], actions: ["pull"] }] },
    { name: "alice", password: PASSWORDS.alice },
    { name: "bob", password: PASSWORDS.bob },
];

function stackFile(users: Users): string {
    const doc = {
        config: {
            "registry-kit:hostname": HOST,
            "registry-kit:docker": { namePrefix: PREFIX },
            "registry-kit:registry": { image: "registry-kit-test/registry:2" },
            "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: 32080 },
            "registry-kit:monitoring": { enabled: false },
            "registry-kit:auth": { users },
        },
    };
    const file = path.join(work, `Pulumi.auth-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

const request = (user: string, password: string, method = "GET", pathname = "/v2/", headers: Record<string, string> = {}, body?: Buffer) =>
    proxyRequest({ port: HTTPS, hostname: HOST, ca: rendered.outputs.caCertificate, user, password }, method, pathname, body, headers);

/** The registry's log since its start: one JSON object a line. */
function registryLog(): Record<string, unknown>[] {
    const r = run("docker", ["logs", `${PREFIX}-registry`], { allowFail: true });
    return (r.stdout + r.stderr)
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
}
/**
 * How many credentials the registry accepted at `GET /v2/` from the network: the proxy's verification
 * subrequests (one bcrypt each), when the test's own requests go to other paths. Registry 2.8 logs no
 * user name with them.
 */
const verifications = () =>
    registryLog().filter((e) => e.msg === "authorized request" && e["http.request.uri"] === "/v2/" && !String(e["http.request.remoteaddr"]).startsWith("127."))
        .length;
/** How many times the registry refused `user`'s password (one bcrypt verification each), asked under its verification name. */
const refused = (user: string) => registryLog().filter((e) => String(e.msg).startsWith(`error authenticating user "${user}@registry-kit-verify"`)).length;

function client(user: string, password: string) {
    return new RegistryClient({ work, hostsFile, certDir, registry: REGISTRY, user, password });
}

function fileOf(r: Rendered, container: string, file: string): string {
    return fs.readFileSync(path.join(r.dir, "files", container, file), "utf8");
}

describe("the proxy's verdict cache and permissions on a real Docker engine", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry", "nginx"]);
        rendered = render(stackFile(USERS), path.join(work, "render-1"), stateFile, "auth", ["registry-kit:auth"]);
        await deploy(rendered);
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`]);
        adminPassword = rendered.outputs.adminPassword;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), rendered.outputs.caCertificate);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
    }, 600_000);

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("pushes and pulls with skopeo through the proxy; a pull-only user may pull and gets 403 on push", () => {
        const tar = buildImageTar(work, PREFIX, [2 << 20, 1 << 20]);
        const digest = client("ci", PASSWORDS.ci).push(tar, "team/app:1");
        expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(client("reader", PASSWORDS.reader).pull("team/app:1", 2)).toBe(digest);
        expect(client("admin", adminPassword).pull("team/app:1", 2)).toBe(digest);
        // ci may push to team/* only.
        expect(() => client("ci", PASSWORDS.ci).push(tar, "other/app:1")).toThrow(/denied|403/i);
        expect(() => client("reader", PASSWORDS.reader).push(tar, "team/app:2")).toThrow(/denied|403/i);
        // The proxy's access log names the real user; the registry saw only the proxy's own user for the API calls.
        const access = run("docker", ["logs", `${PREFIX}-proxy`]).stdout;
        expect(access).toMatch(/"remote_user":"ci","method":"PUT","uri":"\/v2\/team\/app\/manifests\/1"[^\n]*"status":201/);
        expect(access).toMatch(/"remote_user":"reader","method":"(PUT|POST)","uri":"\/v2\/team\/app\/[^"]*"[^\n]*"status":403/);
    }, 300_000);

    it("answers 403 with the registry's error format, and lets any valid user ping /v2/", async () => {
        const denied = await request("reader", PASSWORDS.reader, "DELETE", "/v2/team/app/manifests/1");
        expect(denied.status).toBe(403);
        expect(JSON.parse(denied.body.toString()).errors[0].code).toBe("DENIED");
        expect(denied.headers["docker-distribution-api-version"]).toBe("registry/2.0");
        expect((await request("ci", PASSWORDS.ci, "GET", "/v2/_catalog")).status).toBe(403);
        const catalog = await request("admin", adminPassword, "GET", "/v2/_catalog");
        expect(catalog.status).toBe(200);
        expect(JSON.parse(catalog.body.toString()).repositories).toEqual(["team/app"]);
        expect((await request("reader", PASSWORDS.reader)).status).toBe(200);
        // A path that names another repository once normalised is refused, not forwarded as written.
        expect((await request("ci", PASSWORDS.ci, "GET", "/v2/team//app/manifests/1")).status).toBe(403);
        expect((await request("ci", PASSWORDS.ci, "GET", "/v2/team/x/../../other/app/manifests/1")).status).toBe(403);
    });

    it("verifies a user's password once for many requests, also for 16 concurrent first requests", async () => {
        const before = verifications();
        for (let i = 0; i < 30; i++) expect((await request("alice", PASSWORDS.alice, "GET", "/v2/team/app/tags/list")).status).toBe(200);
        expect(verifications() - before).toBe(1);

        const bobBefore = verifications();
        const results = await Promise.all(Array.from({ length: 16 }, () => request("bob", PASSWORDS.bob, "GET", "/v2/team/app/tags/list")));
        expect(results.map((r) => r.status)).toEqual(Array(16).fill(200));
        expect(verifications() - bobBefore).toBe(1);
    });

    it("never caches a refusal: a wrong password gets the registry's 401 every time, each one verified", async () => {
        const before = refused("alice");
        for (let i = 0; i < 5; i++) {
            const r = await request("alice", "wrong-password");
            expect(r.status).toBe(401);
            expect(r.headers["www-authenticate"]).toBe('Basic realm="registry-kit"');
            expect(r.headers["docker-distribution-api-version"]).toBe("registry/2.0");
            expect(r.headers["content-type"]).toMatch(/^application\/json/);
            expect(JSON.parse(r.body.toString())).toEqual({ errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }] });
        }
        expect(refused("alice") - before).toBe(5);
        // The right password still works after the refusals (they were not cached in its place).
        expect((await request("alice", PASSWORDS.alice)).status).toBe(200);
        // The catalog page's requests get no challenge (no browser dialog), the rest as before.
        const page = await request("alice", "wrong-password", "GET", "/v2/_catalog", { "X-Registry-Kit-Catalog": "1" });
        expect(page.status).toBe(401);
        expect(page.headers["www-authenticate"]).toBeUndefined();
    });

    it("keeps no credential in the cache's files: their key is the HMAC", () => {
        const dump = docker(
            "exec",
            `${PREFIX}-proxy`,
            "sh",
            "-c",
            'find /var/cache/nginx/registry-kit-verdicts -type f | while read f; do echo "== $f"; base64 -w0 "$f"; echo; done',
        );
        const files = dump
            .split("== ")
            .filter(Boolean)
            .map((chunk) => Buffer.from(chunk.split("\n")[1], "base64").toString("latin1"));
        expect(files.length).toBeGreaterThanOrEqual(4);
        for (const text of files) {
            expect(text).toMatch(/\nKEY: [0-9a-f]{64}\n/);
            for (const [user, password] of [...Object.entries(PASSWORDS), ["admin", adminPassword]]) {
                expect(text).not.toContain(password);
                expect(text).not.toContain(Buffer.from(`${user}:${password}`).toString("base64"));
                expect(text).not.toContain(`${user}:`);
            }
        }
    });

    it("refuses a changed or removed user's old credential right after the update, keeps the images, and plans no change on a second up", async () => {
        expect((await request("bob", PASSWORDS.bob)).status).toBe(200);
        const changed = USERS.filter((u) => u.name !== "bob").map((u) => (u.name === "alice" ? { ...u, password: "alice-new-password-2" } : u));
        const second = render(stackFile(changed), path.join(work, "render-2"), stateFile, "auth", ["registry-kit:auth"]);
        const result = await deploy(second, rendered);
        expect(result.replaced).toEqual(expect.arrayContaining([`${PREFIX}-registry`, `${PREFIX}-proxy`]));
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`]);
        expect((await request("alice", PASSWORDS.alice)).status).toBe(401);
        expect((await request("bob", PASSWORDS.bob)).status).toBe(401);
        expect((await request("alice", "alice-new-password-2")).status).toBe(200);
        expect(client("reader", PASSWORDS.reader).pull("team/app:1", 2)).toMatch(/^sha256:/);

        const third = render(stackFile(changed), path.join(work, "render-3"), stateFile, "auth", ["registry-kit:auth"]);
        const again = await deploy(third, second);
        for (const [name, plan] of Object.entries(again.plans)) expect(plan, name).toMatchObject({ action: "same", changed: [] });
        expect(again.replaced).toEqual([]);
        expect(again.updated).toEqual([]);
        rendered = third;
    }, 300_000);

    it("logs a Bearer token's subject, never the token, with the gitlab topology's proxy config", async () => {
        // GitLab itself cannot run here: the gitlab proxy's nginx.conf (token auth: logTokenSubject) in the
        // stand-in nginx, in front of this stack's registry, which refuses the token (it is no real one).
        const name = `${PREFIX}-jwt`;
        const conf = renderNginxConf({ hostname: HOST, upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0, logTokenSubject: true });
        docker("create", "--name", name, "--network", `${PREFIX}-net`, "--dns", "127.0.0.1", "-p", "127.0.0.1:32501:443", "registry-kit-test/nginx:1-njs");
        const files: [string, string][] = [
            [NGINX_CONFIG_PATH, conf],
            [NGINX_AUTH_JS_PATH, renderTokenSubjectJs()],
            [NGINX_CERT_PATH, fileOf(rendered, `${PREFIX}-proxy`, "etc/nginx/tls/server.crt")],
            [NGINX_KEY_PATH, fileOf(rendered, `${PREFIX}-proxy`, "etc/nginx/tls/server.key")],
        ];
        const tree = fs.mkdtempSync(path.join(work, "jwt-"));
        for (const [file, text] of files) {
            fs.mkdirSync(path.join(tree, path.dirname(file)), { recursive: true });
            fs.writeFileSync(path.join(tree, file), text);
        }
        docker("cp", `${tree}/.`, `${name}:/`);
        docker("start", name);
        const token = [
            { alg: "RS256", typ: "JWT" },
            { sub: "deploy-token-7", aud: "container_registry", access: [] },
        ]
            .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
            .concat("c2lnbmF0dXJlLW5vdC1jaGVja2Vk")
            .join(".");
        const send = () =>
            proxyRequest(
                { port: 32501, hostname: HOST, ca: rendered.outputs.caCertificate, user: "x", password: "x" },
                "GET",
                "/v2/team/app/tags/list",
                undefined,
                {
                    Authorization: `Bearer ${token}`,
                },
            ).catch(() => undefined);
        const answered = await eventually("the token-logging proxy", async () => (await send())?.status);
        expect(answered).toBe(401);
        const log = run("docker", ["logs", name])
            .stdout.split("\n")
            .filter((l) => l.includes('"uri":"/v2/team/app/tags/list"'));
        expect(log.length).toBeGreaterThan(0);
        const entry = JSON.parse(log[log.length - 1]);
        expect(entry).toMatchObject({ token_subject: "deploy-token-7", remote_user: "", status: 401, repository: "team/app" });
        expect(log.join("\n")).not.toContain(token.split(".")[1]);
        expect(log.join("\n")).not.toContain("c2lnbmF0dXJl");
        docker("rm", "-f", name);
    });

    it("shows no password, credential or key in any container's log", () => {
        const secrets = fileOf(rendered, `${PREFIX}-proxy`, "etc/nginx/registry-kit/auth-secrets.conf");
        const [proxySecret, verdictKey] = [...secrets.matchAll(/default "([^"]+)";/g)].map((m) => m[1]);
        expect(proxySecret).toMatch(/^[A-Za-z0-9]{48}$/);
        const values = [...Object.values(PASSWORDS), "alice-new-password-2", adminPassword, proxySecret, verdictKey];
        for (const [user, password] of [...Object.entries(PASSWORDS), ["admin", adminPassword]]) {
            const derived = proxiedPassword(proxySecret, user);
            values.push(Buffer.from(`${user}:${password}`).toString("base64"), derived, Buffer.from(`${user}:${derived}`).toString("base64"));
        }
        const names = docker("ps", "-a", "--filter", `name=^${PREFIX}-`, "--format", "{{.Names}}").split("\n").filter(Boolean);
        expect(names).toEqual(expect.arrayContaining([`${PREFIX}-registry`, `${PREFIX}-proxy`]));
        for (const name of names) {
            const r = run("docker", ["logs", name], { allowFail: true });
            for (const v of values) expect(r.stdout + r.stderr, `${name}'s log`).not.toContain(v);
        }
    });
});
