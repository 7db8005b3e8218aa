/**
 * The catalog page: its settings (bad input fails at preview with one line per problem), the nginx.conf
 * it renders (unchanged when off; the page, CORS for listed origins only, no Basic challenge for the
 * page's requests), and the files the program uploads into the proxy.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { proxyMetricsText } from "../../renderers/registry-alerts";
import { beforeAll, describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { CATALOG_ROOT, NginxConfInput, renderNginxConf } from "../../renderers/nginx-conf";
import { CATALOG_FILES, CATALOG_UPLOAD_PATHS, catalogFiles, renderCatalogConfig } from "../../renderers/catalog";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { unwrapSecrets } from "../../offline/engine";
import { ROOT } from "../render-cli";

const base = { hostname: "registry.example.com" };
const failure = (catalog: Record<string, unknown>, more: Record<string, unknown> = {}) =>
    settingsFailure({ ...base, ...more, catalog }, ["registry", "auth", "harbor", "gitlab"]);
const line = (setting: string, rest: string) => `registry-kit:catalog.${setting}: ${rest}`;
const only = (setting: string, rest: string) => `invalid stack configuration:\n${line(setting, rest)}`;
const ORIGIN_FORM =
    "an origin as a browser sends it: http:// or https://, a host, an optional port, no path, lower case (such as https://team.pages.example.com)";

describe("catalog settings", () => {
    it("default to off: no page, no CORS, no delete, at /ui/", () => {
        expect(parseSettings(base, []).catalog).toEqual({ enabled: false, path: "/ui/", allowedOrigins: [], delete: false });
    });

    it("accept a path, origins with ports, IPv6 and http, and delete with the registry's deletes on", () => {
        const s = parseSettings(
            {
                ...base,
                catalog: {
                    enabled: true,
                    path: "/images/catalog/",
                    allowedOrigins: ["https://pages.example.com", "http://127.0.0.1:8080", "https://[::1]:9443"],
                    delete: true,
                },
            },
            [],
        );
        expect(s.catalog).toMatchObject({ enabled: true, path: "/images/catalog/", delete: true });
    });

    it("refuse origins with a path, a trailing slash, upper case, a default port, another scheme, a wildcard or twice", () => {
        const cases: [string, string][] = [
            ["https://pages.example.com/", ORIGIN_FORM],
            ["https://pages.example.com/team", ORIGIN_FORM],
            ["https://Pages.example.com", ORIGIN_FORM],
            ["https://pages.example.com:443", ORIGIN_FORM],
            ["ftp://pages.example.com", ORIGIN_FORM],
            ["*", ORIGIN_FORM],
            ["null", ORIGIN_FORM],
            ["pages.example.com", ORIGIN_FORM],
        ];
        for (const [value, allowed] of cases) {
            expect(failure({ allowedOrigins: [value] }), value).toBe(only("allowedOrigins[0]", `got ${JSON.stringify(value)}; allowed: ${allowed}`));
        }
        expect(failure({ allowedOrigins: ["https://a.example.com", "https://a.example.com"] })).toBe(
            only("allowedOrigins[1]", 'got "https://a.example.com"; allowed: an origin not listed twice'),
        );
    });

    it("refuse paths that are not one, or that the proxy already serves", () => {
        const form = "a path such as /ui/: starts and ends with '/', segments of letters, digits, '.', '_', '~', '-' (no '.' or '..')";
        for (const p of ["ui", "/ui", "/", "/a b/", "/../", "/ui/;/", "//"]) {
            expect(failure({ enabled: true, path: p }), p).toBe(only("path", `got ${JSON.stringify(p)}; allowed: ${form}`));
        }
        expect(failure({ enabled: true, path: "/v2/ui/" })).toBe(only("path", 'got "/v2/ui/"; allowed: a path outside /v2/ (the proxy serves that itself)'));
        expect(failure({ enabled: true, path: "/.well-known/x/" })).toBe(
            only("path", 'got "/.well-known/x/"; allowed: a path outside /.well-known/ (the proxy serves that itself)'),
        );
    });

    it("refuse delete without the page, delete the registry refuses, other topologies, and say every problem at once", () => {
        expect(failure({ delete: true })).toBe(only("delete", "got true; allowed: false while catalog.enabled is false (it shows the page's delete buttons)"));
        expect(failure({ enabled: true, delete: true }, { registry: { deleteEnabled: false } })).toBe(
            only("delete", "got true; allowed: false while registry.deleteEnabled is false (the registry refuses deletes)"),
        );
        const gitlab = failure(
            { enabled: true, allowedOrigins: ["https://a.example.com"] },
            { topology: "gitlab", gitlab: { externalUrl: "https://gitlab.example.com" } },
        );
        expect(gitlab).toContain(
            line(
                "enabled",
                "got true; allowed: false with topology gitlab (the page signs in with htpasswd users, which only small-team has; use GitLab's own registry UI (Deploy > Container Registry))",
            ),
        );
        expect(gitlab).toContain(
            line(
                "allowedOrigins",
                "got a list; allowed: [] with topology gitlab (the page signs in with htpasswd users, which only small-team has; use GitLab's own registry UI (Deploy > Container Registry))",
            ),
        );
        expect(
            failure({ enabled: "yes", path: "ui", allowedOrigins: ["x"], dleete: true })
                .split("\n")
                .slice(1)
                .sort(),
        ).toEqual(
            [
                line("allowedOrigins[0]", `got "x"; allowed: ${ORIGIN_FORM}`),
                line("dleete", "unknown setting; allowed here: enabled, path, allowedOrigins, hostName, delete (a typo?)"),
                line("enabled", 'got "yes"; allowed: a value of type boolean'),
                line(
                    "path",
                    "got \"ui\"; allowed: a path such as /ui/: starts and ends with '/', segments of letters, digits, '.', '_', '~', '-' (no '.' or '..')",
                ),
            ].sort(),
        );
    });
});

const input: NginxConfInput = { hostname: "registry.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 31536000 };
const sha = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

describe("nginx.conf with the catalog", () => {
    // Hashes from main at 538d500, with only the access-log block changed since (the events work's JSON fields)
    // and client_body_buffer_size 1m in /v2/ (issue 15), each diffed line by line when merged: the catalog
    // and mirrors add nothing when off.
    it("is byte for byte what it was before the catalog existed when the catalog is off (538d500 with the new access-log fields and upload buffer)", () => {
        expect(sha(renderNginxConf(input))).toBe("4a372d617be94599fe120ab8030f7d2bed58abc8b4e153c3941608bb044df50e");
        expect(sha(renderNginxConf({ ...input, allowCidrs: ["10.0.0.0/8", "2001:db8::/32"], publicHttpsPort: 8443 }))).toBe(
            "ff45bca422cc40d094ba9e871ea5b6fa3b24272738a75dd705fa02cdb318cede",
        );
        expect(sha(renderNginxConf({ ...input, readOnlyRetryAfterSeconds: 300 }))).toBe("93f7ac19fcfbe6478761719945035056134d4564778458a0c70ac7c9807d5680");
        expect(sha(renderNginxConf({ ...input, corsOrigins: [] }))).toBe("4a372d617be94599fe120ab8030f7d2bed58abc8b4e153c3941608bb044df50e");
    });

    it("serves the page's files at its path with a strict CSP and the server's security headers, under the allowlist", () => {
        const conf = renderNginxConf({ ...input, allowCidrs: ["10.0.0.0/8"], catalogPath: "/ui/" });
        const page = conf.slice(conf.indexOf("location /ui/ {"), conf.lastIndexOf("location / {"));
        expect(page).toContain(`alias ${CATALOG_ROOT}/;`);
        expect(page).toContain(
            `add_header Content-Security-Policy "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'" always;`,
        );
        // A location with add_header of its own inherits none of the server's: they are repeated.
        for (const h of ["Strict-Transport-Security", "X-Content-Type-Options nosniff", "X-Frame-Options DENY", "Referrer-Policy no-referrer"])
            expect(page).toContain(h);
        expect(page).toContain("text/javascript js;");
        // allow/deny are the server's, so the page is behind the same allowlist as /v2/.
        const server = conf.slice(conf.indexOf("listen 443 ssl"));
        expect(server.indexOf("deny all;")).toBeLessThan(server.indexOf("location /ui/"));
        expect(conf).not.toContain("Access-Control-");
    });

    it("drops the registry's Basic challenge only for requests carrying the page's header", () => {
        const conf = renderNginxConf({ ...input, catalogPath: "/ui/" });
        expect(conf).toMatch(
            /map \$http_x_registry_kit_catalog \$registry_www_authenticate \{\n\s+'' \$upstream_http_www_authenticate;\n\s+default '';\n\s+\}/,
        );
        expect(conf).toContain("proxy_hide_header WWW-Authenticate;");
        expect(conf).toContain("add_header WWW-Authenticate $registry_www_authenticate always;");
    });

    it("answers CORS for exactly the listed origins, preflights from allowed addresses only, and varies on Origin", () => {
        const conf = renderNginxConf({ ...input, allowCidrs: ["10.0.0.0/8"], corsOrigins: ["https://pages.example.com", "http://127.0.0.1:27501"] });
        expect(conf).toMatch(
            /map \$http_origin \$cors_origin \{\n\s+default '';\n\s+'https:\/\/pages\.example\.com' \$http_origin;\n\s+'http:\/\/127\.0\.0\.1:27501' \$http_origin;\n\s+\}/,
        );
        expect(conf).toMatch(/geo \$cors_source_allowed \{\n\s+default 0;\n\s+10\.0\.0\.0\/8 1;\n\s+\}/);
        expect(conf).toContain("'Docker-Content-Digest, Link'");
        expect(conf).toContain("'Authorization, Accept, X-Registry-Kit-Catalog'");
        expect(conf).toContain("add_header Vary Origin always;");
        expect(conf).toContain("add_header Access-Control-Allow-Credentials $cors_credentials always;");
        expect(conf).toMatch(/location \/v2\/ \{\n(?:.*\n){0,2}\s+if \(\$cors_preflight = 1\) \{\n\s+return 204;/);
        // No allowlist: every address may preflight.
        expect(renderNginxConf({ ...input, corsOrigins: ["https://a.example.com"] })).toMatch(/geo \$cors_source_allowed \{\n\s+default 1;\n\s+\}/);
    });

    it("refuses a path or an origin that would break out of its directive", () => {
        expect(() => renderNginxConf({ ...input, catalogPath: "/ui/; return 200 x;/" })).toThrow(/catalogPath/);
        expect(() => renderNginxConf({ ...input, corsOrigins: ["https://a.example.com' $x; #"] })).toThrow(/corsOrigins/);
    });
});

describe("the page's files", () => {
    it("are the static files from templates/catalog/ and a config.json, with no request to another origin", () => {
        const files = catalogFiles({ pullHost: "registry.example.com:8443", deleteEnabled: false });
        expect(files.map((f) => f.file)).toEqual(CATALOG_UPLOAD_PATHS);
        expect(JSON.parse(files[3].content)).toEqual({ registry: "", pullHost: "registry.example.com:8443", delete: false });
        for (const f of CATALOG_FILES) {
            const text = fs.readFileSync(path.join(ROOT, "templates", "catalog", f), "utf8");
            // Nothing absolute: every script, style, font and call goes to the page's own origin.
            expect(text, f).not.toMatch(/(?:src|href)=["'](?:https?:)?\/\//);
            expect(text, f).not.toMatch(/@import|url\(/);
            // No inline script or style: the CSP forbids them.
            if (f === "index.html") {
                expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
                expect(text).not.toMatch(/\sstyle=|<style/);
                expect(text).not.toMatch(/\son[a-z]+=/);
            }
        }
        expect(() => renderCatalogConfig({ pullHost: "a b", deleteEnabled: false })).toThrow(/pullHost/);
    });
});

describe("the small-team program with the catalog", () => {
    let on: Evaluation;
    let off: Evaluation;
    const proxy = (ev: Evaluation) =>
        unwrapSecrets(ev.resources.find((r) => r.type === "docker:index/container:Container" && r.name === "rk-unit-proxy")!.inputs) as any;
    const config = (catalog?: Record<string, unknown>) => ({
        "registry-kit:hostname": "registry.example.com",
        "registry-kit:docker": { namePrefix: "rk-unit" },
        "registry-kit:proxy": { httpsPort: 8443 },
        ...(catalog ? { "registry-kit:catalog": catalog } : {}),
    });
    beforeAll(async () => {
        on = await evaluate(
            { config: config({ enabled: true, delete: true, allowedOrigins: ["https://pages.example.com"] }), secretKeys: [] },
            { stack: "unit" },
        );
        off = await evaluate({ config: config(), secretKeys: [] }, { stack: "unit" });
    }, 60_000);

    it("uploads the page and its config into the proxy, and serves it from the rendered nginx.conf", () => {
        const uploads = proxy(on).uploads as { file: string; content: string }[];
        for (const f of CATALOG_UPLOAD_PATHS) expect(uploads.map((u) => u.file)).toContain(f);
        const cfg = uploads.find((u) => u.file.endsWith("/config.json"))!;
        expect(JSON.parse(cfg.content)).toEqual({ registry: "", pullHost: "registry.example.com:8443", delete: true });
        const conf = uploads.find((u) => u.file === "/etc/nginx/nginx.conf")!.content;
        expect(conf).toContain("location /ui/ {");
        expect(conf).toContain("'https://pages.example.com' $http_origin;");
    });

    it("leaves the proxy exactly as before when off: no page files, the same nginx.conf as the stack without the section", async () => {
        const withSection = await evaluate({ config: config({ enabled: false }), secretKeys: [] }, { stack: "unit" });
        const files = (ev: Evaluation) => (proxy(ev).uploads as { file: string; content: string }[]).map((u) => u.file);
        const conf = (ev: Evaluation) => (proxy(ev).uploads as { file: string; content: string }[]).find((u) => u.file === "/etc/nginx/nginx.conf")!.content;
        expect(files(off).some((f) => f.startsWith(CATALOG_ROOT))).toBe(false);
        expect(files(withSection)).toEqual(files(off));
        // Each evaluation issues its own certificate (seconds apart): its expiry in the proxy's metrics differs.
        const sameCert = (text: string) => text.replace(/not_after_timestamp_seconds \d+/, "not_after_timestamp_seconds N");
        expect(sameCert(conf(withSection))).toBe(sameCert(conf(off)));
        const notAfter = Number(/not_after_timestamp_seconds (\d+)/.exec(conf(off))![1]);
        expect(sha(conf(off))).toBe(
            sha(
                renderNginxConf({
                    ...input,
                    upstream: conf(off).match(/http:\/\/([^;]+);/)![1],
                    publicHttpsPort: 8443,
                    metricsText: proxyMetricsText(notAfter),
                    basicAuth: { verdictCacheSeconds: 60 },
                }),
            ),
        );
    }, 60_000);
});
