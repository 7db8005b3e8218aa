/**
 * The small-team program under Pulumi's mocks (the offline engine): what it declares, with which
 * inputs, and that every secret stays secret.
 */
import * as crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { proxiedPassword } from "../../renderers/htpasswd";
import { parse } from "yaml";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, maskSecrets, ResourceRecord, unwrapSecrets } from "../../offline/engine";

const config = {
    "registry-kit:topology": "small-team",
    "registry-kit:hostname": "registry.example.com",
    "registry-kit:docker": { namePrefix: "rk-unit" },
    "registry-kit:proxy": { httpsPort: 8443, httpPort: 8080, allowCidrs: ["10.0.0.0/8"] },
    "registry-kit:tls": { extraSans: ["10.1.2.3", "registry.internal"] },
    "registry-kit:auth": { users: [{ name: "ci", password: "ci-password-value" }] },
    "registry-kit:monitoring": { retentionSize: "5GB" },
};

let ev: Evaluation;
const find = (type: string, name: string): ResourceRecord => {
    const r = ev.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} ${name}; have ${ev.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const container = (name: string) => find("docker:index/container:Container", name);
const plain = (v: unknown) => unwrapSecrets(v) as any;

beforeAll(async () => {
    ev = await evaluate({ config, secretKeys: ["registry-kit:auth"] }, { stack: "unit" });
}, 60_000);

describe("small-team resources", () => {
    it("declares one network, five containers (the registry, its metrics gate, the proxy, Prometheus, the volume exporter), their images and volumes, and the TLS and random resources", () => {
        const custom = ev.resources
            .filter((r) => r.custom)
            .map((r) => `${r.type.split(":")[2]} ${r.name}`)
            .sort();
        expect(custom).toEqual(
            [
                "CertRequest rk-unit-tls-server-csr",
                "Container rk-unit-prometheus",
                "Container rk-unit-proxy",
                "Container rk-unit-registry",
                "Container rk-unit-registry-metrics-gate",
                "Container rk-unit-volume-exporter",
                "LocallySignedCert rk-unit-tls-server",
                "Network rk-unit-net",
                "PrivateKey rk-unit-tls-ca-key",
                "PrivateKey rk-unit-tls-server-key",
                "RandomPassword rk-unit-htpasswd-admin-password",
                "RandomPassword rk-unit-htpasswd-proxy-secret",
                "RandomPassword rk-unit-htpasswd-salt-seed",
                "RandomPassword rk-unit-htpasswd-verdict-key",
                "RandomPassword rk-unit-registry-http-secret",
                "RemoteImage rk-unit-prometheus-image",
                "RemoteImage rk-unit-proxy-image",
                "RemoteImage rk-unit-registry-image",
                "RemoteImage rk-unit-registry-metrics-gate-image",
                "RemoteImage rk-unit-volume-exporter-image",
                "SelfSignedCert rk-unit-tls-ca",
                "Volume rk-unit-prometheus-data",
                "Volume rk-unit-proxy-acme-webroot",
                "Volume rk-unit-registry-data",
            ].sort(),
        );
    });

    it("runs the registry with its config, data volume, secret and health check", () => {
        const c = plain(container("rk-unit-registry").inputs);
        expect(c.image).toBe("registry:3");
        // `serve <path>`: Distribution's own images run `registry` directly and answer a bare path with
        // "unknown command" (exit 0, restart loop); Docker Hub's entrypoint script passes `serve` on.
        expect(c.command).toEqual(["serve", "/etc/distribution/config.yml"]);
        expect(c.entrypoints).toBeUndefined();
        expect(c.volumes).toEqual([{ volumeName: "rk-unit-registry-data", containerPath: "/var/lib/registry" }]);
        expect(c.networksAdvanced).toEqual([{ name: "rk-unit-net", aliases: ["registry"] }]);
        expect(c.envs).toHaveLength(2);
        expect(c.envs[0]).toMatch(/^REGISTRY_HTTP_SECRET=[A-Za-z0-9]{48}$/);
        // Registry 3 without a trace collector would log an export error every 10 seconds.
        expect(c.envs[1]).toBe("OTEL_TRACES_EXPORTER=none");
        expect(c.restart).toBe("unless-stopped");
        expect(c.logOpts).toEqual({ "max-file": "3", "max-size": "10m" });
        expect(c.healthcheck.tests).toEqual(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:5002/debug/health"]);
        const configFile = c.uploads.find((u: any) => u.file === "/etc/distribution/config.yml");
        const parsed = parse(configFile.content);
        expect(parsed.auth.htpasswd.path).toBe("/auth/htpasswd");
        // Every log line JSON: the access log (Combined Log Format) is off; the proxy logs requests as JSON.
        expect(parsed.log).toMatchObject({ formatter: "json", accesslog: { disabled: true } });
        const hash = c.labels.find((l: any) => l.label === "registry-kit.config-sha256").value;
        expect(hash).toBe(crypto.createHash("sha256").update(configFile.content).update("\0").digest("hex"));
        expect(c.uploads.map((u: any) => u.file)).toEqual(["/etc/distribution/config.yml", "/auth/htpasswd"]);
    });

    it("puts a metrics gate in the registry's network namespace that passes on /metrics and /debug/health only", () => {
        const gate = plain(container("rk-unit-registry-metrics-gate").inputs);
        expect(gate.networkMode).toBe("container:rk-unit-registry-id");
        expect(gate.networksAdvanced).toBeUndefined();
        expect(gate.image).toBe("nginx:1.27");
        const conf = gate.uploads.find((u: any) => u.file === "/etc/nginx/nginx.conf").content as string;
        expect(conf).toMatch(/listen 5001;/);
        expect([...conf.matchAll(/location = (\S+) \{\s*proxy_pass http:\/\/127\.0\.0\.1:5002;/g)].map((m) => m[1])).toEqual(["/metrics", "/debug/health"]);
        expect(conf.match(/proxy_pass/g)).toHaveLength(2);
        expect(conf).toMatch(/location \/ \{\s*return 404;/);
        expect(gate.destroyGraceSeconds).toBeGreaterThan(0);
        // A gate left in the network namespace of a registry that restarted exits, to be restarted in the new one.
        expect(gate.entrypoints.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
        expect(gate.entrypoints[2]).toContain("curl -s -o /dev/null --max-time 3 http://127.0.0.1:5002/debug/health");
        expect(gate.restart).toBe("unless-stopped");
    });

    it("keeps the image volume on destroy and replaces containers delete-first", () => {
        expect(find("docker:index/volume:Volume", "rk-unit-registry-data").options.retainOnDelete).toBe(true);
        expect(find("docker:index/volume:Volume", "rk-unit-prometheus-data").options.retainOnDelete).toBe(false);
        for (const name of ["rk-unit-registry", "rk-unit-proxy", "rk-unit-prometheus"]) {
            expect(container(name).options.deleteBeforeReplace).toBe(true);
        }
    });

    it("publishes the proxy's ports and gives it the certificate, key and rendered nginx.conf", () => {
        const c = plain(container("rk-unit-proxy").inputs);
        expect(c.image).toBe("nginx:1.27");
        expect(c.ports).toEqual([
            { internal: 443, external: 8443, ip: "0.0.0.0" },
            { internal: 80, external: 8080, ip: "0.0.0.0" },
        ]);
        const files = Object.fromEntries(c.uploads.map((u: any) => [u.file, u]));
        expect(Object.keys(files)).toEqual([
            "/etc/nginx/nginx.conf",
            "/etc/nginx/registry-kit/auth.js",
            "/etc/nginx/registry-kit/auth-secrets.conf",
            "/etc/nginx/tls/server.crt",
            "/etc/nginx/tls/server.key",
        ]);
        expect(files["/etc/nginx/tls/server.key"].permissions).toBe("0600");
        expect(files["/etc/nginx/registry-kit/auth-secrets.conf"].permissions).toBe("0600");
        // The verdict cache in front of the registry, with the admin's and ci's permissions (both everything by default).
        expect(files["/etc/nginx/nginx.conf"].content).toContain("auth_request /_registry_kit_auth;");
        expect(files["/etc/nginx/nginx.conf"].content).toContain("proxy_cache_valid 200 60s;");
        expect(files["/etc/nginx/registry-kit/auth.js"].content).toContain(
            'var ACCESS = {"admin":[{"repositories":["**"],"actions":["pull","push","delete","catalog"]}],"ci":[{"repositories":["**"],"actions":["pull","push","delete","catalog"]}]};',
        );
        expect(files["/etc/nginx/nginx.conf"].content).toContain("server_name registry.example.com;");
        expect(files["/etc/nginx/nginx.conf"].content).toContain("set $registry_upstream http://registry:5000;");
        expect(files["/etc/nginx/nginx.conf"].content).toMatch(/allow 10\.0\.0\.0\/8;\s+deny all;/);
        expect(c.volumes).toEqual([{ volumeName: "rk-unit-proxy-acme-webroot", containerPath: "/var/www/acme", readOnly: true }]);
    });

    it("issues a server certificate for the hostname and extra SANs, signed by the CA it outputs", () => {
        const c = plain(container("rk-unit-proxy").inputs);
        const pem = c.uploads.find((u: any) => u.file === "/etc/nginx/tls/server.crt").content;
        const cert = new crypto.X509Certificate(pem);
        const ca = new crypto.X509Certificate(ev.outputs.caCertificate as string);
        expect(cert.verify(ca.publicKey)).toBe(true);
        expect(cert.checkIssued(ca)).toBe(true);
        expect(ca.ca).toBe(true);
        expect(cert.ca).toBe(false);
        expect(cert.subjectAltName).toBe("DNS:registry.example.com, DNS:registry.internal, IP Address:10.1.2.3");
        const key = crypto.createPrivateKey(c.uploads.find((u: any) => u.file === "/etc/nginx/tls/server.key").content);
        expect(cert.checkPrivateKey(key)).toBe(true);
    });

    it("runs Prometheus with retention flags and a config that scrapes the registry", () => {
        const c = plain(container("rk-unit-prometheus").inputs);
        expect(c.image).toBe("prom/prometheus:v2.55.1");
        expect(c.command).toEqual([
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            "--storage.tsdb.retention.time=15d",
            "--storage.tsdb.retention.size=5GB",
            "--web.enable-lifecycle",
        ]);
        expect(c.ports).toEqual([{ internal: 9090, external: 9090, ip: "127.0.0.1" }]);
        const prom = parse(c.uploads[0].content);
        expect(prom.scrape_configs.map((j: any) => `${j.job_name} ${j.static_configs[0].targets}`)).toEqual([
            "prometheus localhost:9090",
            "registry registry:5001",
            "proxy proxy:9113",
            "registry-volumes volume-exporter:9100",
        ]);
    });

    it("exports the stack outputs clients need", () => {
        expect(ev.outputs.registryUrl).toBe("https://registry.example.com:8443");
        expect(ev.outputs.registryHost).toBe("registry.example.com:8443");
        expect(ev.outputs.adminUser).toBe("admin");
        expect(ev.outputs.dockerLogin).toBe("docker login registry.example.com:8443 --username admin");
        expect(ev.outputs.clientSetup).toContain("/etc/docker/certs.d/registry.example.com:8443/ca.crt");
        expect(ev.outputs.prometheusUrl).toBe("http://127.0.0.1:9090");
        expect(ev.outputs.registryScrapeJob).toEqual({
            job_name: "registry",
            metrics_path: "/metrics",
            scheme: "http",
            static_configs: [{ targets: ["registry:5001"] }],
        });
        expect(ev.outputs.dataVolume).toBe("rk-unit-registry-data");
    });
});

describe("secrets", () => {
    it("are secret on every input and output that holds one", () => {
        const reg = container("rk-unit-registry").inputs as any;
        expect(isSecretWrapper(reg.envs[0])).toBe(true);
        const htpasswd = reg.uploads.find((u: any) => plain(u).file === "/auth/htpasswd");
        expect(isSecretWrapper(htpasswd.content)).toBe(true);
        // The config file next to it is not secret: it stays reviewable.
        expect(isSecretWrapper(reg.uploads.find((u: any) => plain(u).file === "/etc/distribution/config.yml").content)).toBe(false);
        const key = (container("rk-unit-proxy").inputs as any).uploads.find((u: any) => plain(u).file === "/etc/nginx/tls/server.key");
        expect(isSecretWrapper(key.content)).toBe(true);
        const authSecrets = (container("rk-unit-proxy").inputs as any).uploads.find((u: any) => plain(u).file === "/etc/nginx/registry-kit/auth-secrets.conf");
        expect(isSecretWrapper(authSecrets.content)).toBe(true);
        expect(isSecretWrapper(ev.outputs.adminPassword)).toBe(true);
        expect(isSecretWrapper(ev.outputs.caCertificate)).toBe(false);
    });

    it("never appear in plain text once secrets are masked", () => {
        const adminPassword = plain(ev.outputs.adminPassword) as string;
        const httpSecret = plain((container("rk-unit-registry").inputs as any).envs[0]).split("=")[1];
        const proxyUploads = (container("rk-unit-proxy").inputs as any).uploads.map(plain);
        const privateKey = proxyUploads.find((u: any) => u.file === "/etc/nginx/tls/server.key").content as string;
        const authSecrets = proxyUploads.find((u: any) => u.file === "/etc/nginx/registry-kit/auth-secrets.conf").content as string;
        const [proxySecret, verdictKey] = [...authSecrets.matchAll(/default "([^"]+)";/g)].map((m) => m[1]);
        const htpasswd = plain((container("rk-unit-registry").inputs as any).uploads[1].content) as string;
        const visible = JSON.stringify([ev.resources.map((r) => maskSecrets(r.inputs)), maskSecrets(ev.outputs)]);
        const secrets = [adminPassword, httpSecret, privateKey.split("\n")[1], htpasswd.split(":")[1], "ci-password-value"];
        for (const secret of [...secrets, proxySecret, proxiedPassword(proxySecret, "admin"), proxiedPassword(proxySecret, "ci"), verdictKey]) {
            expect(secret.length).toBeGreaterThan(8);
            expect(visible).not.toContain(secret);
        }
    });

    it("give htpasswd entries that verify for the admin and the configured user", async () => {
        const bcrypt = await import("bcryptjs");
        const lines = (plain((container("rk-unit-registry").inputs as any).uploads[1].content) as string).trim().split("\n");
        // Behind the proxy's check: per user the derived login the proxy sends (cost 4) and the user's own
        // password under the verification name (the configured cost).
        expect(lines.map((l) => l.split(":")[0])).toEqual(["admin", "admin@registry-kit-verify", "ci", "ci@registry-kit-verify"]);
        const hash = (i: number) => lines[i].split(":")[1];
        expect(bcrypt.compareSync(plain(ev.outputs.adminPassword), hash(1))).toBe(true);
        expect(bcrypt.compareSync("ci-password-value", hash(3))).toBe(true);
        expect(bcrypt.compareSync("ci-password-value", hash(2))).toBe(false);
        expect([hash(0), hash(1), hash(2), hash(3)].map((h) => bcrypt.getRounds(h))).toEqual([4, 10, 4, 10]);
        const secrets = (container("rk-unit-proxy").inputs as any).uploads.map(plain).find((u: any) => u.file === "/etc/nginx/registry-kit/auth-secrets.conf");
        const proxySecret = /\$registry_kit_proxy_secret \{\n {4}default "([A-Za-z0-9]{48})";/.exec(secrets.content)![1];
        expect(bcrypt.compareSync(proxiedPassword(proxySecret, "admin"), hash(0))).toBe(true);
        expect(bcrypt.compareSync(proxiedPassword(proxySecret, "ci"), hash(2))).toBe(true);
        // The maintenance job and others on the network log in as the admin with its derived password.
        expect(proxiedPassword(proxySecret, "admin")).toMatch(/^[0-9a-f]{64}$/);
    });
});
