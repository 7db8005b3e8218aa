/**
 * registry-kit as a consumer gets it: `npm pack` of the built package (`npm run build` first; npm test
 * and npm run test:unit do), installed from the tarball into a fresh project in a temporary folder
 * (offline from npm's cache where it can), type-checked with today's `pulumi new typescript` tsconfig
 * and with the older commonjs one, and run the way Pulumi's Node.js language host loads a program
 * (test/consumer/pulumi-node-host.js: its ts-node, its options) under mocks, for a TypeScript and a
 * plain JavaScript program.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "consumer");
const HOST = path.join(FIXTURES, "pulumi-node-host.js");
let dir = "";
let app = "";

/** The version of a package installed here, so npm finds it in its cache. */
const version = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")).version as string;

/** The README example's resources: the components, their children, and the consumer's network. */
const README_EXAMPLE = [
    "docker:index/container:Container reg",
    "docker:index/container:Container reg-proxy",
    "docker:index/network:Network reg-net",
    "docker:index/remoteImage:RemoteImage reg-image",
    "docker:index/remoteImage:RemoteImage reg-proxy-image",
    "docker:index/volume:Volume reg-data",
    "registry-kit:auth:Htpasswd reg-users",
    "registry-kit:proxy:TlsProxy reg-proxy",
    "registry-kit:registry:Registry reg",
    "tls:index/privateKey:PrivateKey reg-tls-ca-key",
    "tls:index/selfSignedCert:SelfSignedCert reg-tls-ca",
];

interface HostRun {
    status: number | null;
    stderr: string;
    resources: string[];
    loadedAws: boolean;
}

/** Runs a program in `cwd` through the language-host stand-in; `env` as Pulumi's host sets it. */
function host(cwd: string, program: string, env: Record<string, string>): HostRun {
    const r = spawnSync(process.execPath, [HOST, program], {
        cwd,
        encoding: "utf8",
        timeout: 120_000,
        env: { ...process.env, TS_NODE_CACHE: "false", ...env },
    });
    const lines = r.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    return {
        status: r.status,
        stderr: r.stderr,
        resources: lines
            .filter((l) => l.type)
            .map((l) => `${l.type} ${l.name}`)
            .sort(),
        loadedAws: lines.find((l) => l.done)?.loadedAws,
    };
}

/** `tsc -p <config>` in the scratch project: its exit status and the first lines it printed. */
function tsc(config: string, files?: string[]): { status: number | null; out: string } {
    const args = [path.join(app, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", config];
    const r = spawnSync(process.execPath, files ? [...args.slice(0, 2), ...files, "--strict", "--module", "nodenext", "--skipLibCheck"] : args, {
        cwd: app,
        encoding: "utf8",
        timeout: 120_000,
    });
    return { status: r.status, out: (r.stdout + r.stderr).split("\n").slice(0, 20).join("\n") };
}

beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, "dist", "index.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "registry-kit-consumer-"));
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" }));
    const tarball = path.join(dir, packed[0].filename);
    app = path.join(dir, "app");
    fs.cpSync(path.join(FIXTURES, "ts"), app, { recursive: true });
    fs.cpSync(path.join(FIXTURES, "js"), path.join(app, "js"), { recursive: true });
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, main: "index.ts" }));
    fs.writeFileSync(path.join(app, "js", "package.json"), JSON.stringify({ name: "consumer-js", private: true, main: "index.js" }));
    execFileSync(
        "npm",
        [
            "install",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            tarball,
            `@pulumi/docker@${version("@pulumi/docker")}`,
            `typescript@${version("typescript")}`,
            `@types/node@${version("@types/node")}`,
        ],
        { cwd: app, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 },
    );
}, 360_000);

afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a TypeScript consumer", () => {
    it("type-checks with today's `pulumi new typescript` tsconfig (module nodenext)", () => {
        const r = tsc("tsconfig.nodenext.json");
        expect(r.out).toBe("");
        expect(r.status).toBe(0);
    });

    it("type-checks with the older commonjs tsconfig (moduleResolution node, no skipLibCheck)", () => {
        const r = tsc("tsconfig.commonjs.json");
        expect(r.out).toBe("");
        expect(r.status).toBe(0);
    });

    it("type-checks the subpaths registry-kit/aws, /stacks and /renderers (nodenext)", () => {
        const r = tsc("tsconfig.nodenext.json", ["aws.ts"]);
        expect(r.out).toBe("");
        expect(r.status).toBe(0);
    });

    it("type-checks registry-kit/aws and /renderers with the older commonjs tsconfig (typesVersions)", () => {
        fs.writeFileSync(path.join(app, "tsconfig.subpaths.json"), JSON.stringify({ extends: "./tsconfig.commonjs.json", files: ["subpaths.ts"] }));
        const r = tsc("tsconfig.subpaths.json");
        expect(r.out).toBe("");
        expect(r.status).toBe(0);
    });

    it("fails the type check on a wrong argument (the check is real)", () => {
        const r = tsc("tsconfig.nodenext.json", ["type-error.ts"]);
        expect(r.status).not.toBe(0);
        expect(r.out).toMatch(/type-error\.ts.*replicas|Type 'string' is not assignable to type 'number'/s);
    });

    for (const config of ["tsconfig.nodenext.json", "tsconfig.commonjs.json"]) {
        it(`runs under Pulumi's ts-node with type checking (${config}), registering the README example without loading @pulumi/aws`, () => {
            const r = host(app, "index.ts", { PULUMI_NODEJS_TYPESCRIPT: "true", PULUMI_NODEJS_TSCONFIG_PATH: config });
            expect(r.stderr).toContain("ts-node 7.0.1");
            expect(r.stderr).toContain("transpileOnly undefined");
            expect(r.status, r.stderr).toBe(0);
            expect(r.resources).toEqual(expect.arrayContaining(README_EXAMPLE));
            expect(r.loadedAws).toBe(false);
        });
    }

    it("stops with the TypeScript error under Pulumi's ts-node when the program does not type-check", () => {
        const r = host(app, "type-error.ts", { PULUMI_NODEJS_TYPESCRIPT: "true", PULUMI_NODEJS_TSCONFIG_PATH: "tsconfig.nodenext.json" });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/TS2322|not assignable/);
        expect(r.resources).toEqual([]);
    });

    it("loads @pulumi/aws only through registry-kit/aws", () => {
        const r = host(app, "aws.ts", {
            PULUMI_NODEJS_TYPESCRIPT: "true",
            PULUMI_NODEJS_TSCONFIG_PATH: "tsconfig.nodenext.json",
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        });
        expect(r.status, r.stderr).toBe(0);
        expect(r.resources).toContain("registry-kit:storage:S3Bucket images");
        expect(r.loadedAws).toBe(true);
    });
});

describe("a JavaScript consumer", () => {
    it("runs the README example with require(), templates found in the installed package", () => {
        const r = host(path.join(app, "js"), ".", {});
        expect(r.status, r.stderr).toBe(0);
        expect(r.resources).toEqual(expect.arrayContaining(README_EXAMPLE));
        expect(r.loadedAws).toBe(false);
        expect(fs.existsSync(path.join(app, "node_modules", "registry-kit", "dist", "templates", "nginx.conf.mustache"))).toBe(true);
    });

    it("gets the pure renderers from registry-kit/renderers without loading any Pulumi package", () => {
        const out = execFileSync(
            process.execPath,
            [
                "-e",
                `const r = require("registry-kit/renderers"); console.log(typeof r.renderNginxConf, Object.keys(require.cache).some((f) => f.includes("@pulumi")))`,
            ],
            { cwd: app, encoding: "utf8" },
        );
        expect(out.trim()).toBe("function false");
    });

    it("cannot reach files the exports map does not name", () => {
        const r = spawnSync(process.execPath, ["-e", `require("registry-kit/dist/components/registry")`], { cwd: app, encoding: "utf8" });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("ERR_PACKAGE_PATH_NOT_EXPORTED");
    });
});
