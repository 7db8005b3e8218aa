/**
 * What a user touches first: `render --help`, a stack that does not exist, `--set`, and how a bad
 * configuration reaches `pulumi preview` (dist/program.js run as Pulumi's Node.js language host runs
 * it, test/consumer/pulumi-node-host.js): one line per problem, no stack trace; keys set without
 * `--path` and misspelt namespaces refused with the fix.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { applySets, HELP, stackFile } from "../../bin/render";
import { staleSource } from "../../build-check";
import { StackConfig } from "../../offline/evaluate";
import { ConfigError, loadSettings, misspeltNamespaceProblems } from "../../stacks/config";
import { renderCommand, ROOT } from "../render-cli";
import { settingsFailure } from "../settings-failure";

/** Runs the render command as a user does, returning its exit status and output. */
function render(args: string[]) {
    const r = spawnSync(process.execPath, [...renderCommand(), ...args], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the built Pulumi program (Pulumi.yaml `main`) as Pulumi's language host does, under mocks. */
function program(config: Record<string, string>) {
    const r = spawnSync(process.execPath, [path.join(ROOT, "test", "consumer", "pulumi-node-host.js"), "dist/program.js"], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_PROJECT: "registry-kit", PULUMI_STACK: "cli" },
    });
    return { status: r.status, stderr: r.stderr, resources: r.stdout.split("\n").filter((l) => l.startsWith('{"type"')) };
}

describe("render --help", () => {
    // Every option the parser accepts, read from its definition.
    const source = fs.readFileSync(path.join(ROOT, "bin", "render.ts"), "utf8");
    const block = source.slice(source.indexOf("options: {"), source.indexOf("}));"));
    const options = [...block.matchAll(/^\s+"?([a-z-]+)"?: \{ type: "(?:string|boolean)"(?:, short: "(\w)")?/gm)].map((m) => ({ long: m[1], short: m[2] }));

    it("lists every option the command accepts, long and short", () => {
        expect(options.map((o) => o.long)).toEqual(["stack", "config", "out", "state", "set", "show-secrets", "secret-key", "help"]);
        for (const o of options) {
            expect(HELP, o.long).toContain(`--${o.long}`);
            if (o.short) expect(HELP, o.long).toContain(`-${o.short}, --${o.long}`);
        }
    });

    it("prints it for --help and -h, and points to it on an unknown option", () => {
        for (const flag of ["--help", "-h"]) {
            const r = render([flag]);
            expect(r.status).toBe(0);
            expect(r.stdout.trim()).toBe(HELP);
        }
        const bad = render(["--stak", "local"]);
        expect(bad.status).toBe(1);
        expect(bad.stderr.trim()).toBe("Unknown option '--stak'; render --help lists the options");
    });
});

describe("a stack that does not exist", () => {
    it("is named with the stacks that do", () => {
        const r = render(["--stack", "prod"]);
        expect(r.status).toBe(1);
        expect(r.stderr.trim()).toBe("--stack prod: no stacks/Pulumi.prod.yaml; allowed: gitlab, harbor, local, or --config FILE");
    });

    it("reads the stack folder from the Pulumi.yaml at or above the current folder", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rk-stacks-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: x\nruntime: nodejs\nstackConfigDir: envs\n");
        fs.mkdirSync(path.join(dir, "envs", "deep"), { recursive: true });
        fs.writeFileSync(path.join(dir, "envs", "Pulumi.dev.yml"), "config: {}\n");
        fs.writeFileSync(path.join(dir, "envs", "Pulumi.prod.yaml"), "config: {}\n");
        expect(stackFile("prod", path.join(dir, "envs", "deep"))).toBe(path.join(dir, "envs", "Pulumi.prod.yaml"));
        expect(() => stackFile("qa", dir)).toThrow("--stack qa: no envs/Pulumi.qa.yaml; allowed: dev, prod, or --config FILE");
        fs.rmSync(dir, { recursive: true });
        expect(() => stackFile("qa", os.tmpdir())).toThrow(/no Pulumi\.yaml in .* or above; allowed: run render in a Pulumi project, or --config FILE/);
    });
});

