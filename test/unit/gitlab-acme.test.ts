/**
 * The gitlab topology with registry 3 (no notifications), ACME and extra gitlab.rb lines, under mocks:
 * the JWKS under GitLab's kid, one certificate naming both hosts served by both virtual hosts, and
 * gitlab.rb turned secret.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { TOKEN_JWKS_PATH } from "../../renderers/token-auth";
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
                "registry-kit:gitlab": {
                    externalUrl: "https://gitlab.example.com",
                    notifications: false,
                    extraConfig: "gitlab_rails['smtp_password'] = 'smtp-secret-value'",
                },
                "registry-kit:tls": { mode: "acme", acme: { email: "ops@example.com" } },
                "registry-kit:registry": { image: "registry:3" },
            },
            secretKeys: ["registry-kit:gitlab"],
        },
        { stack: "unit" },
    );
}, 120_000);

describe("gitlab topology with registry 3, ACME and extra gitlab.rb lines", () => {
    it("gives registry 3 the JWKS under GitLab's kid, and no notification endpoint", () => {
        const config = parse(ev.files.find((f) => f.container === "rk-ga-registry" && f.path === "/etc/distribution/config.yml")!.content);
        expect(config.auth.token.jwks).toBe(TOKEN_JWKS_PATH);
        const jwks = JSON.parse(ev.files.find((f) => f.container === "rk-ga-registry" && f.path === TOKEN_JWKS_PATH)!.content);
        expect(jwks.keys[0].kid).toBe(ev.outputs.tokenKeyId);
        expect(config.notifications).toBeUndefined();
        expect(String(unwrapSecrets(container("rk-ga-registry").envs))).not.toContain("REGISTRY_NOTIFICATIONS_ENDPOINTS");
    });

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
