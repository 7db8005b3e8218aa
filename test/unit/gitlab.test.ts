/**
 * The gitlab program under Pulumi's mocks (the offline engine): both sides of the registry contract
 * come from one key, one issuer and one secret; the rendered gitlab.rb is valid Ruby; every key and
 * password stays secret.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, maskSecrets, ResourceRecord, unwrapSecrets } from "../../offline/engine";
import { GITLAB_ENV } from "../../renderers/gitlab-rb";
import { NOTIFICATIONS_ENV } from "../../renderers/registry-config";
import { libtrustKeyId, TOKEN_JWKS_PATH } from "../../renderers/token-auth";

const ROOT_PASSWORD = "Unit'Pass\"w0rd&<x>";

// `ruby -c` checks gitlab.rb. npm test (and CI) require ruby; only `npm run test:unit`, the command for a
// workstation with nothing beyond npm ci, sets REGISTRY_KIT_UNIT_ONLY=1 and may skip the check.
const noRuby = spawnSync("ruby", ["--version"]).status !== 0;
const skipRuby = noRuby && process.env.REGISTRY_KIT_UNIT_ONLY === "1";
if (skipRuby) console.warn("ruby is not installed: skipping the `ruby -c` check of gitlab.rb (npm test runs it; apt-get install ruby)");
const config = {
    "registry-kit:topology": "gitlab",
    "registry-kit:hostname": "registry.example.com",
    "registry-kit:docker": { namePrefix: "rk-gu", subnet: "172.30.5.0/24" },
    "registry-kit:gitlab": { externalUrl: "https://gitlab.example.com:8443", rootPassword: ROOT_PASSWORD, registryIssuer: "acme-gitlab-issuer", sshPort: 2022 },
    "registry-kit:proxy": { httpsPort: 443 },
};

let ev: Evaluation;
const find = (type: string, name: string): ResourceRecord => {
    const r = ev.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} ${name}; have ${ev.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const container = (name: string) => find("docker:index/container:Container", name);
const plain = (v: unknown) => unwrapSecrets(v) as any;
const envOf = (name: string): Record<string, string> =>
    Object.fromEntries((plain(container(name).inputs.envs) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
const file = (c: string, p: string) => {
    const f = ev.files.find((x) => x.container === c && x.path === p);
    if (!f) throw new Error(`no file ${p} in ${c}`);
    return f;
};

beforeAll(async () => {
    ev = await evaluate({ config, secretKeys: ["registry-kit:gitlab"] }, { stack: "unit" });
}, 120_000);

describe("gitlab topology under mocks", () => {
    it("declares GitLab, the registry, the proxy and Prometheus, with GitLab's volumes retained", () => {
        const containers = ev.resources.filter((r) => r.type === "docker:index/container:Container").map((r) => r.name);
        expect(containers.sort()).toEqual([
            "rk-gu-gitlab",
            "rk-gu-prometheus",
            "rk-gu-proxy",
            "rk-gu-registry",
            "rk-gu-registry-metrics-gate",
            "rk-gu-volume-exporter",
        ]);
        for (const v of ["config", "logs", "data"]) {
            expect(find("docker:index/volume:Volume", `rk-gu-gitlab-${v}`).options.retainOnDelete).toBe(true);
        }
        const gitlab = plain(container("rk-gu-gitlab").inputs);
        expect(gitlab.image).toBe("gitlab/gitlab-ce:19.4.1-ce.0");
        expect(gitlab.shmSize).toBe(256);
        expect(gitlab.hostname).toBe("gitlab.example.com");
        expect(gitlab.volumes.map((v: any) => v.containerPath)).toEqual(["/etc/gitlab", "/var/log/gitlab", "/var/opt/gitlab"]);
        expect(gitlab.wait).toBe(true);
        expect(gitlab.waitTimeout).toBe(900);
        expect(gitlab.healthcheck).toMatchObject({
            tests: ["CMD", "/opt/gitlab/bin/gitlab-healthcheck", "--fail", "--max-time", "10"],
            startPeriod: "15m0s",
            interval: "1m0s",
            timeout: "30s",
        });
        expect(gitlab.ports).toEqual([{ internal: 22, external: 2022, ip: "0.0.0.0", protocol: "tcp" }]);
        expect(gitlab.networksAdvanced).toEqual([{ name: "rk-gu-net", aliases: ["gitlab"] }]);
        expect(container("rk-gu-gitlab").options.additionalSecretOutputs).toContain("envs");
        expect(plain(find("docker:index/network:Network", "rk-gu-net").inputs.ipamConfigs)).toEqual([{ subnet: "172.30.5.0/24", gateway: "172.30.5.1" }]);
    });

    it("gives both sides the same issuer, service, URLs and key pair", () => {
        const rb = envOf("rk-gu-gitlab")[GITLAB_ENV.omnibusConfig];
        const registryConfig = parse(file("rk-gu-registry", "/etc/docker/registry/config.yml").content);
        const token = registryConfig.auth.token;
        // Issuer: one setting, written to both sides.
        expect(rb).toContain("gitlab_rails['registry_issuer'] = 'acme-gitlab-issuer'\n");
        expect(token.issuer).toBe("acme-gitlab-issuer");
        expect(token.service).toBe("container_registry");
        // URLs: the realm is GitLab's external URL; GitLab reaches the registry inside the network.
        expect(rb).toContain("external_url 'https://gitlab.example.com:8443'\n");
        expect(token.realm).toBe("https://gitlab.example.com:8443/jwt/auth");
        expect(rb).toContain("gitlab_rails['registry_api_url'] = 'http://registry:5000'\n");
        expect(plain(container("rk-gu-registry").inputs.networksAdvanced)[0].aliases).toContain("registry");
        expect(rb).toContain("gitlab_rails['registry_host'] = 'registry.example.com'\n");
        expect(rb).not.toContain("registry_port"); // 443
        expect(rb).toContain("registry['enable'] = false\n");
        // Key pair: GitLab's key matches the certificate and the JWKS the registry trusts.
        const key = envOf("rk-gu-gitlab")[GITLAB_ENV.tokenKey];
        const publicPem = crypto.createPublicKey(key).export({ type: "spki", format: "pem" }).toString();
        const cert = new crypto.X509Certificate(file("rk-gu-registry", token.rootcertbundle).content);
        expect(cert.publicKey.export({ type: "spki", format: "pem" })).toBe(publicPem);
        // Registry 2 matches the kid from the certificate; the JWKS (registry 3's way) is there as well.
        expect(plain(container("rk-gu-registry").inputs.image)).toBe("registry:2.8.3");
        const jwks = JSON.parse(file("rk-gu-registry", TOKEN_JWKS_PATH).content);
        expect(jwks.keys).toHaveLength(1);
        expect(jwks.keys[0].kid).toBe(libtrustKeyId(publicPem));
        expect(jwks.keys[0].n).toBe(crypto.createPublicKey(key).export({ format: "jwk" }).n);
        expect(ev.outputs.tokenKeyId).toBe(libtrustKeyId(publicPem));
        // A token GitLab signs with that key verifies against the registry's certificate.
        const signature = crypto.sign("RSA-SHA256", Buffer.from("header.claims"), key);
        expect(crypto.verify("RSA-SHA256", Buffer.from("header.claims"), cert.publicKey, signature)).toBe(true);
    });

    it("sends notifications to GitLab's events endpoint with the secret GitLab checks", () => {
        const gitlabEnv = envOf("rk-gu-gitlab");
        const rb = gitlabEnv[GITLAB_ENV.omnibusConfig];
        expect(rb).toContain(`gitlab_rails['registry_notification_secret'] = ENV.fetch('${GITLAB_ENV.notificationSecret}')`);
        const endpoints = parse(envOf("rk-gu-registry")[NOTIFICATIONS_ENV]);
        expect(endpoints).toEqual([
            {
                name: "gitlab",
                url: "http://gitlab:80/api/v4/container_registry_event/events",
                headers: { Authorization: [gitlabEnv[GITLAB_ENV.notificationSecret]] },
                timeout: "500ms",
                threshold: 5,
                backoff: "1s",
            },
        ]);
        expect(gitlabEnv[GITLAB_ENV.notificationSecret]).toMatch(/^rk[A-Za-z0-9]{48}$/);
        // The config file itself carries no secret: the endpoints come from the environment.
        const configText = file("rk-gu-registry", "/etc/docker/registry/config.yml").content;
        expect(configText).not.toContain(gitlabEnv[GITLAB_ENV.notificationSecret]);
        expect(parse(configText).notifications).toEqual({ events: { includereferences: true } });
    });

    it("masks the notification secret in the registry's own log line about its endpoints", () => {
        const secret = envOf("rk-gu-gitlab")[GITLAB_ENV.notificationSecret];
        const registry = unwrapSecrets(ev.resources.find((r) => r.name === "rk-gu-registry")!.inputs) as Record<string, any>;
        expect(registry.command).toEqual(["/etc/docker/registry/config.yml"]);
        // The registry's entrypoint script, run for real under /bin/sh with a `registry` that prints the
        // line Distribution 2.8.3 and 3.1.1 log at start (headers and all), then exits with its own code.
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "rk-redact-"));
        const line = `{"level":"info","msg":"configuring endpoint gitlab (http://gitlab:80/api/v4/container_registry_event/events), timeout=500ms, headers=map[Authorization:[${secret}]]"}`;
        fs.writeFileSync(path.join(bin, "registry"), `#!/bin/sh\necho "args: $*"\necho '${line}' >&2\nexit 3\n`, { mode: 0o755 });
        const [shell, ...rest] = registry.entrypoints as string[];
        const r = spawnSync(shell, [...rest, ...registry.command], { env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: "utf8" });
        fs.rmSync(bin, { recursive: true, force: true });
        expect(r.status).toBe(3);
        expect(r.stdout + r.stderr).not.toContain(secret);
        expect(r.stderr).toContain("args: serve /etc/docker/registry/config.yml");
        expect(r.stderr).toContain("headers=map[Authorization:[redacted]]");
    });

    it.skipIf(skipRuby)("renders a gitlab.rb that Ruby parses", () => {
        const rb = envOf("rk-gu-gitlab")[GITLAB_ENV.omnibusConfig];
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rk-gitlab-rb-"));
        fs.writeFileSync(path.join(dir, "gitlab.rb"), rb);
        expect(execFileSync("ruby", ["-c", path.join(dir, "gitlab.rb")], { encoding: "utf8" })).toBe("Syntax OK\n");
        fs.rmSync(dir, { recursive: true });
    });

    it("renders gitlab.rb with GitLab behind the proxy and metrics open to Prometheus", () => {
        const rb = envOf("rk-gu-gitlab")[GITLAB_ENV.omnibusConfig];
        for (const line of [
            "nginx['listen_https'] = false",
            "nginx['listen_port'] = 80",
            "letsencrypt['enable'] = false",
            "nginx['real_ip_trusted_addresses'] = ['172.30.5.0/24']",
            "gitlab_rails['trusted_proxies'] = ['172.30.5.0/24']",
            "gitlab_rails['monitoring_whitelist'] = ['127.0.0.0/8', '::1/128', '172.30.5.0/24']",
            "gitlab_rails['gitlab_shell_ssh_port'] = 2022",
            "prometheus['enable'] = false",
        ]) {
            expect(rb).toContain(`${line}\n`);
        }
        expect(ev.outputs.gitlabRb).toBe(rb);
        const prometheus = parse(file("rk-gu-prometheus", "/etc/prometheus/prometheus.yml").content);
        const jobs = Object.fromEntries(prometheus.scrape_configs.map((j: any) => [j.job_name, `${j.static_configs[0].targets[0]}${j.metrics_path}`]));
        expect(jobs).toMatchObject({
            registry: "registry:5001/metrics",
            "gitlab-rails": "gitlab:80/-/metrics",
            "gitlab-workhorse": "gitlab:9229/metrics",
            "gitlab-sidekiq": "gitlab:8082/metrics",
            "gitlab-exporter-database": "gitlab:9168/database",
        });
    });

    it("serves GitLab as a second virtual host with a certificate of its own from the same CA", () => {
        const conf = file("rk-gu-proxy", "/etc/nginx/nginx.conf").content;
        expect(conf).toContain("listen 8443 ssl;\n        server_name gitlab.example.com;");
        expect(conf).toContain("set $app_upstream http://gitlab:80;");
        expect(plain(container("rk-gu-proxy").inputs.ports)).toContainEqual({ internal: 8443, external: 8443, ip: "0.0.0.0" });
        const ca = new crypto.X509Certificate(ev.outputs.caCertificate as string);
        const gitlabCert = new crypto.X509Certificate(file("rk-gu-proxy", "/etc/nginx/tls/app.crt").content);
        const registryCert = new crypto.X509Certificate(file("rk-gu-proxy", "/etc/nginx/tls/server.crt").content);
        expect(gitlabCert.subjectAltName).toBe("DNS:gitlab.example.com");
        expect(registryCert.subjectAltName).toContain("DNS:registry.example.com");
        expect(gitlabCert.verify(ca.publicKey)).toBe(true);
        expect(registryCert.verify(ca.publicKey)).toBe(true);
        expect(file("rk-gu-proxy", "/etc/nginx/tls/app.key").secret).toBe(true);
    });

    it("keeps gitlab.rb reviewable: a plain output without extra lines", () => {
        expect(isSecretWrapper(ev.outputs.gitlabRb)).toBe(false);
    });

    it("keeps the root password, the signing key and the notification secret secret everywhere", () => {
        expect(isSecretWrapper(ev.outputs.rootPassword)).toBe(true);
        expect(plain(ev.outputs.rootPassword)).toBe(ROOT_PASSWORD);
        const gitlabEnv = envOf("rk-gu-gitlab");
        const secrets = [ROOT_PASSWORD, gitlabEnv[GITLAB_ENV.tokenKey].split("\n")[1], gitlabEnv[GITLAB_ENV.notificationSecret]];
        expect(gitlabEnv[GITLAB_ENV.rootPassword]).toBe(ROOT_PASSWORD);
        // Each env entry that carries one is a secret; gitlab.rb names them, it does not hold them.
        const gitlabEnvs = container("rk-gu-gitlab").inputs.envs as unknown[];
        for (const entry of gitlabEnvs) {
            const text = String(unwrapSecrets(entry));
            if (secrets.some((s) => text.includes(s))) expect(isSecretWrapper(entry), text.slice(0, 30)).toBe(true);
        }
        for (const s of secrets) expect(gitlabEnv[GITLAB_ENV.omnibusConfig]).not.toContain(s);
        const registryEnvs = container("rk-gu-registry").inputs.envs as unknown[];
        expect(registryEnvs.filter((e) => !isSecretWrapper(e))).toEqual(["OTEL_TRACES_EXPORTER=none"]);
        // Nothing readable anywhere once secrets are masked: inputs, files, outputs.
        const masked = JSON.stringify([ev.resources.map((r) => maskSecrets(r.inputs)), ev.files.filter((f) => !f.secret), maskSecrets(ev.outputs)]);
        for (const s of secrets) expect(masked).not.toContain(s);
    });
});
