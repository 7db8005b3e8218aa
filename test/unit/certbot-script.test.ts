/**
 * templates/certbot-acme.sh with a stand-in `certbot` that prints what real CAs answer (Pebble's and
 * Let's Encrypt's wording): each failure turns into the likely cause, which `wait` reports.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../render-cli";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-certbot-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** Runs the script (its /etc/letsencrypt moved into a temp folder) with certbot printing `output` and failing (or exiting `exitCode`). */
function attempt(
    output: string,
    args: string[],
    o: { exitCode?: number; env?: Record<string, string> } = {},
): { code: number; stdout: string; stderr: string; status: string; script: string; env: NodeJS.ProcessEnv } {
    const dir = fs.mkdtempSync(path.join(work, "case-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "certbot"), `#!/bin/sh\ncat <<'OUT'\n${output}\nOUT\nexit ${o.exitCode ?? 1}\n`, {
        mode: 0o755,
    });
    const script = fs.readFileSync(path.join(ROOT, "templates", "certbot-acme.sh"), "utf8").replaceAll("/etc/letsencrypt", path.join(dir, "le"));
    fs.mkdirSync(path.join(dir, "le"));
    fs.writeFileSync(path.join(dir, "acme.sh"), script);
    const env = {
        PATH: `${bin}:${process.env.PATH}`,
        RK_DOMAINS: "registry.example.com,cr.example.com",
        RK_CERT_NAME: "registry-kit",
        RK_SERVER: "https://acme.example/dir",
        RK_EMAIL: "",
        RK_KEY_TYPE: "ecdsa",
        RK_RSA_KEY_SIZE: "2048",
        RK_ELLIPTIC_CURVE: "secp256r1",
        RK_WEBROOT: dir,
        RK_RENEW_SECONDS: "1",
        RK_RETRY_SECONDS: "1",
        ...o.env,
    };
    const r = spawnSync("sh", [path.join(dir, "acme.sh"), ...args], { env, encoding: "utf8", timeout: 20_000 });
    const statusFile = path.join(dir, "le", "registry-kit-registry-kit.status");
    const status = fs.existsSync(statusFile) ? fs.readFileSync(statusFile, "utf8") : "";
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, status, script: path.join(dir, "acme.sh"), env };
}

const failure = (detail: string) =>
    `Certbot failed to authenticate some domains (authenticator: webroot). The Certificate Authority reported these problems:\n  Domain: registry.example.com\n${detail}\nSome challenges have failed.`;
const prefix = "ACME issuance for registry.example.com,cr.example.com from https://acme.example/dir failed: ";

describe("certbot-acme.sh", () => {
    it.each([
        [
            "Pebble, a name that does not resolve",
            '  Detail: Get "http://x/.well-known/acme-challenge/t": could not resolve URL',
            "the DNS name registry.example.com does not resolve",
        ],
        [
            "Let's Encrypt, NXDOMAIN",
            "  Detail: DNS problem: NXDOMAIN looking up A for registry.example.com",
            "the DNS name registry.example.com does not resolve",
        ],
        ["a closed port 80", "  Detail: dial tcp 203.0.113.7:80: connect: connection refused", "nothing answered on port 80 of registry.example.com"],
        [
            "Let's Encrypt, a firewall",
            "  Detail: 203.0.113.7: Timeout during connect (likely firewall problem)",
            "nothing answered on port 80 of registry.example.com",
        ],
        [
            "another host answering",
            "  Type:   unauthorized\n  Detail: Invalid response from http://x/.well-known/acme-challenge/t: 404",
            "registry.example.com answered on port 80, but not with the challenge",
        ],
        ["a rate limit", "  Detail: urn:ietf:params:acme:error:rateLimited :: too many certificates", "the ACME server's rate limit was hit"],
    ])("explains %s", (_what, detail, hint) => {
        const once = attempt(failure(detail), ["once"]);
        expect(once.code).toBe(1);
        expect(once.stdout).toContain(`registry-kit-acme: ${prefix}${hint}`);
        expect(once.status.startsWith(`failed ${prefix}${hint}`)).toBe(true);
    });

    it("runs RK_DEPLOY_HOOK after a successful `once` (certificate obtained or already there), and not after a failure", () => {
        const hook = { RK_DEPLOY_HOOK: 'echo "deployed $RK_CERT_NAME" >> "$RK_WEBROOT/hook"' };
        const ok = attempt("Certificate not yet due for renewal; no action taken.", ["once"], { exitCode: 0, env: hook });
        expect(ok.code).toBe(0);
        expect(fs.readFileSync(path.join(ok.env.RK_WEBROOT!, "hook"), "utf8")).toBe("deployed registry-kit\n");
        expect(ok.status).toBe("ok\n");
        const failed = attempt(failure("  Detail: dial tcp 203.0.113.7:80: connect: connection refused"), ["once"], { env: hook });
        expect(failed.code).toBe(1);
        expect(fs.existsSync(path.join(failed.env.RK_WEBROOT!, "hook"))).toBe(false);
    });

    it("has `wait` report the failure and exit non-zero, as `pulumi up` shows it", () => {
        const r = attempt(failure("  Detail: dial tcp 203.0.113.7:80: connect: connection refused"), ["once"]);
        expect(r.code).toBe(1);
        const waited = spawnSync("sh", ["-c", `sh "$0" wait 3`, r.script], { env: r.env, encoding: "utf8", timeout: 20_000 });
        expect(waited.status).toBe(1);
        expect(waited.stderr.trim()).toBe(
            `${prefix}nothing answered on port 80 of registry.example.com: open port 80 to this host (HTTP-01 needs it) and check that DNS points here`,
        );
    });
});
