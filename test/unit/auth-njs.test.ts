/**
 * The proxy's authentication: the njs module (templates/registry-kit-auth.js) run under plain node with
 * crafted inputs, the files its renderer writes, the nginx.conf it plugs into, and the `auth` settings'
 * bad-input lines.
 */
import { createHmac } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { proxiedPassword } from "../../renderers/htpasswd";
import { renderAuthJs, renderAuthSecrets } from "../../renderers/nginx-auth";
import { renderNginxConf } from "../../renderers/nginx-conf";
import { parseSettings } from "../../stacks/config";
import { settingsFailure } from "../settings-failure";

const ACCESS = {
    admin: [{ repositories: ["**"], actions: ["pull", "push", "delete", "catalog"] as const }],
    ci: [{ repositories: ["team/*"], actions: ["pull", "push"] as const }],
    reader: [{ repositories: ["team/**", "base"], actions: ["pull"] as const }],
};
type Module = {
    credentialKey(secret: string, authorization: string | undefined): string;
    requestAction(method: string, uri: string): { kind: string; action: string | undefined; repository: string };
    patternMatches(pattern: string, name: string): boolean;
    permitted(access: unknown, user: string, method: string, uri: string): boolean;
    samePath(requestUri: string, uri: string): boolean;
    tokenSubject(authorization: string | undefined): string;
    verifyAuthorization(authorization: string | undefined, suffix: string): string;
    upstreamAuthorization(secret: string, user: string): string;
};
let njs: Module;
let rendered: string;

beforeAll(async () => {
    rendered = renderAuthJs(ACCESS as any);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rk-auth-njs-"));
    const file = path.join(dir, "auth.mjs");
    fs.writeFileSync(file, rendered);
    njs = (await import(pathToFileURL(file).href)).default;
});

