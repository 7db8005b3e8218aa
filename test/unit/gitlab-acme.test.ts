/**
 * The gitlab topology in ACME mode, under mocks: certbot asks for one certificate naming both hosts,
 * and both virtual hosts serve it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { unwrapSecrets } from "../../offline/engine";

let ev: Evaluation;
const container = (name: string) => unwrapSecrets(ev.resources.find((r) => r.name === name && r.type === "docker:index/container:Container")!.inputs) as any;

beforeAll(async () => {
    ev = await evaluate(
        {
            config: {
                "registry-kit:topology": "gitlab",
                "registry-kit:hostname": "registry.example.com",
                "registry-kit:docker": { namePrefix: "rk-ga" },
                "registry-kit:gitlab": { externalUrl: "https://gitlab.example.com" },
                "registry-kit:tls": { mode: "acme", acme: { email: "ops@example.com" } },
            },
            secretKeys: [],
        },
        { stack: "unit" },
    );
}, 120_000);

describe("gitlab topology with ACME", () => {
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
