/**
 * ACME mode: its settings and bad input, the resources it declares, and the secrecy of keys.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseCertificateInfo } from "../../components/acme-certbot";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, unwrapSecrets } from "../../offline/engine";
import { parseSettings } from "../../stacks/config";

const base = { hostname: "registry.example.com", tls: { mode: "acme" } };

const failure = (raw: Record<string, unknown>): string => settingsFailure(raw, ["tls"]);

describe("ACME settings", () => {
    it("defaults to Let's Encrypt production, ECDSA, checks twice a day", () => {
        expect(parseSettings(base).tls.acme).toEqual({
            directory: "production",
            keyType: "ecdsa",
            rsaKeySize: 2048,
            ellipticCurve: "secp256r1",
            image: "certbot/certbot:v3.3.0",
            renewIntervalHours: 12,
            reloadCheckSeconds: 30,
            issueTimeoutSeconds: 300,
        });
    });

    it("refuses names no public CA issues for, unless the directory is custom", () => {
        for (const [hostname, what] of [
            ["203.0.113.7", "an IP address"],
            ["localhost", "a localhost name"],
            ["registry.localhost", "a localhost name"],
            ["registry", "a single-label name"],
            ["registry.test", "a reserved or private domain"],
        ]) {
            expect(failure({ ...base, hostname })).toContain(
                `registry-kit:hostname: got "${hostname}"; allowed: a public DNS name in tls.mode "acme" (this is ${what}, which no public CA issues for), or tls.acme.directory set to your own ACME server`,
            );
        }
        expect(failure({ ...base, tls: { mode: "acme", extraSans: ["10.0.0.1"], acme: { directory: "staging" } } })).toContain(
            'registry-kit:tls.extraSans[0]: got "10.0.0.1"',
        );
        expect(() =>
            parseSettings({ ...base, hostname: "registry.test", tls: { mode: "acme", acme: { directory: "https://acme.internal/dir" } } }),
        ).not.toThrow();
        // The same names are fine for a self-signed certificate.
        expect(() => parseSettings({ hostname: "registry.localhost" })).not.toThrow();
    });

    it("refuses an invalid email, a directory that is not https, and a CA bundle for a public directory", () => {
        expect(failure({ ...base, tls: { mode: "acme", acme: { email: "ops-at-example" } } })).toContain(
            'registry-kit:tls.acme.email: got "ops-at-example"; allowed: an email address such as ops@example.com',
        );
        expect(failure({ ...base, tls: { mode: "acme", acme: { directory: "http://acme.example.com/dir" } } })).toContain(
            'registry-kit:tls.acme.directory: got "http://acme.example.com/dir"; allowed: "production", "staging" or an https:// URL of an ACME directory',
        );
        expect(failure({ ...base, tls: { mode: "acme", acme: { caBundle: "-----BEGIN CERTIFICATE-----\nx" } } })).toContain(
            'registry-kit:tls.acme.caBundle: got "(PEM)"; allowed: a CA bundle only with a custom tls.acme.directory URL',
        );
        expect(failure({ ...base, tls: { mode: "acme", acme: { keyType: "dsa", rsaKeySize: 1024 } } })).toMatch(
            /tls\.acme\.keyType: got "dsa"; allowed: one of "ecdsa", "rsa"\nregistry-kit:tls\.acme\.rsaKeySize: got 1024; allowed: 2048, 3072 or 4096/,
        );
    });

    it("reads the wait command's report", () => {
        expect(parseCertificateInfo("issuer=CN=Pebble Intermediate CA 1\nnotAfter=2031-11-22T10:00:00Z\nserial=1f\n")).toEqual({
            issuer: "CN=Pebble Intermediate CA 1",
            notAfter: "2031-11-22T10:00:00Z",
            serial: "1f",
        });
        expect(parseCertificateInfo(undefined)).toEqual({ issuer: "", notAfter: "", serial: "" });
    });
});

describe("ACME resources", () => {
    let ev: Evaluation;
    const byName = (name: string) => {
        const r = ev.resources.find((x) => x.name === name && x.custom);
        if (!r) throw new Error(`no resource ${name}`);
        return r;
    };

    beforeAll(async () => {
        ev = await evaluate(
            {
                config: {
                    "registry-kit:hostname": "registry.example.com",
                    "registry-kit:docker": { namePrefix: "rk-acme-unit", host: "ssh://ops@docker-host" },
                    "registry-kit:tls": {
                        mode: "acme",
                        extraSans: ["cr.example.com"],
                        acme: { email: "ops@example.com", directory: "staging", reloadCheckSeconds: 5 },
                    },
                },
                secretKeys: [],
            },
            { stack: "acme-unit" },
        );
    }, 60_000);

    it("runs certbot with the webroot, the letsencrypt volume, the domains and the directory", () => {
        const c = unwrapSecrets(byName("rk-acme-unit-certbot").inputs) as any;
        expect(c.image).toBe("certbot/certbot:v3.3.0");
        expect(c.entrypoints).toEqual(["/bin/sh"]);
        expect(c.command).toEqual(["/usr/local/bin/registry-kit-acme", "run"]);
        expect(c.volumes).toEqual([
            { volumeName: "rk-acme-unit-proxy-letsencrypt", containerPath: "/etc/letsencrypt" },
            { volumeName: "rk-acme-unit-proxy-acme-webroot", containerPath: "/var/www/acme" },
        ]);
        expect(c.envs).toEqual(
            expect.arrayContaining([
                "RK_DOMAINS=registry.example.com,cr.example.com",
                "RK_CERT_NAME=registry-kit",
                "RK_SERVER=https://acme-staging-v02.api.letsencrypt.org/directory",
                "RK_EMAIL=ops@example.com",
                "RK_KEY_TYPE=ecdsa",
                "RK_ELLIPTIC_CURVE=secp256r1",
                "RK_WEBROOT=/var/www/acme",
                "RK_RENEW_SECONDS=43200",
            ]),
        );
        expect(c.uploads[0].file).toBe("/usr/local/bin/registry-kit-acme");
        expect(c.uploads[0].content).toContain("certonly --webroot");
    });

    it("has the proxy serve the certbot certificate, bootstrapped by a self-signed one", () => {
        const p = unwrapSecrets(byName("rk-acme-unit-proxy").inputs) as any;
        expect(p.volumes).toContainEqual({ volumeName: "rk-acme-unit-proxy-letsencrypt", containerPath: "/etc/letsencrypt", readOnly: true });
        expect(p.envs).toEqual(["RK_CERT_NAME=registry-kit", "RK_RELOAD_CHECK_SECONDS=5"]);
        const files = p.uploads.map((u: any) => u.file);
        expect(files).toEqual([
            "/etc/nginx/nginx.conf",
            "/etc/nginx/registry-kit/auth.js",
            "/etc/nginx/registry-kit/auth-secrets.conf",
            "/etc/nginx/tls/bootstrap/fullchain.pem",
            "/etc/nginx/tls/bootstrap/privkey.pem",
            "/docker-entrypoint.d/40-registry-kit-acme-cert.sh",
        ]);
        expect(p.uploads[0].content).toContain("ssl_certificate /etc/nginx/tls/active/fullchain.pem;");
        expect(p.uploads[5].permissions).toBe("0755");
        expect(p.networksAdvanced[0].aliases).toEqual(["proxy", "registry.example.com"]);
    });

    it("starts certbot only after the proxy container that answers the challenge", () => {
        const certbot = ev.resources.find((r) => r.name === "rk-acme-unit-certbot" && r.type === "docker:index/container:Container")!;
        expect(certbot.options.dependsOn).toContain("rk-acme-unit-proxy");
        const proxy = ev.resources.find((r) => r.name === "rk-acme-unit-proxy" && r.type === "docker:index/container:Container")!;
        expect((unwrapSecrets(proxy.inputs) as any).wait).toBe(true);
    });

    it("keeps the ACME account and certificates on destroy", () => {
        expect(byName("rk-acme-unit-proxy-letsencrypt").options.retainOnDelete).toBe(true);
    });

    it("keeps the bootstrap key secret", () => {
        const p = byName("rk-acme-unit-proxy").inputs as any;
        const key = p.uploads.find((u: any) => unwrapSecrets(u.file) === "/etc/nginx/tls/bootstrap/privkey.pem");
        expect(isSecretWrapper(key.content)).toBe(true);
        expect(isSecretWrapper(p.uploads[1].content)).toBe(false);
    });

    it("waits for issuance with docker exec on the same Docker host, once per certbot container", () => {
        const cmd = unwrapSecrets(byName("rk-acme-unit-certbot-issued").inputs) as any;
        expect(cmd.create).toBe(
            'DOCKER_CONTEXT="${DOCKER_CONTEXT:-default}" docker exec rk-acme-unit-certbot /bin/sh /usr/local/bin/registry-kit-acme wait 300',
        );
        expect(cmd.environment).toEqual({ DOCKER_HOST: "ssh://ops@docker-host" });
        expect(cmd.triggers).toEqual(["rk-acme-unit-certbot-id"]);
    });

    it("holds the docker CLI to the provider's engine, not the CLI's current context", () => {
        const cmd = unwrapSecrets(byName("rk-acme-unit-certbot-issued").inputs) as any;
        // A `docker` that says which context it would use; the command runs under /bin/sh as @pulumi/command runs it.
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "rk-docker-ctx-"));
        fs.writeFileSync(path.join(bin, "docker"), '#!/bin/sh\necho "context=${DOCKER_CONTEXT:-current}"\n', { mode: 0o755 });
        const run = (env: Record<string, string>) =>
            spawnSync("/bin/sh", ["-c", cmd.create], { env: { PATH: `${bin}:/usr/bin:/bin`, ...env }, encoding: "utf8" }).stdout.trim();
        expect(run({})).toBe("context=default");
        expect(run({ DOCKER_CONTEXT: "staging" })).toBe("context=staging");
        fs.rmSync(bin, { recursive: true, force: true });
    });

    it("outputs no CA to trust (a public CA issues the certificate)", () => {
        expect(ev.outputs.caCertificate).toBe("");
        expect(ev.outputs.clientSetup).not.toContain("ca.crt");
        expect(ev.outputs.certificate).toBe("issued by the ACME directory; certbot renews it 30 days before expiry");
    });
});