const jwt = (claims: unknown) =>
    `Bearer ${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;

describe("the njs module", () => {
    it("keys verdicts by HMAC-SHA256(secret, Authorization), never by the credential", () => {
        const header = "Basic " + Buffer.from("ci:hunter2-password").toString("base64");
        const key = njs.credentialKey("k".repeat(64), header);
        expect(key).toBe(createHmac("sha256", "k".repeat(64)).update(header).digest("hex"));
        expect(key).toMatch(/^[0-9a-f]{64}$/);
        expect(njs.credentialKey("j".repeat(64), header)).not.toBe(key);
        expect(njs.credentialKey("k".repeat(64), header + "x")).not.toBe(key);
        expect(njs.credentialKey("k".repeat(64), undefined)).toBe(createHmac("sha256", "k".repeat(64)).update("").digest("hex"));
    });

    it("asks the registry about the client's password under the verification name, and sends on the derived login", () => {
        const basic = (s: string) => "Basic " + Buffer.from(s).toString("base64");
        expect(njs.verifyAuthorization(basic("ci:pa:ss w"), "@registry-kit-verify")).toBe(basic("ci@registry-kit-verify:pa:ss w"));
        expect(njs.verifyAuthorization(basic("bob@corp.example:pw"), "@v")).toBe(basic("bob@corp.example@v:pw"));
        expect(njs.verifyAuthorization("basic " + Buffer.from("ci:pw").toString("base64"), "@v")).toBe(basic("ci@v:pw"));
        for (const bad of [undefined, "", "Bearer abc.def.ghi", basic("no-colon"), basic(":pw"), "Basic !!!"]) {
            expect(njs.verifyAuthorization(bad, "@v"), String(bad)).toBe("");
        }
        // The same derived password the registry's htpasswd file was written with.
        const secret = "s".repeat(48);
        expect(njs.upstreamAuthorization(secret, "ci")).toBe(basic(`ci:${proxiedPassword(secret, "ci")}`));
        expect(njs.upstreamAuthorization(secret, "ci")).not.toBe(njs.upstreamAuthorization("t".repeat(48), "ci"));
    });

    it("reads the action and repository from Distribution's routes", () => {
        expect(njs.requestAction("GET", "/v2/")).toMatchObject({ kind: "ping" });
        expect(njs.requestAction("GET", "/v2/_catalog")).toEqual({ kind: "catalog", action: "catalog", repository: "" });
        expect(njs.requestAction("HEAD", "/v2/team/app/manifests/v1")).toEqual({ kind: "repository", action: "pull", repository: "team/app" });
        expect(njs.requestAction("POST", "/v2/team/app/blobs/uploads/")).toEqual({ kind: "repository", action: "push", repository: "team/app" });
        expect(njs.requestAction("PATCH", "/v2/team/app/blobs/uploads/4f2e-uuid")).toMatchObject({ action: "push", repository: "team/app" });
        expect(njs.requestAction("PUT", "/v2/team/blobs/x/manifests/latest")).toMatchObject({ action: "push", repository: "team/blobs/x" });
        expect(njs.requestAction("DELETE", "/v2/a/blobs/sha256:abc")).toEqual({ kind: "repository", action: "delete", repository: "a" });
        expect(njs.requestAction("GET", "/v2/a/tags/list")).toMatchObject({ action: "pull", repository: "a" });
        expect(njs.requestAction("GET", "/v2/a/referrers/sha256:abc")).toMatchObject({ action: "pull", repository: "a" });
        expect(njs.requestAction("GET", "/v2/Upper/manifests/x")).toMatchObject({ kind: "other" });
        expect(njs.requestAction("TRACE", "/v2/a/manifests/x")).toMatchObject({ action: undefined });
    });

    it("matches `*` inside one component and `**` over whole components", () => {
        expect(njs.patternMatches("team/*", "team/app")).toBe(true);
        expect(njs.patternMatches("team/*", "team/app/sub")).toBe(false);
        expect(njs.patternMatches("team/*", "team")).toBe(false);
        expect(njs.patternMatches("team/*", "teamx/app")).toBe(false);
        expect(njs.patternMatches("team/**", "team/app/sub")).toBe(true);
        expect(njs.patternMatches("team/**", "team")).toBe(false);
        expect(njs.patternMatches("**", "a/b/c")).toBe(true);
        expect(njs.patternMatches("**/cache", "a/b/cache")).toBe(true);
        expect(njs.patternMatches("**/cache", "cache")).toBe(false);
        expect(njs.patternMatches("app-*", "app-web")).toBe(true);
        expect(njs.patternMatches("app.x", "appyx")).toBe(false);
    });

    it("permits per user, method and path; any valid user may ping, nobody unlisted gets anything", () => {
        const a = ACCESS as unknown;
        expect(njs.permitted(a, "ci", "GET", "/v2/")).toBe(true);
        expect(njs.permitted(a, "ci", "PUT", "/v2/team/app/manifests/v1")).toBe(true);
        expect(njs.permitted(a, "ci", "DELETE", "/v2/team/app/manifests/v1")).toBe(false);
        expect(njs.permitted(a, "ci", "GET", "/v2/other/manifests/v1")).toBe(false);
        expect(njs.permitted(a, "ci", "GET", "/v2/_catalog")).toBe(false);
        expect(njs.permitted(a, "reader", "GET", "/v2/team/a/b/manifests/v1")).toBe(true);
        expect(njs.permitted(a, "reader", "HEAD", "/v2/base/blobs/sha256:abc")).toBe(true);
        expect(njs.permitted(a, "reader", "POST", "/v2/base/blobs/uploads/")).toBe(false);
        expect(njs.permitted(a, "reader", "PATCH", "/v2/team/a/blobs/uploads/uuid")).toBe(false);
        expect(njs.permitted(a, "admin", "GET", "/v2/_catalog")).toBe(true);
        expect(njs.permitted(a, "admin", "DELETE", "/v2/x/manifests/sha256:abc")).toBe(true);
        // Paths that are no route reach the registry only for users with every repository.
        expect(njs.permitted(a, "admin", "GET", "/v2/nonsense")).toBe(true);
        expect(njs.permitted(a, "ci", "GET", "/v2/nonsense")).toBe(false);
        expect(njs.permitted(a, "ci@registry-kit-verify", "GET", "/v2/team/app/manifests/v1")).toBe(false);
        expect(njs.permitted(a, "constructor", "GET", "/v2/")).toBe(false);
        expect(njs.permitted(a, "", "GET", "/v2/")).toBe(false);
        expect(njs.permitted(a, "admin", "TRACE", "/v2/x/manifests/y")).toBe(false);
    });

    it("refuses raw paths that the registry would read as another repository", () => {
        expect(njs.samePath("/v2/team/app/manifests/v1?x=1", "/v2/team/app/manifests/v1")).toBe(true);
        expect(njs.samePath("/v2/team/app/blobs/sha256%3Aabc", "/v2/team/app/blobs/sha256:abc")).toBe(true);
        expect(njs.samePath("/v2/team/x/../../other/manifests/v1", "/v2/other/manifests/v1")).toBe(false);
        expect(njs.samePath("/v2/team//app/manifests/v1", "/v2/team/app/manifests/v1")).toBe(false);
        expect(njs.samePath("/v2/team/%2e%2e/other/manifests/v1", "/v2/other/manifests/v1")).toBe(false);
        expect(njs.samePath("/v2/%zz", "/v2/%zz")).toBe(false);
    });

    it("reads a Bearer token's subject for the log, and nothing from anything else", () => {
        expect(njs.tokenSubject(jwt({ sub: "gitlab-ci-token", aud: "container_registry" }))).toBe("gitlab-ci-token");
        expect(njs.tokenSubject(jwt({ sub: "root\n\u00e9x" }))).toBe("root??x");
        expect(njs.tokenSubject(jwt({ sub: 42 }))).toBe("");
        expect(njs.tokenSubject(jwt({ iss: "gitlab" }))).toBe("");
        expect(njs.tokenSubject("Bearer not-a-jwt")).toBe("");
        expect(njs.tokenSubject("Bearer a.!!!.c")).toBe("");
        expect(njs.tokenSubject("Bearer e30.bm90IGpzb24.c2ln")).toBe("");
        expect(njs.tokenSubject("Basic " + Buffer.from("a:b").toString("base64"))).toBe("");
        expect(njs.tokenSubject(undefined)).toBe("");
        expect(njs.tokenSubject(jwt({ sub: "x".repeat(500) }))).toHaveLength(128);
    });
});

describe("the rendered files", () => {
    it("put the users' access into the module, sorted, and refuse what the proxy cannot enforce", () => {
        expect(rendered).toContain('var ACCESS = {"admin":');
        expect(renderAuthJs({ b: [], a: [] })).toContain('var ACCESS = {"a":[],"b":[]};');
        expect(() => renderAuthJs({ ci: [{ repositories: ["Team/*"], actions: ["pull"] }] })).toThrow(/repository pattern "Team\/\*" of user ci/);
        expect(() => renderAuthJs({ ci: [{ repositories: ["a"], actions: ["read" as any] }] })).toThrow(/action "read" of user ci/);
        expect(() => renderAuthJs({ "a b": [] })).toThrow(/user name/);
    });

    it("write the secrets as two variables, refusing values that could break out of their quotes", () => {
        const text = renderAuthSecrets({ proxySecret: "p".repeat(48), verdictKey: "a1".repeat(32) });
        expect(text).toContain(`map $request_method $registry_kit_proxy_secret {\n    default "${"p".repeat(48)}";`);
        expect(text).toContain(`map $request_method $registry_kit_verdict_secret {\n    default "${"a1".repeat(32)}";`);
        expect(() => renderAuthSecrets({ proxySecret: 'x";'.repeat(12), verdictKey: "a".repeat(40) })).toThrow(/proxy secret/);
        expect(() => renderAuthSecrets({ proxySecret: "p".repeat(48), verdictKey: "short" })).toThrow(/verdict key/);
    });

    it("plug auth_request, the verdict cache and the registry-style errors into nginx.conf", () => {
        const base = { hostname: "registry.test", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0 };
        const conf = renderNginxConf({ ...base, basicAuth: { verdictCacheSeconds: 45 } });
        expect(conf).toContain("load_module modules/ngx_http_js_module.so;");
        expect(conf).toContain("include /etc/nginx/registry-kit/auth-secrets.conf;");
        expect(conf).toMatch(
            /location \/v2\/ \{[^}]*auth_request \/_registry_kit_auth;[^}]*proxy_set_header Authorization \$registry_kit_upstream_authorization;/,
        );
        expect(conf).toMatch(/location = \/_registry_kit_verify \{[^}]*proxy_set_header Authorization \$registry_kit_verify_authorization;/);
        expect(conf).toContain("proxy_cache_key $registry_kit_verdict_key;");
        expect(conf).toContain("proxy_cache_valid 200 45s;");
        expect(conf).not.toMatch(/proxy_cache_valid (?!200 )/);
        expect(conf).toContain("proxy_cache_lock on;");
        expect(conf).toContain(`return 401 '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}\\n';`);
        expect(conf).toContain(`return 403 '{"errors":[{"code":"DENIED",`);
        expect(conf).toContain("'' $registry_kit_challenge;");
        expect(conf).not.toContain("token_subject");
        // 0: every request is checked at the registry, permissions still apply.
        const uncached = renderNginxConf({ ...base, basicAuth: { verdictCacheSeconds: 0 } });
        expect(uncached).toContain("auth_request /_registry_kit_auth;");
        expect(uncached).not.toContain("proxy_cache");
        // Without basicAuth nothing of it, and no njs.
        const plain = renderNginxConf(base);
        expect(plain).not.toMatch(/auth_request|js_|load_module|registry_kit_/);
        expect(() => renderNginxConf({ ...base, basicAuth: { verdictCacheSeconds: -1 } })).toThrow(/verdictCacheSeconds -1/);
        // Token auth: the subject in the log only.
        const token = renderNginxConf({ ...base, logTokenSubject: true });
        expect(token).toContain("js_set $registry_kit_token_subject registry_kit.logSubject;");
        expect(token).toContain(`'"token_subject":"$registry_kit_token_subject",'`);
        expect(token).not.toContain("auth_request");
    });
});

