/**
 * The render command: every generated file and manifest.json, secrets masked unless --show-secrets.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderCli } from "../render-cli";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-render-"));
const state = path.join(work, "state.json");

function render(out: string, showSecrets: boolean): void {
    renderCli(["--stack", "local", "--out", out, "--state", state, ...(showSecrets ? ["--show-secrets"] : [])]);
}

/** Every file under a folder, relative path → content. */
function tree(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
        }
    };
    walk(dir);
    return out;
}

let masked: Record<string, string>;
let shown: Record<string, string>;

beforeAll(() => {
    render(path.join(work, "masked"), false);
    render(path.join(work, "shown"), true);
    masked = tree(path.join(work, "masked"));
    shown = tree(path.join(work, "shown"));
}, 120_000);
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("render", () => {
    it("writes every file the containers receive, plus manifest.json and outputs.json", () => {
        expect(Object.keys(shown).sort()).toEqual([
            "files/rk-local-maintenance/etc/registry-kit/maintenance.json",
            "files/rk-local-maintenance/opt/registry-kit/maintenance.mjs",
            "files/rk-local-prometheus/etc/prometheus/prometheus.yml",
            "files/rk-local-prometheus/etc/prometheus/rules/maintenance.yml",
            "files/rk-local-prometheus/etc/prometheus/rules/registry.yml",
            "files/rk-local-prometheus/etc/prometheus/rules/volumes.yml",
            "files/rk-local-proxy/etc/nginx/nginx.conf",
            "files/rk-local-proxy/etc/nginx/registry-kit/auth-secrets.conf",
            "files/rk-local-proxy/etc/nginx/registry-kit/auth.js",
            "files/rk-local-proxy/etc/nginx/tls/server.crt",
            "files/rk-local-proxy/etc/nginx/tls/server.key",
            "files/rk-local-registry-gc/etc/distribution/config.yml",
            "files/rk-local-registry-gc/opt/registry-kit/registry-gc.sh",
            "files/rk-local-registry-metrics-gate/etc/nginx/nginx.conf",
            "files/rk-local-registry/auth/htpasswd",
            "files/rk-local-registry/etc/distribution/config.yml",
            "manifest.json",
            "outputs.json",
        ]);
        const manifest = JSON.parse(shown["manifest.json"]);
        expect(manifest.resources.length).toBeGreaterThan(20);
        expect(manifest.resources.find((r: any) => r.name === "rk-local-registry-data").options.retainOnDelete).toBe(true);
        // The rendered key and certificate are real and belong together.
        const cert = new crypto.X509Certificate(shown["files/rk-local-proxy/etc/nginx/tls/server.crt"]);
        expect(cert.checkPrivateKey(crypto.createPrivateKey(shown["files/rk-local-proxy/etc/nginx/tls/server.key"]))).toBe(true);
        expect(cert.subjectAltName).toBe("DNS:registry.localhost");
    });

    it("masks every secret unless --show-secrets, and leaves the rest identical", () => {
        const secrets = [
            JSON.parse(shown["outputs.json"]).adminPassword as string,
            shown["files/rk-local-registry/auth/htpasswd"].split(":")[1].trim(),
            shown["files/rk-local-proxy/etc/nginx/tls/server.key"].split("\n")[1],
            // The proxy's credential toward the registry and the verdict cache's key.
            ...[...shown["files/rk-local-proxy/etc/nginx/registry-kit/auth-secrets.conf"].matchAll(/default "([^"]+)";/g)].map((m) => m[1]),
            (JSON.parse(shown["manifest.json"]).resources.find((r: any) => r.name === "rk-local-registry").inputs.envs[0] as string).split("=")[1],
        ];
        for (const s of secrets) expect(s.length).toBeGreaterThan(16);
        const everything = Object.values(masked).join("\n");
        for (const s of secrets) expect(everything).not.toContain(s);
        expect(masked["files/rk-local-registry/auth/htpasswd"]).toBe("[secret: masked; render --show-secrets to see it]\n");
        expect(masked["files/rk-local-proxy/etc/nginx/registry-kit/auth-secrets.conf"]).toBe("[secret: masked; render --show-secrets to see it]\n");
        expect(JSON.parse(masked["outputs.json"]).adminPassword).toBe("[secret: masked; render --show-secrets to see it]");
        for (const file of [
            "files/rk-local-registry/etc/distribution/config.yml",
            "files/rk-local-proxy/etc/nginx/nginx.conf",
            "files/rk-local-proxy/etc/nginx/registry-kit/auth.js",
            "files/rk-local-proxy/etc/nginx/tls/server.crt",
        ]) {
            expect(masked[file]).toBe(shown[file]);
        }
    });
});
