/**
 * The gitlab topology's settings: every bad input refused with the setting, the value (never a
 * secret) and what is allowed; GitLab's password rules; the renderers' own guards.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parse } from "yaml";
import { renderGitlabRb, rubyString } from "../../renderers/gitlab-rb";
import { renderNginxConf } from "../../renderers/nginx-conf";
import { parseSettings } from "../../stacks/config";
import { gitlabEndpoint, gitlabPasswordProblem } from "../../stacks/schema";

const base = { topology: "gitlab", hostname: "registry.example.com", gitlab: { externalUrl: "https://gitlab.example.com" } };

const failure = (raw: Record<string, unknown>, keys = ["gitlab", "auth", "tls"]): string => settingsFailure(raw, keys);
const withGitlab = (gitlab: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({ ...base, ...rest, gitlab: { ...base.gitlab, ...gitlab } });

describe("gitlab settings", () => {
    it("accepts the example and fills GitLab's defaults", () => {
        const s = parseSettings(base);
        expect(s.gitlab).toMatchObject({
            image: "gitlab/gitlab-ce:19.4.1-ce.0",
            registryIssuer: "registry-kit-gitlab-issuer",
            sshPort: 2222,
            shmSizeMb: 256,
            startTimeoutSeconds: 900,
            retainOnDelete: true,
        });
        expect(gitlabEndpoint("https://gitlab.example.com:8443")).toEqual({
            hostname: "gitlab.example.com",
            port: 8443,
            url: "https://gitlab.example.com:8443",
        });
        expect(gitlabEndpoint("https://gitlab.example.com/")).toEqual({ hostname: "gitlab.example.com", port: 443, url: "https://gitlab.example.com" });
    });

    it("refuses GitLab and the registry on the same host name and port, allows another port", () => {
        expect(failure(withGitlab({ externalUrl: "https://registry.example.com" }))).toContain(
            'registry-kit:gitlab.externalUrl: got "https://registry.example.com"; allowed: a host name or port other than the registry\'s (registry.example.com:443): GitLab and the registry are two virtual hosts on one proxy',
        );
        expect(parseSettings(withGitlab({ externalUrl: "https://registry.example.com:8443" })).gitlab.externalUrl).toBe("https://registry.example.com:8443");
    });

    it("refuses an external URL that is not https, has a path, or is missing", () => {
        expect(failure(withGitlab({ externalUrl: "http://gitlab.example.com" }))).toContain(
            'registry-kit:gitlab.externalUrl: got "http://gitlab.example.com"; allowed: an https:// URL: the proxy terminates TLS for GitLab',
        );
        expect(failure(withGitlab({ externalUrl: "https://gitlab.example.com/gitlab" }))).toContain(
            'registry-kit:gitlab.externalUrl: got "https://gitlab.example.com/gitlab"; allowed: an https:// URL with a host name and optional port only (no path, user, query or fragment)',
        );
        expect(failure({ topology: "gitlab", hostname: "registry.example.com" })).toContain(
            'registry-kit:gitlab.externalUrl: got nothing; allowed: GitLab\'s https:// URL, such as https://gitlab.example.com: required when topology is "gitlab"',
        );
    });

    it("refuses a root password GitLab would refuse, without echoing it", () => {
        const cases: [string, string][] = [
            ["Sh0rt!", "at least 8 characters"],
            ["MyGitLab-2026!", 'no "gitlab" in it'],
            ["DevOps-forever-1", 'no "devops" in it'],
            ["theroot-is-9x", 'no "root" in it'],
            ["Administrator1!", 'no "administrator" in it'],
            ["x".repeat(129), "at most 128 characters"],
        ];
        for (const [pw, why] of cases) {
            const message = failure(withGitlab({ rootPassword: pw }));
            expect(message).toContain(`registry-kit:gitlab.rootPassword: got [secret]; allowed: a password GitLab accepts: ${why}`);
            expect(message).not.toContain(pw);
        }
        // The root email's parts count too (4+ characters); 64+ characters skip the word checks.
        expect(failure(withGitlab({ rootPassword: "Opsteam-2026-x", rootEmail: "opsteam@corp.io" }))).toContain('no "opsteam" in it');
        expect(gitlabPasswordProblem(`gitlab${"a".repeat(58)}`, "admin@gitlab.example.com")).toBeUndefined();
        expect(parseSettings(withGitlab({ rootPassword: "Tr4il-Blazing-Otter" }), ["gitlab"]).gitlab.rootPassword).toBe("Tr4il-Blazing-Otter");
    });

    it("runs Distribution 2.8 by default and refuses registry 3, whose notifications GitLab does not take", () => {
        expect(parseSettings(base).registry.image).toBe("registry:2.8.3");
        expect(parseSettings({ ...base, topology: "small-team" }).registry.image).toBe("registry:3");
        expect(failure({ ...base, registry: { image: "registry:3.0.0" } })).toContain(
            'registry-kit:registry.image: got "registry:3.0.0"; allowed: a Distribution 2 image such as registry:2.8.3, or gitlab.notifications: false (registry 3 posts notifications as events.v2+json',
        );
        expect(failure({ ...base, registry: { image: "mirror.internal/registry:latest", dialect: "v3" } })).toContain("registry-kit:registry.image:");
        // Registry 3 without notifications: token auth through the JWKS works.
        expect(parseSettings(withGitlab({ notifications: false }, { registry: { image: "registry:3" } })).registry.image).toBe("registry:3");
    });

    it("refuses a root password or GitLab key in plain text", () => {
        expect(failure(withGitlab({ rootPassword: "Tr4il-Blazing-Otter" }), [])).toContain(
            "registry-kit:gitlab.rootPassword: got a plain-text value; allowed: a secret (pulumi config set --secret --path 'registry-kit:gitlab.rootPassword' ...)",
        );
    });

    it("makes a second issuer impossible: extra gitlab.rb lines may not touch the registry wiring", () => {
        expect(failure(withGitlab({ extraConfig: "gitlab_rails['registry_issuer'] = 'other'" }))).toContain(
            'registry-kit:gitlab.extraConfig: got "(Ruby)"; allowed: lines that leave registry-kit\'s settings alone (found registry_issuer;',
        );
        expect(failure(withGitlab({ extraConfig: "registry['internal_key'] = File.read('/k')\nexternal_url 'http://x'" }))).toContain(
            "found external_url, internal_key;",
        );
        expect(parseSettings(withGitlab({ extraConfig: "gitlab_rails['time_zone'] = 'UTC'" })).gitlab.extraConfig).toContain("time_zone");
    });

    it("refuses htpasswd users (GitLab manages access) and clashing host ports", () => {
        expect(failure({ ...base, auth: { users: [{ name: "ci", password: "x" }] } })).toContain(
            'registry-kit:auth.users: got "(set)"; allowed: no htpasswd users with topology "gitlab"',
        );
        expect(failure(withGitlab({ externalUrl: "https://gitlab.example.com:9090" }))).toContain(
            "registry-kit:gitlab.externalUrl: got 9090; allowed: a host port not already used by registry-kit:monitoring.port",
        );
        expect(failure(withGitlab({ sshPort: 80 }))).toContain(
            "registry-kit:gitlab.sshPort: got 80; allowed: a host port not already used by registry-kit:proxy.httpPort",
        );
    });

    it("asks for a public name in ACME mode, and for both or neither of GitLab's certificate and key", () => {
        expect(failure(withGitlab({ externalUrl: "https://gitlab.internal" }, { tls: { mode: "acme" } }))).toContain(
            'registry-kit:gitlab.externalUrl: got "gitlab.internal"; allowed: a public DNS name in tls.mode "acme"',
        );
        const provided = { tls: { mode: "provided", certificate: "-----BEGIN CERTIFICATE-----x", privateKey: "k" } };
        expect(failure(withGitlab({ certificate: "-----BEGIN CERTIFICATE-----y" }, provided))).toContain(
            "registry-kit:gitlab.privateKey: got nothing; allowed: both gitlab.certificate and gitlab.privateKey, or neither",
        );
        expect(failure(withGitlab({ certificate: "-----BEGIN CERTIFICATE-----y", privateKey: "k" }))).toContain(
            'registry-kit:gitlab.certificate: got "(PEM)"; allowed: no certificate of your own with tls.mode "self-signed"',
        );
    });
});

describe("gitlab renderers' guards", () => {
    const input = {
        externalUrl: "https://gitlab.example.com",
        registryHost: "registry.example.com",
        registryPort: 5050,
        registryApiUrl: "http://registry:5000",
        issuer: "iss",
        trustedCidrs: ["172.30.5.0/24"],
        monitoringCidrs: ["172.30.5.0/24"],
        sshPort: 0,
    };

    it("quotes Ruby strings so a value cannot end its literal", () => {
        expect(rubyString(`a'b\\c`)).toBe(`'a\\'b\\\\c'`);
        const rb = renderGitlabRb({ ...input, issuer: `x'; system('id'); '` });
        expect(rb).toContain(`gitlab_rails['registry_issuer'] = 'x\\'; system(\\'id\\'); \\''`);
        expect(rb).toContain("gitlab_rails['registry_port'] = '5050'");
        expect(rb).not.toContain("gitlab_shell_ssh_port");
    });

    it("applies the proxy's source allowlist to GitLab's virtual host too", () => {
        const conf = renderNginxConf({
            hostname: "registry.example.com",
            upstream: "registry:5000",
            publicHttpsPort: 443,
            allowCidrs: ["10.0.0.0/8"],
            hstsMaxAge: 0,
            app: { hostname: "gitlab.example.com", upstream: "gitlab:80", listenPort: 443, publicHttpsPort: 443 },
        });
        const gitlabServer = conf.slice(conf.indexOf("# gitlab.example.com: a web application"));
        expect(gitlabServer).toContain("allow 10.0.0.0/8;\n        deny all;");
        // /healthz (loopback only), the registry's server and GitLab's.
        expect(conf.match(/deny all;/g)!.length).toBe(3);
    });

    it("refuses an http external URL, a bad CIDR, no trusted proxy, and one vhost for two sites", () => {
        expect(() => renderGitlabRb({ ...input, externalUrl: "http://gitlab.example.com" })).toThrow("is not https://<host>[:port]");
        expect(() => renderGitlabRb({ ...input, trustedCidrs: ["10.0.0.0/33"] })).toThrow('"10.0.0.0/33" is not an IP address or CIDR block');
        expect(() => renderGitlabRb({ ...input, trustedCidrs: [] })).toThrow("no trusted proxy address");
        const nginx = { hostname: "a.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0 };
        expect(() => renderNginxConf({ ...nginx, app: { hostname: "a.example.com", upstream: "gitlab:80", listenPort: 443, publicHttpsPort: 443 } })).toThrow(
            "the app and the registry both answer to a.example.com on port 443",
        );
    });
});

describe("the .gitlab-ci.yml example in the docs", () => {
    it("is YAML a runner reads, logging in and pushing with GitLab's registry variables", () => {
        const doc = parse(fs.readFileSync(path.join(__dirname, "..", "..", "docs", "gitlab-ci.yml"), "utf8"));
        const job = doc["build-image"];
        expect(doc.stages).toEqual(["build"]);
        expect(job.stage).toBe("build");
        const script = [...job.before_script, ...job.script, job.variables.IMAGE].join("\n");
        expect(script).toMatch(/docker login "\$CI_REGISTRY" /);
        for (const v of ["$CI_REGISTRY_IMAGE", "$CI_REGISTRY_USER", "$CI_REGISTRY_PASSWORD"]) expect(script).toContain(v);
        expect(job.script).toContain('docker push "$IMAGE"');
    });
});