describe("auth settings", () => {
    const base = { hostname: "registry.example.com" };
    const failure = (auth: unknown) => settingsFailure({ ...base, auth }, ["auth"]);

    it("default to a 60-second verdict cache and users with every permission", () => {
        expect(parseSettings(base).auth.verdictCacheSeconds).toBe(60);
        const s = parseSettings(
            { ...base, auth: { users: [{ name: "ci", password: "pw-1", access: [{ repositories: ["team/*"], actions: ["pull", "push"] }] }] } },
            ["auth"],
        );
        expect(s.auth.users[0].access).toEqual([{ repositories: ["team/*"], actions: ["pull", "push"] }]);
    });

    it("fail with one line per bad pattern, action, reserved name or lifetime", () => {
        const msg = failure({
            verdictCacheSeconds: 7200,
            users: [
                { name: "ci@registry-kit-verify", password: "pw-1" },
                { name: "ci", password: "pw-2", access: [{ repositories: ["Team/*", "a/**b"], actions: ["pull", "read"] }] },
                { name: "ro", password: "pw-3", access: [{ repositories: [], actions: [] }] },
            ],
        });
        const lines = msg.split("\n").filter((l) => l.startsWith("registry-kit:"));
        expect(lines).toEqual([
            'registry-kit:auth.users[0].name: got "ci@registry-kit-verify"; allowed: a user name not ending with @registry-kit-verify (the name under which the proxy verifies a user\'s password)',
            'registry-kit:auth.users[1].access[0].repositories[0]: got "Team/*"; allowed: a repository pattern: components of lowercase letters and digits separated by `.`, `_`, `__` or `-`, `*` within a component, `**` as one',
            'registry-kit:auth.users[1].access[0].repositories[1]: got "a/**b"; allowed: a repository pattern: `**` only as a whole component (team/**)',
            'registry-kit:auth.users[1].access[0].actions[1]: got "read"; allowed: one of "pull", "push", "delete", "catalog"',
            "registry-kit:auth.users[2].access[0].repositories: got a list; allowed: at least one repository pattern",
            "registry-kit:auth.users[2].access[0].actions: got a list; allowed: at least one of pull, push, delete, catalog",
            "registry-kit:auth.verdictCacheSeconds: got 7200; allowed: a number of seconds from 0 to 3600",
        ]);
        expect(msg).not.toContain("pw-");
        expect(failure({ adminUser: "root@registry-kit-verify" })).toContain('registry-kit:auth.adminUser: got "root@registry-kit-verify"');
    });
});