describe("--set", () => {
    const config = (): StackConfig => ({ config: { "registry-kit:hostname": "a.example.com", "registry-kit:proxy": { httpPort: 80 } }, secretKeys: [] });

    it("sets nested paths and list elements as pulumi config set --path does, values read as YAML", () => {
        const c = config();
        applySets(c, [
            "proxy.httpsPort=8443",
            "auth.users[0].name=ci",
            "proxy.allowCidrs=[10.0.0.0/8]",
            "monitoring.enabled=false",
            "hostname=b.example.com",
            "aws:region=eu-west-1",
        ]);
        expect(c.config).toEqual({
            "registry-kit:hostname": "b.example.com",
            "registry-kit:proxy": { httpPort: 80, httpsPort: 8443, allowCidrs: ["10.0.0.0/8"] },
            "registry-kit:auth": { users: [{ name: "ci" }] },
            "registry-kit:monitoring": { enabled: false },
            "aws:region": "eu-west-1",
        });
    });

    it("refuses what is not KEY=VALUE or not a setting path, in one line", () => {
        expect(() => applySets(config(), ["proxy.httpsPort"])).toThrow(
            "--set proxy.httpsPort: got no KEY=VALUE; allowed: --set KEY=VALUE, such as --set proxy.httpsPort=8443",
        );
        expect(() => applySets(config(), ["proxy..httpsPort=1"])).toThrow(
            `--set proxy..httpsPort=1: got the key "registry-kit:proxy..httpsPort"; allowed: a setting path such as proxy.httpsPort or auth.users[0].name`,
        );
        expect(() => applySets(config(), ["[0]=1"])).toThrow(/got the key "registry-kit:\[0\]"/);
    });

    it("renders a variant without touching the stack file, and a bad value fails like a bad stack file", () => {
        const stackPath = path.join(ROOT, "stacks", "Pulumi.local.yaml");
        const before = fs.readFileSync(stackPath, "utf8");
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "rk-set-"));
        const r = render(["--stack", "local", "--out", out, "--set", "proxy.httpsPort=9443", "--set", "monitoring.enabled=false"]);
        expect(r.status, r.stderr).toBe(0);
        const manifest = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8"));
        const proxy = manifest.resources.find(
            (x: { type: string; name: string }) => x.type === "docker:index/container:Container" && x.name.endsWith("-proxy"),
        );
        expect(proxy.inputs.ports.map((p: { external: number }) => p.external)).toContain(9443);
        expect(manifest.resources.some((x: { name: string }) => x.name.includes("prometheus"))).toBe(false);
        expect(fs.readFileSync(stackPath, "utf8")).toBe(before);
        const bad = render(["--stack", "local", "--out", out, "--set", "proxy.httpsPort=70000"]);
        expect(bad.status).toBe(1);
        expect(bad.stderr.trim()).toBe("invalid stack configuration:\nregistry-kit:proxy.httpsPort: got 70000; allowed: an integer port from 1 to 65535");
        fs.rmSync(out, { recursive: true });
    }, 120_000);
});

