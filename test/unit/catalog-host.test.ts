/**
 * The catalog page on a host name of its own (`catalog.hostName`): a server of its own in the proxy with
 * the page at `/` and no Registry API, the registry's host allowing the page's origin by CORS, the
 * certificate naming it; and what fails at preview. The browser test is test/e2e/catalog-host.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { unwrapSecrets } from "../../offline/engine";
import { settingsFailure } from "../settings-failure";
import { renderNginxConf } from "../../renderers/nginx-conf";

let ev: Evaluation;
const file = (c: string, p: string) => ev.files.find((x) => x.container === c && x.path === p)!.content;

beforeAll(async () => {
    ev = await evaluate(
        {
            config: {
                "registry-kit:hostname": "registry.example.com",
                "registry-kit:docker": { namePrefix: "rk-unit" },
                "registry-kit:proxy": { httpsPort: 8443, allowCidrs: ["10.0.0.0/8"] },
                "registry-kit:catalog": { enabled: true, hostName: "Images.example.com", allowedOrigins: ["https://pages.example.com"] },
            },
            secretKeys: [],
        },
        { stack: "unit" },
    );
}, 60_000);

/** The text of the server block whose server_name is `name`. */
const server = (conf: string, name: string) => {
    const start = conf.lastIndexOf("server {", conf.indexOf(`server_name ${name};`));
    const next = conf.indexOf("\n    server {", start + 1);
    return conf.slice(start, next === -1 ? undefined : next);
};

describe("the catalog page on its own host name", () => {
    it("gets a server of its own: the page at /, the allowlist, no Registry API; the registry's host has no page", () => {
        const conf = file("rk-unit-proxy", "/etc/nginx/nginx.conf");
        const page = server(conf, "Images.example.com");
        expect(page).toContain("listen 443 ssl;");
        expect(page).toContain("location / {\n            alias /usr/share/registry-kit/catalog/;");
        expect(page).toContain("connect-src 'self' https://registry.example.com:8443;");
        expect(page).toContain("allow 10.0.0.0/8;\n        deny all;");
        expect(page).not.toContain("location /v2/");
        expect(page).not.toContain("proxy_pass");
        const registry = server(conf, "registry.example.com");
        expect(registry).toContain("location /v2/");
        expect(registry).not.toContain("/usr/share/registry-kit/catalog");
    });

    it("the registry's host allows the page's origin (and the listed one) by CORS; the page calls it", () => {
        const conf = file("rk-unit-proxy", "/etc/nginx/nginx.conf");
        expect(conf).toMatch(
            /map \$http_origin \$cors_origin \{\n\s+default '';\n\s+'https:\/\/pages.example.com' \$http_origin;\n\s+'https:\/\/images.example.com:8443' \$http_origin;\n\s+\}/,
        );
        expect(JSON.parse(file("rk-unit-proxy", "/usr/share/registry-kit/catalog/config.json"))).toEqual({
            registry: "https://registry.example.com:8443",
            pullHost: "registry.example.com:8443",
            delete: false,
        });
    });

    it("the self-signed certificate names it, and containers on the network reach the proxy by it", () => {
        const csr = unwrapSecrets(ev.resources.find((r) => r.name === "rk-unit-tls-server-csr")!.inputs) as any;
        expect(csr.dnsNames).toEqual(["registry.example.com", "Images.example.com"]);
        const proxy = unwrapSecrets(ev.resources.find((r) => r.type === "docker:index/container:Container" && r.name === "rk-unit-proxy")!.inputs) as any;
        expect(proxy.networksAdvanced[0].aliases).toEqual(["proxy", "registry.example.com", "Images.example.com"]);
    });

    it("in ACME mode certbot requests it as an extra domain, once", async () => {
        const acme = await evaluate(
            {
                config: {
                    "registry-kit:hostname": "registry.example.com",
                    "registry-kit:docker": { namePrefix: "rk-unit" },
                    "registry-kit:tls": { mode: "acme", extraSans: ["images.example.com"], acme: { email: "ops@example.com", directory: "staging" } },
                    "registry-kit:catalog": { enabled: true, hostName: "images.example.com" },
                },
                secretKeys: [],
            },
            { stack: "unit" },
        );
        const certbot = unwrapSecrets(acme.resources.find((r) => r.type === "docker:index/container:Container" && r.name === "rk-unit-certbot")!.inputs) as any;
        expect(certbot.envs).toContain("RK_DOMAINS=registry.example.com,images.example.com");
    }, 60_000);

    it("the renderer refuses a page both at a path and on a name, on the registry's name, or without the registry's origin", () => {
        const base = { hostname: "r.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0 };
        expect(() =>
            renderNginxConf({ ...base, catalogPath: "/ui/", catalogHostname: "p.example.com", catalogRegistryOrigin: "https://r.example.com" }),
        ).toThrow("not both");
        expect(() => renderNginxConf({ ...base, catalogHostname: "R.example.com", catalogRegistryOrigin: "https://r.example.com" })).toThrow("both answer");
        expect(() => renderNginxConf({ ...base, catalogHostname: "p.example.com" })).toThrow("catalogRegistryOrigin");
    });
});

describe("catalog.hostName that fails at preview", () => {
    const failure = (catalog: Record<string, unknown>, more: Record<string, unknown> = {}) =>
        settingsFailure({ hostname: "registry.example.com", ...more, catalog }, [])
            .split("\n")
            .slice(1);

    it("not a name, without the page, the registry's own name, a mirror's", () => {
        expect(failure({ enabled: true, hostName: "https://images.example.com" })).toEqual([
            'registry-kit:catalog.hostName: got "https://images.example.com"; allowed: a DNS name such as registry.example.com, or an IP address',
        ]);
        expect(failure({ hostName: "images.example.com" })).toEqual([
            'registry-kit:catalog.hostName: got "images.example.com"; allowed: none while catalog.enabled is false (it is where the page is served)',
        ]);
        expect(failure({ enabled: true, hostName: "Registry.example.com" })).toEqual([
            'registry-kit:catalog.hostName: got "Registry.example.com"; allowed: a name other than hostname (to serve the page on the registry\'s host, leave hostName out and set path)',
        ]);
    });

    it("token topologies point to GitLab's and Harbor's own UI", () => {
        const gitlab = settingsFailure(
            {
                topology: "gitlab",
                hostname: "registry.example.com",
                gitlab: { externalUrl: "https://gitlab.example.com" },
                catalog: { enabled: true, hostName: "images.example.com" },
            },
            ["gitlab"],
        );
        expect(gitlab).toContain(
            "registry-kit:catalog.enabled: got true; allowed: false with topology gitlab (the page signs in with htpasswd users, which only small-team has; use GitLab's own registry UI (Deploy > Container Registry))",
        );
        expect(gitlab).toContain('registry-kit:catalog.hostName: got "images.example.com"; allowed: none with topology gitlab');
    });
});
