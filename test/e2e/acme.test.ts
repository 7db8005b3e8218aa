/**
 * ACME mode on a real Docker engine against a real ACME server: Pebble (Debian's package) on the test
 * network, resolving the stack's hostname to the proxy through Docker's DNS. Certbot, nginx and the
 * registry run the program's own container specs.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
    buildImageTar,
    deploy,
    prepare,
    startSideService,
    docker,
    RegistryClient,
    removeByPrefix,
    render,
    Rendered,
    run,
    waitHealthy,
    eventually,
    proxyRequest,
    servedCertificate as servedCertificateAt,
    verifyChain,
} from "./harness";

const PREFIX = "rk-acme";
const HOST = "registry.acme.test";
const HTTPS = 38443;
const HTTP = 38080;
const PEBBLE_MGMT = 38015;
const REGISTRY = `${HOST}:${HTTPS}`;
const CERTBOT = `${PREFIX}-certbot`;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-acme-"));
const stateFile = path.join(work, "state.json");
const hostsFile = path.join(work, "hosts");
const certDir = path.join(work, "certs");
let rendered: Rendered;
let password: string;
let pebbleRoot: string;
let issuedReport = "";

function stackFile(acme: Record<string, unknown> = {}): string {
    const pebbleCa = docker("run", "--rm", "--entrypoint", "cat", "registry-kit-test/pebble:2", "/etc/pebble/ca.pem") + "\n";
    const doc = {
        config: {
            "registry-kit:hostname": HOST,
            "registry-kit:docker": { namePrefix: PREFIX },
            "registry-kit:registry": { image: "registry-kit-test/registry:2" },
            "registry-kit:proxy": { image: "registry-kit-test/nginx:1-njs", hostIp: "127.0.0.1", httpsPort: HTTPS, httpPort: HTTP },
            "registry-kit:monitoring": { enabled: false },
            "registry-kit:tls": {
                mode: "acme",
                acme: {
                    directory: "https://pebble:14000/dir",
                    caBundle: pebbleCa,
                    image: "registry-kit-test/certbot:2",
                    reloadCheckSeconds: 2,
                    issueTimeoutSeconds: 120,
                    ...acme,
                },
            },
        },
    };
    const file = path.join(work, `Pulumi.acme-${crypto.randomUUID()}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

/** The certificate the proxy serves: subject, issuer, SANs, serial, and the chain's PEM. */
const servedCertificate = () => servedCertificateAt(HTTPS, HOST);

/** One GET on a fresh TLS connection to the proxy, trusting only Pebble's root. */
async function get(pathname: string): Promise<number> {
    const target = { port: HTTPS, hostname: HOST, ca: pebbleRoot, user: "admin", password };
    return (await proxyRequest(target, "GET", pathname, undefined, { Accept: "application/vnd.docker.distribution.manifest.v2+json" })).status;
}

const certbotLog = () => run("docker", ["logs", CERTBOT], { allowFail: true });