describe("config keys", () => {
    it("a key set without --path gets the --path hint, with its value unless secret", () => {
        expect(settingsFailure({ hostname: "r.example.com", "proxy.httpsPort": 8443 }, [])).toBe(
            "invalid stack configuration:\nregistry-kit:proxy.httpsPort: got 8443 under a literal key with a dot (set without --path); allowed: the nested setting (pulumi config rm 'registry-kit:proxy.httpsPort', then pulumi config set --path 'registry-kit:proxy.httpsPort' VALUE)",
        );
        expect(settingsFailure({ hostname: "r.example.com", "auth.users[0].password": "hunter2" }, ["auth.users[0].password"])).toContain(
            "registry-kit:auth.users[0].password: got [secret] under a literal key",
        );
    });

    it("a misspelt namespace is refused with the right key; other namespaces are left alone", () => {
        expect(
            misspeltNamespaceProblems([
                "registrykit:hostname",
                "registry_kit:tls",
                "Registry-Kit:proxy",
                "regsitry-kit:auth",
                "registry-kit:hostname",
                "aws:region",
                "docker:host",
                "registry:x",
                "pulumi:tags",
            ]),
        ).toEqual([
            `registrykit:hostname: unknown namespace "registrykit", never read; allowed: registry-kit:hostname (pulumi config rm 'registrykit:hostname', then set 'registry-kit:hostname')`,
            `registry_kit:tls: unknown namespace "registry_kit", never read; allowed: registry-kit:tls (pulumi config rm 'registry_kit:tls', then set 'registry-kit:tls')`,
            `Registry-Kit:proxy: unknown namespace "Registry-Kit", never read; allowed: registry-kit:proxy (pulumi config rm 'Registry-Kit:proxy', then set 'registry-kit:proxy')`,
            `regsitry-kit:auth: unknown namespace "regsitry-kit", never read; allowed: registry-kit:auth (pulumi config rm 'regsitry-kit:auth', then set 'registry-kit:auth')`,
        ]);
    });

    it("loadSettings reports them with the other problems, as a pulumi.RunError", () => {
        pulumi.runtime.setAllConfig({ "registry-kit:hostname": "r.example.com", "registry_kit:hostname": "x", "registry-kit:proxy": '{"httpsPort":0}' }, []);
        let err: unknown;
        try {
            loadSettings();
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(ConfigError);
        expect(pulumi.RunError.isInstance(err)).toBe(true);
        expect((err as Error).message).toBe(
            "invalid stack configuration:\n" +
                `registry_kit:hostname: unknown namespace "registry_kit", never read; allowed: registry-kit:hostname (pulumi config rm 'registry_kit:hostname', then set 'registry-kit:hostname')\n` +
                "registry-kit:proxy.httpsPort: got 0; allowed: an integer port from 1 to 65535",
        );
    });
});

describe("pulumi preview with a bad configuration", () => {
    it("prints one line per problem and no stack trace, before any resource", () => {
        const r = program({ "registry-kit:hostname": "r.example.com", "registrykit:tls": '{"mode":"acme"}', "registry-kit:proxy.httpsPort": "8443" });
        expect(r.status).toBe(1);
        expect(r.stderr.trim().split("\n")).toEqual([
            "error: invalid stack configuration:",
            `registrykit:tls: unknown namespace "registrykit", never read; allowed: registry-kit:tls (pulumi config rm 'registrykit:tls', then set 'registry-kit:tls')`,
            "registry-kit:proxy.httpsPort: got 8443 under a literal key with a dot (set without --path); allowed: the nested setting (pulumi config rm 'registry-kit:proxy.httpsPort', then pulumi config set --path 'registry-kit:proxy.httpsPort' VALUE)",
        ]);
        expect(r.resources).toEqual([]);
    });

    it("and the same program with a good configuration registers the small-team stack", () => {
        const r = program({ "registry-kit:hostname": "r.example.com" });
        expect(r.status, r.stderr).toBe(0);
        expect(r.resources.length).toBeGreaterThan(10);
        expect(r.resources).toContain(JSON.stringify({ type: "registry-kit:proxy:TlsProxy", name: "rk-cli-proxy" }));
    });
});

describe("a build older than its sources", () => {
    it("is found in a checkout (dist/ beside program.ts), and not in an installed package", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "rk-stale-"));
        for (const d of ["dist", "primitives", "components", "renderers", "stacks", "stacks/settings", "templates"]) fs.mkdirSync(path.join(root, d));
        const program = path.join(root, "dist", "program.js");
        const files = [
            "program.ts",
            "components/registry.ts",
            "stacks/schema.ts",
            "stacks/settings/registry.ts",
            "primitives/network.ts",
            "templates/nginx.conf.mustache",
            "templates/harbor-lifecycle.sh",
            "program.js",
        ];
        for (const f of [...files, "dist/program.js"]) fs.writeFileSync(path.join(root, f), "");
        const at = (f: string, seconds: number) => fs.utimesSync(path.join(root, f), seconds, seconds);
        for (const f of files) at(f, 1_000);
        at("dist/program.js", 2_000);
        expect(staleSource(program)).toBeUndefined();
        at("program.js", 3_000); // not a source
        expect(staleSource(program)).toBeUndefined();
        at("templates/nginx.conf.mustache", 3_000);
        expect(staleSource(program)).toBe("templates/nginx.conf.mustache");
        at("templates/nginx.conf.mustache", 1_000);
        at("components/registry.ts", 3_000);
        expect(staleSource(program)).toBe("components/registry.ts");
        at("components/registry.ts", 1_000);
        at("stacks/settings/registry.ts", 3_000);
        expect(staleSource(program)).toBe("stacks/settings/registry.ts");
        at("stacks/settings/registry.ts", 1_000);
        at("primitives/network.ts", 3_000);
        expect(staleSource(program)).toBe("primitives/network.ts");
        fs.rmSync(path.join(root, "program.ts"));
        expect(staleSource(program)).toBeUndefined();
        expect(staleSource(path.join(root, "components", "registry.ts"))).toBeUndefined();
        fs.rmSync(root, { recursive: true });
    });
});
