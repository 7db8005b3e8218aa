/**
 * tls.mode acme in the harbor topology: the challenge server and certbot settings the command carries, the
 * lifecycle's ACME steps, and the bootstrap key kept secret.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, maskSecrets, ResourceRecord, unwrapSecrets } from "../../offline/engine";
import { harborAcmeEnv, renderHarborAcmeServerConf } from "../../renderers/harbor-acme";
import { harborCommand, HarborScriptParams, parseHarborStdin } from "../../renderers/harbor-scripts";
import { templateText } from "../../renderers/template";

const SHA = "0f".repeat(32);
const CA = "-----BEGIN CERTIFICATE-----\nMIIBprivate-acme-ca\n-----END CERTIFICATE-----\n";
const config = {
    "registry-kit:topology": "harbor",
    "registry-kit:hostname": "harbor.example.com",
    "registry-kit:docker": { namePrefix: "rk-ha" },
    "registry-kit:monitoring": { enabled: false },
    "registry-kit:tls": {
        mode: "acme",
        extraSans: ["cr.example.com"],
        acme: {
            directory: "https://acme.internal/dir",
            caBundle: CA,
            email: "ops@example.com",
            keyType: "rsa",
            rsaKeySize: 3072,
            image: "mirror/certbot:v3.3.0",
        },
    },
    "registry-kit:harbor": { installerSha256: SHA, adminPassword: "Unit-Admin-Pass1", installDir: "/srv/harbor", dataVolume: "/srv/data", httpsPort: 8443 },
};

let ev: Evaluation;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-harbor-acme-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const plain = (v: unknown) => unwrapSecrets(v) as any;
const cmd = (): ResourceRecord => {
    const r = ev.resources.find((x) => x.type === "command:local:Command" && x.name === "rk-ha-harbor");
    if (!r) throw new Error("no command");
    return r;
};
const stdinFiles = (): Record<string, string> => parseHarborStdin(plain(cmd().inputs.stdin));

beforeAll(async () => {
    ev = await evaluate({ config, secretKeys: ["registry-kit:harbor", "registry-kit:tls"] }, { stack: "unit" });
}, 60_000);

describe("renderHarborAcmeServerConf", () => {
    it("serves the challenge webroot on Harbor's port 8080 and redirects the rest as Harbor's own server does", () => {
        expect(renderHarborAcmeServerConf("harbor.example.com", 8443)).toBe(
            [
                "# registry-kit: ACME HTTP-01 challenges on Harbor's port 80 (written after every prepare, which empties conf.d).",
                "server {",
                "    listen 8080;",
                "    server_name harbor.example.com;",
                "    location /.well-known/acme-challenge/ {",
                "        root /etc/nginx/registry-kit-acme;",
                "    }",
                "    location / {",
                "        return 308 https://$host:8443$request_uri;",
                "    }",
                "}",
                "",
            ].join("\n"),
        );
    });
});

describe("harborAcmeEnv", () => {
    it("writes certbot-acme.sh's settings with the Harbor deploy hook, and refuses a line break", () => {
        const p = {
            domains: ["a.example.com", "b.example.com"],
            certName: "registry-kit",
            directoryUrl: "https://acme.internal/dir",
            keyType: "ecdsa",
            rsaKeySize: 2048,
            ellipticCurve: "secp384r1",
            renewIntervalHours: 12,
            retrySeconds: 900,
        };
        expect(harborAcmeEnv(p)).toBe(
            [
                "RK_DOMAINS=a.example.com,b.example.com",
                "RK_CERT_NAME=registry-kit",
                "RK_SERVER=https://acme.internal/dir",
                "RK_EMAIL=",
                "RK_KEY_TYPE=ecdsa",
                "RK_RSA_KEY_SIZE=2048",
                "RK_ELLIPTIC_CURVE=secp384r1",
                "RK_WEBROOT=/var/www/acme",
                "RK_RENEW_SECONDS=43200",
                "RK_RETRY_SECONDS=900",
                "RK_DEPLOY_HOOK=/bin/sh /etc/registry-kit/bin/harbor-acme-deploy.sh",
                "",
            ].join("\n"),
        );
        expect(() => harborAcmeEnv({ ...p, email: "a@example.com\nRK_SERVER=x" })).toThrow("harborAcmeEnv: RK_EMAIL must not contain a line break");
    });
});

describe("harbor in tls.mode acme", () => {
    it("sends the bootstrap certificate, the challenge server, certbot's settings, the CA and the scripts on stdin", () => {
        const f = stdinFiles();
        expect(Object.keys(f).sort()).toEqual(
            [
                "acme-ca.pem",
                "acme.env",
                "acme.server.conf",
                "certbot-acme.sh",
                "database-password",
                "harbor-acme-deploy.sh",
                "harbor-acme.sh",
                "harbor.yml",
                "server.crt",
                "server.key",
            ].sort(),
        );
        expect(f["acme.server.conf"]).toBe(renderHarborAcmeServerConf("harbor.example.com", 8443));
        expect(f["acme.env"]).toContain("RK_DOMAINS=harbor.example.com,cr.example.com\n");
        expect(f["acme.env"]).toContain("RK_SERVER=https://acme.internal/dir\nRK_EMAIL=ops@example.com\nRK_KEY_TYPE=rsa\nRK_RSA_KEY_SIZE=3072\n");
        expect(f["acme-ca.pem"]).toBe(CA);
        expect(f["certbot-acme.sh"]).toBe(templateText("certbot-acme.sh"));
        expect(f["harbor-acme.sh"]).toBe(templateText("harbor-acme.sh"));
        // Bootstrap: the self-signed certificate Certificates makes in acme mode; no CA is exported to trust.
        expect(f["server.crt"]).toContain("BEGIN CERTIFICATE");
        expect(ev.outputs.caCertificate).toBeUndefined();
    });

    it("runs the lifecycle with ACME on, the certbot image and the renewal container's name", () => {
        for (const action of ["create", "update", "delete"]) {
            const text = plain(cmd().inputs[action]) as string;
            expect(text).toContain("\nRK_ACME='1'\nRK_ACME_IMAGE='mirror/certbot:v3.3.0'\nRK_ACME_CONTAINER='rk-ha-certbot'\n");
        }
    });

    it("keeps the bootstrap key secret: on stdin only, never in the command text or the outputs", () => {
        const i = cmd().inputs as any;
        expect(isSecretWrapper(i.stdin)).toBe(true);
        const key = stdinFiles()["server.key"].split("\n")[1];
        const visible = JSON.stringify([ev.resources.map((r) => maskSecrets(r.inputs)), maskSecrets(ev.outputs)]);
        expect(key.length).toBeGreaterThan(8);
        expect(visible).not.toContain(key);
        expect(JSON.stringify(plain(i.create))).not.toContain(key);
    });
});

/** The lifecycle script as a file, with a `docker` stub that records its calls and a stub prepare. */
function lifecycle(acme: boolean, failIssuance = false) {
    const dir = fs.mkdtempSync(path.join(work, "host-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const log = path.join(dir, "calls.log");
    // With failIssuance, certbot's first issuance (`... once`) fails, as when the CA cannot validate.
    const failOnce = failIssuance ? 'case "$*" in *" once") echo "certbot: challenge failed" >&2; exit 1;; esac\n' : "";
    fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\necho "docker $*" >> ${log}\n${failOnce}`, { mode: 0o755 });
    const p: HarborScriptParams = {
        version: "v2.15.0",
        installerUrl: "https://example.com/h.tgz",
        installerSha256: SHA,
        installDir: path.join(dir, "install"),
        dataVolume: path.join(dir, "data"),
        configHmac: "c".repeat(64),
        owner: "o".repeat(32),
        prepareArgs: ["--with-trivy"],
        acme: acme ? { image: "certbot/certbot:v3.3.0", container: "rk-certbot" } : undefined,
    };
    const harborDir = path.join(p.installDir, "harbor");
    fs.mkdirSync(path.join(harborDir, "common", "config", "nginx", "conf.d"), { recursive: true });
    // Harbor's prepare empties common/config (its delfile keeps directories, removes files).
    fs.writeFileSync(path.join(harborDir, "prepare"), `#!/bin/sh\nfind common/config -type f -delete\necho "prepare $*" >> ${log}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(harborDir, "docker-compose.yml"), "name: harbor\n");
    fs.mkdirSync(p.installDir, { recursive: true });
    fs.writeFileSync(path.join(p.installDir, "version"), "v2.15.0\n");
    const files: Record<string, string> = {
        "harbor.yml": "hostname: h\n",
        "database-password": "pw",
        "server.crt": "BOOTSTRAP CERT\n",
        "server.key": "BOOTSTRAP KEY\n",
    };
    if (acme) {
        Object.assign(files, {
            "acme.env": "RK_CERT_NAME=registry-kit\n",
            "acme.server.conf": renderHarborAcmeServerConf("h.example.com", 443),
            "certbot-acme.sh": templateText("certbot-acme.sh"),
            "harbor-acme-deploy.sh": templateText("harbor-acme-deploy.sh"),
            "harbor-acme.sh": templateText("harbor-acme.sh"),
        });
    }
    const stdin = Object.entries(files)
        .map(([n, c]) => `${n} ${Buffer.from(c).toString("base64")}`)
        .join("\n");
    const runAction = (action: "create" | "update" | "delete") =>
        spawnSync("sh", ["-c", harborCommand(action, p)], { input: stdin, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []);
    return { p, dir, harborDir, runAction, calls };
}

describe("harbor-lifecycle.sh with ACME", () => {
    it("writes the challenge server after prepare, starts certbot after compose up, and keeps the bootstrap certificate aside", () => {
        const h = lifecycle(true);
        const r = h.runAction("update");
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const conf = path.join(h.harborDir, "common", "config", "nginx", "conf.d", "registry-kit-acme.server.conf");
        expect(fs.readFileSync(conf, "utf8")).toBe(renderHarborAcmeServerConf("h.example.com", 443));
        expect(fs.statSync(path.join(h.harborDir, "common", "config", "nginx", "registry-kit-acme")).isDirectory()).toBe(true);
        const calls = h.calls();
        const acmeDir = path.join(h.p.installDir, "acme");
        const mounts = [
            `-v ${acmeDir}/letsencrypt:/etc/letsencrypt`,
            `-v ${h.harborDir}/common/config/nginx/registry-kit-acme:/var/www/acme`,
            `-v ${h.p.dataVolume}/secret/cert:/etc/registry-kit/harbor-cert`,
            `-v ${h.p.installDir}/tls:/etc/registry-kit/harbor-tls`,
            `-v ${acmeDir}/bin:/etc/registry-kit/bin:ro`,
        ].join(" ");
        const certbot = `--pid container:nginx --env-file ${acmeDir}/acme.env ${mounts} --entrypoint /bin/sh certbot/certbot:v3.3.0 /etc/registry-kit/bin/certbot-acme.sh`;
        expect(calls.slice(calls.indexOf("prepare --with-trivy"))).toEqual([
            "prepare --with-trivy",
            "docker compose up -d --force-recreate --remove-orphans",
            "docker rm -f rk-certbot",
            `docker run --rm ${certbot} once`,
            `docker run -d --name rk-certbot --restart unless-stopped ${certbot} run`,
        ]);
        expect(calls.join("\n")).not.toContain("docker.sock");
        // Bootstrap: served until certbot's certificate is installed (then .acme keeps it from being replaced).
        expect(fs.readFileSync(path.join(h.p.installDir, "tls", "server.key"), "utf8")).toBe("BOOTSTRAP KEY\n");
        expect(fs.statSync(path.join(h.p.installDir, "tls", "bootstrap.key")).mode & 0o777).toBe(0o600);
        fs.writeFileSync(path.join(h.p.installDir, "tls", "server.key"), "ACME KEY\n");
        fs.writeFileSync(path.join(h.p.installDir, "tls", ".acme"), "registry-kit\n");
        expect(h.runAction("update").status).toBe(0);
        expect(fs.readFileSync(path.join(h.p.installDir, "tls", "server.key"), "utf8")).toBe("ACME KEY\n");
        // delete removes the renewal container before stopping Harbor.
        const before = h.calls().length;
        expect(h.runAction("delete").status).toBe(0);
        expect(h.calls().slice(before)).toEqual(["docker rm -f rk-certbot", "docker compose down"]);
    });

    it("after a failed first issuance: records Harbor as installed, keeps the renewal container retrying, and a retry only runs certbot", () => {
        const h = lifecycle(true, true);
        const r = h.runAction("update");
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("the ACME certificate could not be obtained");
        expect(h.calls().slice(-2)[1]).toMatch(/^docker run -d --name rk-certbot --restart unless-stopped .* run$/);
        expect(fs.readFileSync(path.join(h.p.installDir, "config.hmac"), "utf8")).toBe(`${h.p.configHmac}\n`);
        // The retry (next pulumi up, same inputs): no prepare, no recreate; compose up and certbot again.
        const before = h.calls().length;
        h.runAction("update");
        const retry = h.calls().slice(before);
        expect(retry.some((c) => c.startsWith("prepare") || c.includes("--force-recreate"))).toBe(false);
        expect(retry).toContain("docker compose up -d --remove-orphans");
        expect(retry.some((c) => c.endsWith(" once"))).toBe(true);
    });

    it("without ACME removes a certbot container an earlier ACME run left, and serves the given certificate again", () => {
        const h = lifecycle(false);
        fs.mkdirSync(path.join(h.p.installDir, "acme"), { recursive: true });
        fs.writeFileSync(path.join(h.p.installDir, "acme", "container"), "rk-certbot\n");
        fs.mkdirSync(path.join(h.p.installDir, "tls"), { recursive: true });
        fs.writeFileSync(path.join(h.p.installDir, "tls", ".acme"), "registry-kit\n");
        const r = h.runAction("update");
        expect(r.status).toBe(0);
        expect(h.calls().slice(-2)).toEqual(["docker compose up -d --force-recreate --remove-orphans", "docker rm -f rk-certbot"]);
        expect(fs.existsSync(path.join(h.p.installDir, "tls", ".acme"))).toBe(false);
        expect(fs.readFileSync(path.join(h.p.installDir, "tls", "server.key"), "utf8")).toBe("BOOTSTRAP KEY\n");
    });
});
