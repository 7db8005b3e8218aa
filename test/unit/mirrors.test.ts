/**
 * Pull-through mirrors: every bad `registry-kit:mirrors` setting fails at preview with one line naming the
 * setting, the value (never a secret) and what is allowed; the registry config, nginx.conf and client files
 * render as Distribution, nginx, Docker and containerd read them; the upstream password stays a secret end
 * to end (a secret env var, masked by `render`, in no file).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { settingsFailure } from "../settings-failure";
import { renderCli } from "../render-cli";
import { parseSettings } from "../../stacks/config";
import { renderNginxConf } from "../../renderers/nginx-conf";
import { renderRegistryConfig } from "../../renderers/registry-config";
import { containerdHostsFiles, dockerDaemonJson, MirrorClientInput, mirrorPullExample } from "../../renderers/mirror-clients";
import { mirrorRootDirectory } from "../../stacks/mirrors";

const base = { hostname: "registry.example.com", proxy: { httpsPort: 443, httpPort: 80 } };
const hub = { name: "hub", upstream: "https://registry-1.docker.io", hostname: "hub.example.com" };
const failure = (mirrors: unknown[], more: Record<string, unknown> = {}) => settingsFailure({ ...base, ...more, mirrors }, ["mirrors", "tls"]);
const line = (setting: string, rest: string) => `invalid stack configuration:\nregistry-kit:mirrors${setting}: ${rest}`;

describe("mirror settings that fail at preview", () => {
    it("accepts a Docker Hub mirror on its own name and a ghcr.io mirror on its own port, with defaults", () => {
        const s = parseSettings({ ...base, mirrors: [hub, { name: "ghcr", upstream: "https://ghcr.io", httpsPort: 8444, anonymous: true }] }, ["mirrors"]);
        expect(s.mirrors[0]).toMatchObject({ ttl: "168h", anonymous: false, allowHttp: false, retainOnDelete: true });
        expect(s.mirrors[1]).toMatchObject({ httpsPort: 8444, anonymous: true });
        expect(parseSettings(base).mirrors).toEqual([]);
    });

    it("a URL that is not https, carries credentials or a path, or names docker.io instead of its API", () => {
        expect(failure([{ ...hub, upstream: "http://mirror.internal:5000" }])).toBe(
            line(
                "[0].upstream",
                'got "http://mirror.internal:5000"; allowed: an https:// URL (or allowHttp: true for an upstream you reach over plain HTTP on a network you trust)',
            ),
        );
        expect(parseSettings({ ...base, mirrors: [{ ...hub, upstream: "http://mirror.internal:5000", allowHttp: true }] }, ["mirrors"]).mirrors).toHaveLength(
            1,
        );
        const creds = failure([{ ...hub, upstream: "https://bob:hunter2-secret@ghcr.io" }]);
        expect(creds).toBe(
            line("[0].upstream", 'got "https://***@ghcr.io"; allowed: a URL without credentials (set username and password, the password with --secret)'),
        );
        expect(creds).not.toContain("hunter2-secret");
        expect(failure([{ ...hub, upstream: "https://quay.io/v2/" }])).toBe(
            line(
                "[0].upstream",
                'got "https://quay.io/v2/"; allowed: a URL with a host and optional port only (the registry API is at /v2/ of it), such as https://quay.io',
            ),
        );
        expect(failure([{ ...hub, upstream: "https://docker.io" }])).toBe(
            line(
                "[0].upstream",
                'got "https://docker.io"; allowed: https://registry-1.docker.io for Docker Hub (its registry API; docker.io is the name clients write)',
            ),
        );
        expect(failure([{ ...hub, upstream: "ghcr.io" }])).toBe(
            line(
                "[0].upstream",
                'got "ghcr.io"; allowed: an https:// URL of a registry, such as https://registry-1.docker.io, https://ghcr.io or https://quay.io',
            ),
        );
    });

    it("a TTL that is not a Go duration, and a TTL other than 168h on Distribution 2.8", () => {
        expect(failure([{ ...hub, ttl: "7d" }])).toBe(
            line(
                "[0].ttl",
                'got "7d"; allowed: a Go duration such as 30s, 24h or 1h30m (units ns, us, ms, s, m, h; decimals such as 1.5h allowed; no d, w or y)',
            ),
        );
        expect(failure([{ ...hub, ttl: "24h" }], { registry: { image: "registry:2.8.3" } })).toBe(
            line(
                "[0].ttl",
                'got "24h"; allowed: 168h with registry:2.8.3: Distribution 2.8 has no proxy.ttl (it keeps cached content 168h and ignores the setting); use a registry:3 image for another TTL',
            ),
        );
        expect(parseSettings({ ...base, registry: { image: "registry:2.8.3" }, mirrors: [hub] }, ["mirrors"]).mirrors[0].ttl).toBe("168h");
    });

    it("duplicate names, host names and ports, and clashes with the registry's own name and port", () => {
        expect(failure([hub, { ...hub, hostname: "other.example.com" }])).toBe(
            line("[1].name", 'got "hub"; allowed: a name not used by another mirror (mirrors[0] is hub)'),
        );
        expect(failure([hub, { ...hub, name: "hub2" }])).toBe(
            line(
                "[1].hostname",
                'got "hub.example.com"; allowed: a host name and port not used by another mirror (mirrors[0], hub, is served at hub.example.com:443)',
            ),
        );
        expect(failure([{ ...hub, hostname: "REGISTRY.example.com" }])).toBe(
            line(
                "[0].hostname",
                "got \"REGISTRY.example.com\"; allowed: a host name other than the registry's (registry.example.com) on port 443, or httpsPort: a port of the mirror's own",
            ),
        );
        expect(failure([{ name: "a", upstream: "https://ghcr.io", httpsPort: 443 }])).toBe(
            line("[0].httpsPort", "got 443; allowed: a port other than proxy.httpsPort (443), which serves the registry; or a hostname of the mirror's own"),
        );
        expect(
            failure([
                { name: "a", upstream: "https://ghcr.io", httpsPort: 8444 },
                { name: "b", upstream: "https://quay.io", httpsPort: 8444, hostname: "quay.example.com" },
            ]),
        ).toBe(line("[1].httpsPort", "got 8444; allowed: a port not used by another mirror (mirrors[0], a)"));
        expect(failure([{ name: "a", upstream: "https://ghcr.io", httpsPort: 80 }])).toBe(
            line("[0].httpsPort", "got 80; allowed: a host port not already used by registry-kit:proxy.httpPort (0.0.0.0:80)"),
        );
        expect(failure([{ name: "a", upstream: "https://ghcr.io", httpsPort: 9090 }])).toBe(
            line("[0].httpsPort", "got 9090; allowed: a host port not already used by registry-kit:monitoring.port (127.0.0.1:9090)"),
        );
    });

    it("no way to reach it, half the credentials, a name that is not one, a password in plain text", () => {
        expect(failure([{ name: "a", upstream: "https://ghcr.io" }])).toBe(
            line(
                "[0].hostname",
                "got nothing; allowed: a host name for the mirror (its own name on the proxy), or httpsPort (a port of its own): how clients reach it",
            ),
        );
        expect(failure([{ ...hub, username: "bob" }])).toBe(
            line("[0].password", "got nothing; allowed: both username and password (set with --secret), or neither"),
        );
        const pw = failure([{ ...hub, password: "hunter2-secret" }]);
        expect(pw).toBe(line("[0].username", "got nothing; allowed: both username and password (set with --secret), or neither"));
        expect(failure([{ ...hub, name: "Docker_Hub" }])).toBe(
            line("[0].name", "got \"Docker_Hub\"; allowed: 1 to 31 lower-case letters, digits and '-', starting with a letter or digit"),
        );
        expect(settingsFailure({ ...base, mirrors: [{ ...hub, username: "bob", password: "hunter2-secret" }] }, [])).toBe(
            "invalid stack configuration:\nregistry-kit:mirrors[*].password: got a plain-text value; allowed: a secret (pulumi config set --secret --path 'registry-kit:mirrors[0].password' ...)",
        );
        const empty = failure([{ ...hub, username: "bob", password: "" }]);
        expect(empty).toBe(line("[0].password", "got [secret]; allowed: a non-empty password or token"));
    });

    it("topologies other than small-team, and certificates that do not name the mirror", () => {
        expect(failure([hub], { topology: "gitlab", gitlab: { externalUrl: "https://gitlab.example.com" } })).toContain(
            "registry-kit:mirrors: got a list; allowed: [] with topology gitlab (GitLab issues the registry's tokens for its projects' paths, and a mirror serves the upstream's paths); mirrors run with topology small-team",
        );
        expect(failure([{ ...hub, hostname: "hub.internal" }], { tls: { mode: "acme" } })).toBe(
            line(
                "[0].hostname",
                'got "hub.internal"; allowed: a public DNS name in tls.mode "acme" (this is a reserved or private domain, which no public CA issues for), or tls.acme.directory set to your own ACME server',
            ),
        );
        const { certificate, privateKey } = selfSignedFor("registry.example.com");
        expect(failure([hub], { tls: { mode: "provided", certificate, privateKey } })).toBe(
            'invalid stack configuration:\nregistry-kit:tls.certificate: got "(PEM)"; allowed: a certificate that names hub.example.com too (mirror hub is served on it; this one names DNS:registry.example.com)',
        );
        const both = selfSignedFor("registry.example.com", "hub.example.com");
        expect(parseSettings({ ...base, tls: { mode: "provided", ...both }, mirrors: [hub] }, ["mirrors", "tls"]).mirrors).toHaveLength(1);
    });
});

/** A self-signed certificate naming `names`, made with openssl. */
function selfSignedFor(...names: string[]): { certificate: string; privateKey: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rk-mirror-cert-"));
    const { execFileSync } = require("node:child_process") as typeof import("node:child_process");
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            path.join(dir, "key.pem"),
            "-out",
            path.join(dir, "cert.pem"),
            "-days",
            "2",
            "-subj",
            `/CN=${names[0]}`,
            "-addext",
            `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
        ],
        { stdio: "ignore" },
    );
    const out = { certificate: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"), privateKey: fs.readFileSync(path.join(dir, "key.pem"), "utf8") };
    fs.rmSync(dir, { recursive: true, force: true });
    return out;
}

describe("mirror rendering", () => {
    const nginx = { hostname: "registry.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: ["10.0.0.0/8"], hstsMaxAge: 300 };

    it("gives each mirror a server with the registry's TLS settings and allowlist; anonymous ones refuse writes", () => {
        const conf = renderNginxConf({
            ...nginx,
            mirrors: [
                {
                    name: "hub",
                    upstreamUrl: "https://registry-1.docker.io",
                    upstream: "mirror-hub:5000",
                    hostname: "hub.example.com",
                    listenPort: 443,
                    refuseWrites: true,
                },
                { name: "ghcr", upstreamUrl: "https://ghcr.io", upstream: "mirror-ghcr:5000", listenPort: 10444 },
            ],
        });
        const servers = conf.split(/\n    server \{\n/).slice(1);
        expect(servers.map((s) => s.match(/listen ([^;]+);/)![1])).toEqual([
            "80 default_server",
            "443 ssl default_server",
            "443 ssl",
            "10444 ssl default_server",
        ]);
        const [, registry, hubServer, ghcrServer] = servers;
        expect(hubServer).toContain("server_name hub.example.com;");
        expect(hubServer).toContain("set $registry_upstream http://mirror-hub:5000;");
        expect(hubServer).toMatch(/if \(\$registry_write_method = 1\) \{\n\s+return 405 '\{"errors":\[\{"code":"UNSUPPORTED"/);
        expect(ghcrServer).toContain("server_name registry.example.com;");
        expect(ghcrServer).not.toContain("registry_write_method");
        expect(registry).not.toContain("registry_write_method");
        expect(conf).toMatch(/map \$request_method \$registry_write_method \{/);
        // The same TLS and allowlist lines in every HTTPS server.
        const tlsLines = (s: string) => s.split("\n").filter((l) => /ssl_|allow |deny |Strict-Transport/.test(l));
        expect(tlsLines(hubServer)).toEqual(tlsLines(registry));
        expect(tlsLines(ghcrServer)).toEqual(tlsLines(registry));
        expect(tlsLines(registry)).toContain("        allow 10.0.0.0/8;");
    });

    it("leaves nginx.conf of a stack without mirrors as it was, and refuses two servers on one name and port", () => {
        const without = renderNginxConf(nginx);
        expect(without).not.toContain("Mirror ");
        expect(without).not.toContain("registry_write_method");
        expect(without.match(/listen 443 ssl default_server;/g)).toHaveLength(1);
        expect(() =>
            renderNginxConf({
                ...nginx,
                mirrors: [{ name: "a", upstreamUrl: "https://ghcr.io", upstream: "m:5000", hostname: "REGISTRY.example.com", listenPort: 443 }],
            }),
        ).toThrow("nginx: two servers answer to registry.example.com:443");
        expect(() => renderNginxConf({ ...nginx, mirrors: [{ name: "a b", upstreamUrl: "https://ghcr.io", upstream: "m:5000", listenPort: 10443 }] })).toThrow(
            /not one word/,
        );
    });

    it("writes Distribution's proxy section, with ttl only in the v3 dialect and no credentials", () => {
        const input = {
            storage: { kind: "filesystem" as const, rootDirectory: "/var/lib/registry" },
            deleteEnabled: false,
            uploadPurging: { enabled: true, age: "168h", interval: "24h", dryrun: false },
            logLevel: "info",
            proxy: { remoteUrl: "https://registry-1.docker.io", ttl: "24h" },
        };
        expect(renderRegistryConfig({ ...input, dialect: "v3" })).toContain("proxy:\n  remoteurl: https://registry-1.docker.io\n  ttl: 24h\n");
        expect(renderRegistryConfig({ ...input, dialect: "v2" })).toMatch(/proxy:\n  remoteurl: https:\/\/registry-1.docker.io\n$/);
        expect(renderRegistryConfig({ ...input, dialect: "v3", proxy: undefined })).not.toContain("proxy:");
    });

    it("puts each mirror under its own prefix inside the registry's S3 root", () => {
        expect(mirrorRootDirectory("/registry", "hub")).toBe("/registry/mirrors/hub");
        expect(mirrorRootDirectory("/registry/", "hub")).toBe("/registry/mirrors/hub");
        expect(mirrorRootDirectory("/", "hub")).toBe("/mirrors/hub");
    });

    it("writes daemon.json for Docker Hub mirrors only, containerd's hosts.toml per upstream, and the pull form", () => {
        const clients: MirrorClientInput[] = [
            { name: "hub", upstreamUrl: "https://registry-1.docker.io", dockerHub: true, host: "hub.example.com", anonymous: true },
            { name: "hub2", upstreamUrl: "https://registry-1.docker.io", dockerHub: true, host: "registry.example.com:8444", anonymous: false },
            { name: "quay", upstreamUrl: "https://quay.io", dockerHub: false, host: "registry.example.com:8445", anonymous: false },
        ];
        expect(JSON.parse(dockerDaemonJson(clients)!)).toEqual({ "registry-mirrors": ["https://hub.example.com", "https://registry.example.com:8444"] });
        expect(dockerDaemonJson(clients.slice(2))).toBeUndefined();
        const files = containerdHostsFiles(clients, "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
        expect(Object.keys(files)).toEqual([
            "/etc/containerd/certs.d/docker.io/hosts.toml",
            "/etc/containerd/certs.d/docker.io/registry-kit-ca.crt",
            "/etc/containerd/certs.d/quay.io/hosts.toml",
            "/etc/containerd/certs.d/quay.io/registry-kit-ca.crt",
        ]);
        expect(files["/etc/containerd/certs.d/docker.io/hosts.toml"]).toBe(
            [
                "# registry-kit: mirror hub, mirror hub2 of docker.io",
                'server = "https://registry-1.docker.io"',
                "",
                '[host."https://hub.example.com"]',
                '  capabilities = ["pull", "resolve"]',
                '  ca = "/etc/containerd/certs.d/docker.io/registry-kit-ca.crt"',
                "",
                '[host."https://registry.example.com:8444"]',
                '  capabilities = ["pull", "resolve"]',
                '  ca = "/etc/containerd/certs.d/docker.io/registry-kit-ca.crt"',
                "",
            ].join("\n"),
        );
        expect(containerdHostsFiles(clients.slice(2), undefined)).toEqual({
            "/etc/containerd/certs.d/quay.io/hosts.toml":
                '# registry-kit: mirror quay of quay.io\nserver = "https://quay.io"\n\n[host."https://registry.example.com:8445"]\n  capabilities = ["pull", "resolve"]\n',
        });
        expect(mirrorPullExample(clients[0])).toBe("docker pull hub.example.com/library/alpine:latest   # = docker.io/library/alpine:latest");
        expect(mirrorPullExample(clients[2])).toBe(
            "docker login registry.example.com:8445   # the registry's users\ndocker pull registry.example.com:8445/<path>:<tag>   # = quay.io/<path>:<tag>",
        );
    });
});

describe("the upstream password through the program and render", () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-mirrors-"));
    const password = `upstream-${crypto.randomBytes(12).toString("hex")}`;
    const stack = path.join(work, "Pulumi.mir.yaml");
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
    const tree = (dir: string): Record<string, string> => {
        const out: Record<string, string> = {};
        const walk = (d: string) =>
            fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
                const p = path.join(d, e.name);
                if (e.isDirectory()) walk(p);
                else if (e.name !== ".render-state.json") out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
            });
        walk(dir);
        return out;
    };
    let masked: Record<string, string>;
    let shown: Record<string, string>;

    beforeAll(() => {
        const config = {
            "registry-kit:hostname": "registry.example.com",
            "registry-kit:mirrors": [
                { ...hub, username: "bob", password, anonymous: true },
                { name: "ghcr", upstream: "https://ghcr.io", httpsPort: 8444, username: "bob", password },
            ],
        };
        fs.writeFileSync(stack, stringify({ config }));
        const state = path.join(work, "state.json");
        for (const [out, show] of [
            ["masked", false],
            ["shown", true],
        ] as const) {
            renderCli([
                "--stack",
                "mir",
                "--config",
                stack,
                "--out",
                path.join(work, out),
                "--state",
                state,
                "--secret-key",
                "mirrors",
                ...(show ? ["--show-secrets"] : []),
            ]);
        }
        masked = tree(path.join(work, "masked"));
        shown = tree(path.join(work, "shown"));
    }, 120_000);

    it("reaches each mirror container only as a secret env var", () => {
        const resources = JSON.parse(shown["manifest.json"]).resources as { name: string; type: string; inputs: Record<string, any> }[];
        for (const name of ["rk-mir-mirror-hub", "rk-mir-mirror-ghcr"]) {
            const c = resources.find((r) => r.type === "docker:index/container:Container" && r.name === name)!;
            expect(c.inputs.envs).toContain(`REGISTRY_PROXY_PASSWORD=${password}`);
            expect(c.inputs.envs).toContain("REGISTRY_PROXY_USERNAME=bob");
        }
        const maskedResources = JSON.parse(masked["manifest.json"]).resources as { name: string; inputs: Record<string, any> }[];
        const maskedEnvs = maskedResources.find((r) => r.name === "rk-mir-mirror-hub")!.inputs.envs as string[];
        expect(maskedEnvs.filter((e) => e.startsWith("[secret"))).toHaveLength(2); // the http secret and the upstream password
    });

    it("is in no rendered file, shown or masked, and in no output or masked manifest", () => {
        for (const [file, text] of Object.entries(masked)) expect(text, file).not.toContain(password);
        for (const [file, text] of Object.entries(shown)) if (file.startsWith("files/")) expect(text, file).not.toContain(password);
        const config = shown["files/rk-mir-mirror-ghcr/etc/distribution/config.yml"];
        expect(config).toContain("proxy:\n  remoteurl: https://ghcr.io\n  ttl: 168h\n");
        expect(config).toContain("path: /auth/htpasswd");
        expect(shown["files/rk-mir-mirror-hub/etc/distribution/config.yml"]).not.toContain("htpasswd");
    });

    it("names the mirror's host on the self-signed certificate, and outputs daemon.json and containerd's files", () => {
        const cert = new crypto.X509Certificate(shown["files/rk-mir-proxy/etc/nginx/tls/server.crt"]);
        expect(cert.subjectAltName).toContain("DNS:hub.example.com");
        const outputs = JSON.parse(shown["outputs.json"]);
        expect(JSON.parse(outputs.mirrorDockerDaemonJson)).toEqual({ "registry-mirrors": ["https://hub.example.com"] });
        expect(Object.keys(outputs.mirrorContainerdHosts)).toContain("/etc/containerd/certs.d/ghcr.io/hosts.toml");
        expect(outputs.mirrors.ghcr).toMatchObject({ url: "https://registry.example.com:8444", anonymous: false });
        const prometheus = shown["files/rk-mir-prometheus/etc/prometheus/prometheus.yml"];
        expect(prometheus).toContain("job_name: registry-mirror");
        expect(prometheus).toMatch(/- mirror-hub:5001\n\s+labels:\n\s+mirror: hub/);
    });
});

describe("mirrors on object storage", () => {
    it("gives each mirror the registry's bucket and credentials under <rootDirectory>/mirrors/<name>, and no volume", () => {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-mirrors-s3-"));
        try {
            const config = {
                "registry-kit:hostname": "registry.example.com",
                "registry-kit:registry": { storage: { type: "minio" } },
                "registry-kit:mirrors": [hub],
            };
            const stack = path.join(work, "Pulumi.mirs3.yaml");
            fs.writeFileSync(stack, stringify({ config }));
            const out = path.join(work, "out");
            renderCli(["--stack", "mirs3", "--config", stack, "--out", out, "--state", path.join(work, "state.json"), "--show-secrets"]);
            const read = (container: string) => parse(fs.readFileSync(path.join(out, "files", container, "etc", "distribution", "config.yml"), "utf8"));
            expect(read("rk-mirs3-mirror-hub").storage.s3).toMatchObject({ bucket: "registry", rootdirectory: "/registry/mirrors/hub" });
            expect(read("rk-mirs3-registry").storage.s3).toMatchObject({ bucket: "registry", rootdirectory: "/registry" });
            const resources = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).resources as { type: string; name: string; inputs: any }[];
            expect(resources.filter((r) => r.type === "docker:index/volume:Volume").map((r) => r.name)).not.toContain("rk-mirs3-mirror-hub-data");
            const mirror = resources.find((r) => r.type === "docker:index/container:Container" && r.name === "rk-mirs3-mirror-hub")!;
            const registry = resources.find((r) => r.type === "docker:index/container:Container" && r.name === "rk-mirs3-registry")!;
            const s3Env = (envs: string[]) => envs.filter((e) => e.startsWith("REGISTRY_STORAGE_S3_"));
            expect(s3Env(mirror.inputs.envs)).toHaveLength(2);
            expect(s3Env(mirror.inputs.envs)).toEqual(s3Env(registry.inputs.envs));
            expect(mirror.inputs.volumes).toEqual([]);
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    }, 120_000);
    it("with registry.storage.s3.redirect: the registry redirects blob downloads to the bucket, its mirrors do not", () => {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-mirrors-redirect-"));
        try {
            const config = {
                "registry-kit:hostname": "registry.example.com",
                "registry-kit:registry": { storage: { type: "s3", s3: { region: "eu-west-1", redirect: true } } },
                "registry-kit:mirrors": [hub],
            };
            const stack = path.join(work, "Pulumi.mirred.yaml");
            fs.writeFileSync(stack, stringify({ config }));
            const out = path.join(work, "out");
            renderCli(["--stack", "mirred", "--config", stack, "--out", out, "--state", path.join(work, "state.json")]);
            const read = (container: string) => parse(fs.readFileSync(path.join(out, "files", container, "etc", "distribution", "config.yml"), "utf8"));
            expect(read("rk-mirred-registry").storage.redirect).toEqual({ disable: false });
            expect(read("rk-mirred-mirror-hub").storage.redirect).toEqual({ disable: true });
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    }, 120_000);
});