describe("ACME certificates from a real ACME server (Pebble)", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry", "nginx", "certbot", "pebble"]);
        startSideService(`${PREFIX}-net`, {
            name: `${PREFIX}-pebble`,
            alias: "pebble",
            image: "registry-kit-test/pebble:2",
            env: { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
            publish: [`127.0.0.1:${PEBBLE_MGMT}:15000`],
            args: ["-config", "/etc/pebble/pebble-config.json", "-dnsserver", "127.0.0.11:53"],
        });
        const pebbleCa = path.join(work, "pebble-ca.pem");
        fs.writeFileSync(pebbleCa, docker("run", "--rm", "--entrypoint", "cat", "registry-kit-test/pebble:2", "/etc/pebble/ca.pem") + "\n");
        pebbleRoot = await eventually("Pebble's root", () => {
            const r = run("curl", ["-sSf", "--cacert", pebbleCa, `https://127.0.0.1:${PEBBLE_MGMT}/roots/0`], { allowFail: true });
            return r.code === 0 && r.stdout.includes("BEGIN CERTIFICATE") ? r.stdout : undefined;
        });

        rendered = render(stackFile(), path.join(work, "render-1"), stateFile, "acme");
        const { commands } = await deploy(rendered);
        issuedReport = commands.find((c) => c.name === `${CERTBOT}-issued`)?.stdout ?? "";
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`, CERTBOT]);

        password = rendered.outputs.adminPassword;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), pebbleRoot);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${HOST}\n`);
    });

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("plans no change on a second pulumi up: certbot's five-minute start period reads back as Docker reports it", async () => {
        const again = await deploy(render(stackFile(), path.join(work, "render-again"), stateFile, "acme"), rendered);
        expect(Object.entries(again.plans).filter(([, p]) => p.action !== "same")).toEqual([]);
        expect(Object.keys(again.plans)).toContain(CERTBOT);
        expect(again.commands).toEqual([]);
        expect(docker("inspect", "-f", "{{.Config.Healthcheck.StartPeriod}}", CERTBOT)).toBe("5m0s");
    });

    it("has `pulumi up` wait for issuance and report the issuer and expiry", () => {
        expect(issuedReport).toMatch(/^issuer=CN=Pebble Intermediate CA [0-9a-f]+$/m);
        expect(issuedReport).toMatch(/^notAfter=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    });

    it("serves a certificate issued by Pebble for the hostname, and push and pull work trusting Pebble's root", async () => {
        const served = await eventually("the ACME certificate to replace the bootstrap one", () => {
            const s = servedCertificate();
            return s.leaf.issuer.includes("Pebble Intermediate") ? s : undefined;
        });
        expect(served.leaf.subjectAltName).toBe(`DNS:${HOST}`);
        expect(verifyChain(work, pebbleRoot, served)).toContain(": OK");

        const client = new RegistryClient({ work, hostsFile, certDir, registry: REGISTRY, user: "admin", password });
        const pushed = client.push(buildImageTar(work, PREFIX, [1 << 20, 1 << 20]), "team/app:v1");
        expect(client.pull("team/app:v1", 2)).toBe(pushed);
        expect(client.inspect("team/app:v1").digest).toBe(pushed);
        // Without Pebble's root the certificate is not trusted: the check above is real.
        const untrusted = client.inspect("team/app:v1", false);
        expect(untrusted.code).not.toBe(0);
        expect(untrusted.stderr).toMatch(/certificate signed by unknown authority/);
    });

    it("serves a forced renewal's new certificate after a graceful reload, with no failed request meanwhile", async () => {
        const before = servedCertificate().leaf.serialNumber;
        let ok = 0;
        const failures: string[] = [];
        let stop = false;
        const worker = async () => {
            while (!stop) {
                try {
                    const status = await get("/v2/team/app/manifests/v1");
                    if (status === 200) ok++;
                    else failures.push(`HTTP ${status}`);
                } catch (e) {
                    failures.push(String(e));
                }
            }
        };
        const workers = [worker(), worker()];
        await new Promise((r) => setTimeout(r, 1000));
        const renew = run("docker", ["exec", CERTBOT, "certbot", "renew", "--force-renewal", "--no-random-sleep-on-renew", "--cert-name", "registry-kit"], {
            timeoutMs: 120_000,
        });
        expect(renew.stdout).toContain("Congratulations, all renewals succeeded");
        const after = await eventually(
            "the renewed certificate to be served",
            () => {
                const serial = servedCertificate().leaf.serialNumber;
                return serial !== before ? serial : undefined;
            },
            30_000,
        );
        await new Promise((r) => setTimeout(r, 3000));
        stop = true;
        await Promise.all(workers);
        expect(after).not.toBe(before);
        console.log(`during the renewal and reload: ${ok} requests succeeded, ${failures.length} failed`);
        expect(failures).toEqual([]);
        expect(ok).toBeGreaterThan(50);
        expect(run("docker", ["logs", `${PREFIX}-proxy`], { allowFail: true }).stdout).toContain("registry-kit: nginx reloaded");
    });

    it("keeps the account and certificate when the certbot and nginx containers are replaced, without a new issuance", async () => {
        const serial = servedCertificate().leaf.serialNumber;
        const listing = () =>
            docker("exec", CERTBOT, "sh", "-c", "cd /etc/letsencrypt && find accounts archive -type f | sort && find accounts -name regr.json -exec cat {} +");
        const before = listing();
        const changed = render(stackFile({ reloadCheckSeconds: 3, renewIntervalHours: 11 }), path.join(work, "render-2"), stateFile, "acme");
        const { replaced, commands } = await deploy(changed, rendered);
        expect(replaced.sort()).toEqual([CERTBOT, `${PREFIX}-proxy`]);
        expect(commands.map((c) => c.name)).toEqual([`${CERTBOT}-issued`]);
        await waitHealthy([`${PREFIX}-proxy`, CERTBOT]);
        expect(listing()).toBe(before);
        await eventually("certbot to keep the certificate", () =>
            certbotLog().stdout.includes("Certificate not yet due for renewal; no action taken.") ? true : undefined,
        );
        const served = await eventually("the proxy to serve the kept certificate", () => {
            const s = servedCertificate().leaf;
            return s.issuer.includes("Pebble Intermediate") ? s : undefined;
        });
        expect(served.serialNumber).toBe(serial);
        rendered = changed;
    });

    it("explains a failed issuance: a name that does not resolve", () => {
        // One attempt for a name nobody serves, with the real certbot and Pebble, under its own cert name.
        const env = ["-e", "RK_DOMAINS=nothere.acme.test", "-e", "RK_CERT_NAME=nothere"];
        const attempt = run("docker", ["exec", ...env, CERTBOT, "/bin/sh", "/usr/local/bin/registry-kit-acme", "once"], {
            allowFail: true,
            timeoutMs: 120_000,
        });
        expect(attempt.code).not.toBe(0);
        const waited = run("docker", ["exec", ...env, CERTBOT, "/bin/sh", "/usr/local/bin/registry-kit-acme", "wait", "10"], {
            allowFail: true,
            timeoutMs: 60_000,
        });
        expect(waited.code).toBe(1);
        expect(waited.stderr.trim()).toBe(
            "ACME issuance for nothere.acme.test from https://pebble:14000/dir failed: the DNS name nothere.acme.test does not resolve: point its A/AAAA record at this host's public address",
        );
    });
});
