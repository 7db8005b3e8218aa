/**
 * Pure renderers: registry config (both dialects), nginx.conf, prometheus.yml, htpasswd, templates.
 */
import * as bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { bcryptSalt, renderHtpasswd } from "../../renderers/htpasswd";
import { renderNginxConf } from "../../renderers/nginx-conf";
import { prometheusConfig, registryScrapeJob, renderPrometheusConfig } from "../../renderers/prometheus-config";
import { DIALECTS, deepMerge, notificationEndpointsYaml, registryConfig, RegistryConfigInput, renderRegistryConfig } from "../../renderers/registry-config";
import { renderTemplate } from "../../renderers/template";

const registryInput: RegistryConfigInput = {
    dialect: "v3",
    storage: { kind: "filesystem", rootDirectory: "/var/lib/registry" },
    deleteEnabled: true,
    uploadPurging: { enabled: true, age: "168h", interval: "24h", dryrun: false },
    logLevel: "info",
    htpasswdPath: "/auth/htpasswd",
};

describe("registry config", () => {
    it("has storage, auth, purging, health, debug metrics and JSON logs", () => {
        const c = parse(renderRegistryConfig(registryInput));
        expect(c.version).toBe(0.1);
        expect(c.log).toEqual({ level: "info", formatter: "json", fields: { service: "registry" }, accesslog: { disabled: true } });
        expect(c.storage.filesystem).toEqual({ rootdirectory: "/var/lib/registry" });
        expect(c.storage.delete).toEqual({ enabled: true });
        expect(c.storage.maintenance.uploadpurging).toEqual({ enabled: true, age: "168h", interval: "24h", dryrun: false });
        expect(c.auth).toEqual({ htpasswd: { realm: "registry-kit", path: "/auth/htpasswd" } });
        expect(c.health.storagedriver).toEqual({ enabled: true, interval: "10s", threshold: 3 });
        expect(c.http.addr).toBe(":5000");
        // Loopback only: the debug server also serves /debug/pprof/ and /debug/vars; the metrics gate
        // passes /metrics and /debug/health on to the network.
        expect(c.http.debug).toEqual({ addr: "127.0.0.1:5002", prometheus: { enabled: true, path: "/metrics" } });
        // The shared secret is passed as REGISTRY_HTTP_SECRET, never written into the file.
        expect(c.http.secret).toBeUndefined();
    });

    it("keeps the dialects' differences in one table", () => {
        expect(DIALECTS.v2.configPath).toBe("/etc/docker/registry/config.yml");
        expect(DIALECTS.v3.configPath).toBe("/etc/distribution/config.yml");
        expect(renderRegistryConfig({ ...registryInput, dialect: "v2" })).toBe(renderRegistryConfig(registryInput));
    });

    it("leaves auth out when no htpasswd is given", () => {
        expect(registryConfig({ ...registryInput, htpasswdPath: undefined }).auth).toBeUndefined();
    });

    it("merges the raw escape hatch over the generated config", () => {
        const c = registryConfig({
            ...registryInput,
            extraConfig: { http: { headers: { "X-Extra": ["1"] } }, storage: { delete: { enabled: false } }, notifications: { endpoints: [] } },
        }) as any;
        expect(c.http.headers).toEqual({ "X-Content-Type-Options": ["nosniff"], "X-Extra": ["1"] });
        expect(c.http.addr).toBe(":5000");
        expect(c.storage.delete).toEqual({ enabled: false });
        expect(c.notifications).toEqual({ endpoints: [] });
        expect(deepMerge({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    });

    it("renders byte-identical text for the same input", () => {
        expect(renderRegistryConfig(registryInput)).toBe(renderRegistryConfig({ ...registryInput }));
    });
});

describe("nginx.conf", () => {
    const conf = renderNginxConf({ hostname: "registry.example.com", upstream: "registry:5000", publicHttpsPort: 8443, allowCidrs: [], hstsMaxAge: 31536000 });

    it("has what the Distribution recipe requires", () => {
        expect(conf).toContain("client_max_body_size 0;");
        expect(conf).toContain("chunked_transfer_encoding on;");
        expect(conf).toContain("proxy_set_header Host $http_host;");
        expect(conf).toContain("proxy_set_header X-Forwarded-Proto $scheme;");
        expect(conf).toContain("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
        expect(conf).toContain("proxy_read_timeout 900s;");
        expect(conf).toContain("add_header Docker-Distribution-Api-Version $docker_distribution_api_version always;");
        expect(conf).toMatch(/map \$upstream_http_docker_distribution_api_version \$docker_distribution_api_version \{\s+'' 'registry\/2\.0';/);
    });

    it("streams bodies instead of spooling them", () => {
        expect(conf).toContain("proxy_http_version 1.1;");
        expect(conf).toContain("proxy_request_buffering off;");
        expect(conf).toContain("proxy_buffering off;");
        expect(conf).toContain("proxy_buffer_size 64k;");
        expect(conf).toContain("proxy_buffers 4 64k;");
        // Uploads go upstream in 1 MB writes instead of 16 KB ones (docs/performance.md, strace).
        expect(conf).toMatch(/location \/v2\/ \{[^}]*proxy_request_buffering off;[^}]*client_body_buffer_size 1m;/);
    });

    it("serves the registry over HTTP/1.1 only (HTTP/2 uploads are slower, docs/performance.md)", () => {
        expect(conf).toContain("listen 443 ssl default_server;");
        expect(conf).not.toMatch(/http2/);
    });

    it("speaks TLS 1.2/1.3 only, with HSTS and security headers", () => {
        expect(conf).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
        expect(conf).not.toMatch(/TLSv1(\.1)?[ ;]/);
        expect(conf).toContain('add_header Strict-Transport-Security "max-age=31536000" always;');
        expect(conf).toContain("add_header X-Frame-Options DENY always;");
        expect(conf).toContain("server_tokens off;");
    });

    it("redirects HTTP to the public HTTPS port but serves ACME challenges", () => {
        expect(conf).toContain("return 301 https://$host:8443$request_uri;");
        expect(conf).toMatch(/location \/\.well-known\/acme-challenge\/ \{\s+root \/var\/www\/acme;/);
        const on443 = renderNginxConf({ hostname: "r.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0 });
        expect(on443).toContain("return 301 https://$host$request_uri;");
        expect(on443).not.toContain("Strict-Transport-Security");
    });

    it("allows only the listed sources when an allowlist is set", () => {
        expect(conf).not.toContain("deny all;\n\n        location /v2/");
        const limited = renderNginxConf({
            hostname: "r.example.com",
            upstream: "registry:5000",
            publicHttpsPort: 443,
            allowCidrs: ["10.0.0.0/8", "192.168.1.7"],
            hstsMaxAge: 0,
        });
        expect(limited).toMatch(/allow 10\.0\.0\.0\/8;\s+allow 192\.168\.1\.7;\s+deny all;/);
    });

    it("refuses values that could break out of a directive", () => {
        const ok = { hostname: "r.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0 };
        expect(() => renderNginxConf({ ...ok, hostname: "r.example.com; include /etc/passwd" })).toThrow(/hostname/);
        expect(() => renderNginxConf({ ...ok, allowCidrs: ["10.0.0.0/8; allow all"] })).toThrow(/allowCidrs/);
        expect(() => renderNginxConf({ ...ok, upstream: "registry:5000;" })).toThrow(/upstream/);
        expect(() => renderNginxConf({ ...ok, publicHttpsPort: 0 })).toThrow(/publicHttpsPort/);
    });
});

describe("templates", () => {
    it("write values as given, without HTML escaping", () => {
        // nginx.conf's values are validated; the template mechanism itself must never escape.
        const name = `a&b<c>"d'e`;
        const site = { listen: "443 ssl default_server", serverName: name, upstream: "x:1" };
        const text = renderTemplate("nginx.conf", { hostname: name, sites: [site], upstream: "x:1", httpsPortSuffix: "", allowCidrs: [], acmeWebroot: "/w" });
        expect(text).toContain(`server_name a&b<c>"d'e;`);
        expect(text).not.toContain("&amp;");
    });
});

describe("prometheus.yml", () => {
    it("scrapes itself and the registry's debug server", () => {
        const c = parse(renderPrometheusConfig({ scrapeInterval: "15s", jobs: [registryScrapeJob(["registry:5001"])] }));
        expect(c.global).toEqual({ scrape_interval: "15s", evaluation_interval: "15s" });
        expect(c.scrape_configs).toEqual([
            { job_name: "prometheus", metrics_path: "/metrics", scheme: "http", static_configs: [{ targets: ["localhost:9090"] }] },
            { job_name: "registry", metrics_path: "/metrics", scheme: "http", static_configs: [{ targets: ["registry:5001"] }] },
        ]);
        expect((prometheusConfig({ scrapeInterval: "1m", jobs: [], externalLabels: { site: "a" } }) as any).global.external_labels).toEqual({ site: "a" });
    });
});

describe("htpasswd", () => {
    const seed = "0123456789abcdefghijklmnopqrstuv";
    const users = [
        { name: "admin", password: "correct horse" },
        { name: "ci", password: "battery staple" },
    ];

    it("writes bcrypt entries the registry verifies", () => {
        const lines = renderHtpasswd(users, seed, 4).trimEnd().split("\n");
        expect(lines).toHaveLength(2);
        const [adminName, adminHash] = lines[0].split(":");
        expect(adminName).toBe("admin");
        expect(adminHash).toMatch(/^\$2y\$04\$[./A-Za-z0-9]{53}$/);
        expect(bcrypt.compareSync("correct horse", adminHash)).toBe(true);
        expect(bcrypt.compareSync("wrong", adminHash)).toBe(false);
        expect(bcrypt.compareSync("battery staple", lines[1].split(":")[1])).toBe(true);
    });

    it("is deterministic for a seed, with a salt of each user's own", () => {
        expect(renderHtpasswd(users, seed, 4)).toBe(renderHtpasswd(users, seed, 4));
        expect(renderHtpasswd(users, seed + "x", 4)).not.toBe(renderHtpasswd(users, seed, 4));
        expect(bcryptSalt(seed, "admin", 10)).not.toBe(bcryptSalt(seed, "ci", 10));
        // Same password, different users: different hashes.
        const same = renderHtpasswd(
            [
                { name: "a", password: "p" },
                { name: "b", password: "p" },
            ],
            seed,
            4,
        ).split("\n");
        expect(same[0].split(":")[1]).not.toBe(same[1].split(":")[1]);
    });

    it("refuses bad users without echoing passwords", () => {
        expect(() => renderHtpasswd([{ name: "a:b", password: "topsecret" }], seed)).toThrow(/"a:b"/);
        expect(() => renderHtpasswd([{ name: "a", password: "" }], seed)).toThrow(/password of user "a" is empty/);
        try {
            renderHtpasswd([{ name: "a:b", password: "topsecret" }], seed);
        } catch (e) {
            expect((e as Error).message).not.toContain("topsecret");
        }
    });
});

describe("notification endpoints", () => {
    const endpoint = { name: "ci", url: "https://ci.example.com/hook", secret: "Bearer abc123" };
    it("writes the endpoints, secret in the header, for the environment variable", () => {
        expect(parse(notificationEndpointsYaml([endpoint]))).toEqual([
            { name: "ci", url: "https://ci.example.com/hook", headers: { Authorization: ["Bearer abc123"] }, timeout: "500ms", threshold: 5, backoff: "1s" },
        ]);
    });

    it("refuses what the registry's endpoint log line would show unmasked, without echoing the secret", () => {
        const withBracket = () => notificationEndpointsYaml([{ ...endpoint, secret: "abc]def" }]);
        expect(withBracket).toThrow('registry notifications: the secret of endpoint "ci" holds a "]" or a line break; allowed: one line without "]"');
        expect(withBracket).not.toThrow(/def/);
        expect(() => notificationEndpointsYaml([{ ...endpoint, secret: "abc\ndef" }])).toThrow(/line break/);
        const withUserinfo = () => notificationEndpointsYaml([{ ...endpoint, url: "https://bot:hunter2@ci.example.com/hook" }]);
        expect(withUserinfo).toThrow(
            'registry notifications: the URL of endpoint "ci" carries credentials, which the registry would log; put them in the secret',
        );
        expect(withUserinfo).not.toThrow(/hunter2/);
    });
});
