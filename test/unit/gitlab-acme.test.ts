/**
 * The gitlab topology in ACME mode with extra gitlab.rb lines, under mocks: certbot asks for one
 * certificate naming both hosts, both virtual hosts serve it, and gitlab.rb turns secret.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, maskSecrets, unwrapSecrets } from "../../offline/engine";

let ev: Evaluation;
const container = (name: string) => unwrapSecrets(ev.resources.find((r) => r.name === name && r.type === "docker:index/container:Container")!.inputs) as any;

beforeAll(async () => {
    ev = await evaluate(
        {
            config: {
                "registry-kit:topology": "gitlab",
                "registry-kit:hostname": "registry.example.com",
                "registry-kit:docker": { namePrefix: "rk-ga" },
                "registry-kit:gitlab": { externalUrl: "https://gitlab.example.com", extraConfig: "gitlab_rails['smtp_password'] = 'smtp-secret-value'" },
                "registry-kit:tls": { mode: "acme", acme: { email: "ops@example.com" } },
            },
            secretKeys: ["registry-kit:gitlab"],
        },
        { stack: "unit" },
    );
}, 120_000);

describe("gitlab topology with ACME and extra gitlab.rb lines", () => {
    it("keeps gitlab.rb secret once extra lines (which may hold passwords) are in it", () => {
        expect(isSecretWrapper(ev.outputs.gitlabRb)).toBe(true);
        const env = (ev.resources.find((r) => r.name === "rk-ga-gitlab" && r.type === "docker:index/container:Container")!.inputs.envs as unknown[]).find((e) =>
            String(unwrapSecrets(e)).startsWith("GITLAB_OMNIBUS_CONFIG="),
        );
        expect(String(unwrapSecrets(env))).toContain("smtp-secret-value");
        expect(isSecretWrapper(env)).toBe(true);
        expect(JSON.stringify([maskSecrets(ev.outputs), ev.resources.map((r) => maskSecrets(r.inputs))])).not.toContain("smtp-secret-value");
    });

    it("has certbot issue one certificate for the registry and GitLab", () => {
        expect(container("rk-ga-certbot").envs).toContain("RK_DOMAINS=registry.example.com,gitlab.example.com");
    });

    it("serves certbot's certificate on both virtual hosts, and the challenge for both names on port 80", () => {
        const conf = ev.files.find((f) => f.container === "rk-ga-proxy" && f.path === "/etc/nginx/nginx.conf")!.content;
        const gitlabServer = conf.slice(conf.indexOf("server_name gitlab.example.com;", conf.indexOf("listen 443 ssl;")));
        expect(conf).toContain("listen 443 ssl;\n        server_name gitlab.example.com;");
        expect(gitlabServer).toContain("ssl_certificate /etc/nginx/tls/active/fullchain.pem;");
        expect(gitlabServer).toContain("ssl_certificate_key /etc/nginx/tls/active/privkey.pem;");
        expect(conf.match(/location \/\.well-known\/acme-challenge\//g)).toHaveLength(2);
        expect(ev.files.some((f) => f.container === "rk-ga-proxy" && f.path === "/etc/nginx/tls/app.crt")).toBe(false);
    });
});
