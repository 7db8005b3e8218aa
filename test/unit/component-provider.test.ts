/**
 * registry-kit for other Pulumi languages: the source-based component plugin (PulumiPlugin.yaml,
 * provider/index.ts), checked without the Pulumi CLI through @pulumi/pulumi's own ComponentProvider,
 * which is what `pulumi package add` runs: the schema it infers from the TypeScript args (every
 * component, every argument typed, none left as Any but the raw-config escape hatch), and a construct
 * request under Pulumi's mocks (the offline engine) creating registry-kit's component and its
 * containers; and which of registry-kit's own args Pulumi's inference refuses, and why.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OfflineEngine, unwrapSecrets } from "../../offline/engine";

const ROOT = path.resolve(__dirname, "..", "..");
const PLUGIN_DIR = path.join(ROOT, "provider");
const engine = new OfflineEngine({}, "consumer", "plugin");
let plugin: typeof import("../../provider");
let schema: {
    name: string;
    resources: Record<string, { inputProperties: Record<string, unknown>; requiredInputs?: string[]; properties: Record<string, unknown> }>;
    types: Record<string, { type: string; enum?: { value: string }[] }>;
};

/**
 * Schema inference runs the TypeScript compiler over the components: CPU-bound, 40-50 s alone on two
 * CPUs, 155 s while another test file and other work shared them.
 */
const INFERENCE_TIMEOUT_MS = 400_000;

/** The schema ComponentProvider infers for these components of the entry in `dir`. */
async function inferSchema(dir: string, components: ReturnType<typeof getPulumiComponents>) {
    return JSON.parse(await new ComponentProvider({ dirname: dir, name: "registry-kit", components }).getSchema());
}

beforeAll(async () => {
    await engine.install();
    plugin = await import("../../provider");
    schema = await inferSchema(PLUGIN_DIR, getPulumiComponents(plugin));
}, INFERENCE_TIMEOUT_MS);

describe("the plugin", () => {
    it("is declared for the Node.js runtime with provider/ as its entry, under registry-kit's name", () => {
        expect(parse(fs.readFileSync(path.join(ROOT, "PulumiPlugin.yaml"), "utf8"))).toEqual({ runtime: "nodejs", main: "provider" });
        const manifest = JSON.parse(fs.readFileSync(path.join(PLUGIN_DIR, "package.json"), "utf8"));
        const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        expect(manifest).toMatchObject({ name: root.name, version: root.version, main: "index.ts" });
    });

    it("exports the components Pulumi's language host discovers, and only those", () => {
        expect(
            getPulumiComponents(plugin)
                .map((c) => c.name)
                .sort(),
        ).toEqual(["Certificates", "Htpasswd", "Minio", "Monitoring", "Redis", "Registry", "TlsProxy"]);
    });

    it("gets a schema with every component under registry-kit:index and every argument typed", () => {
        expect(schema.name).toBe("registry-kit");
        expect(Object.keys(schema.resources).sort()).toEqual(
            ["Certificates", "Htpasswd", "Minio", "Monitoring", "Redis", "Registry", "TlsProxy"].map((n) => `registry-kit:index:${n}`),
        );
        const untyped = Object.entries(schema.resources).flatMap(([t, r]) =>
            Object.entries(r.inputProperties)
                .filter(([, v]) => JSON.stringify(v).includes("pulumi.json#/Any"))
                .map(([k]) => `${t}.${k}`),
        );
        expect(untyped).toEqual(["registry-kit:index:Registry.extraConfig"]);
    });

    it("keeps registry-kit's arguments, defaults in their docs, and the literal unions as enums", () => {
        const registry = schema.resources["registry-kit:index:Registry"];
        expect(Object.keys(registry.inputProperties)).toEqual(
            expect.arrayContaining(["networkName", "htpasswd", "image", "dialect", "replicas", "s3", "tokenAuth", "notifications", "uploadPurging"]),
        );
        expect(registry.requiredInputs).toEqual(["networkName"]);
        expect(registry.inputProperties.networkName).toEqual({ type: "string", description: "Docker network the registry joins. Required." });
        expect(Object.keys(registry.properties)).toEqual(["address", "configYaml", "metricsAddresses"]);
        expect(schema.types["registry-kit:index:Dialect"].enum!.map((e) => e.value)).toEqual(["v2", "v3"]);
        expect(schema.types["registry-kit:index:CertificateMode"].enum!.map((e) => e.value)).toEqual(["self-signed", "provided", "acme"]);
        expect(schema.types["registry-kit:index:Scheme"].enum!.map((e) => e.value)).toEqual(["http", "https"]);
        expect(schema.resources["registry-kit:index:TlsProxy"].requiredInputs!.sort()).toEqual([
            "certificatePem",
            "hostname",
            "networkName",
            "privateKeyPem",
            "upstream",
        ]);
    });
});

describe("a construct request", () => {
    it("builds registry-kit's Registry and its container under the plugin's component, with its outputs", async () => {
        const provider = new ComponentProvider({ dirname: PLUGIN_DIR, name: "registry-kit", components: getPulumiComponents(plugin) });
        const result = await provider.construct(
            "reg",
            "registry-kit:index:Registry",
            { networkName: "reg-net", htpasswd: "admin:$2y$10$x", dialect: "v2", image: "registry:2.8" },
            {},
        );
        const address = await new Promise<string>((resolve) => (result.state.address as pulumi.Output<string>).apply((v) => resolve(v)));
        expect(address).toBe("registry:5000");
        await engine.settle();
        const byName = (type: string) => engine.resources.filter((r) => r.type === type).map((r) => r.name);
        expect(byName("registry-kit:index:Registry")).toEqual(["reg"]);
        expect(byName("registry-kit:registry:Registry")).toEqual(["reg"]);
        const container = engine.resources.find((r) => r.type === "docker:index/container:Container" && r.name === "reg")!;
        expect(unwrapSecrets(container.inputs.image)).toBeDefined();
        expect(JSON.stringify(unwrapSecrets(container.inputs.uploads))).toContain("/etc/docker/registry/config.yml");
    });

    it("refuses a type the plugin does not have", async () => {
        const provider = new ComponentProvider({ dirname: PLUGIN_DIR, name: "registry-kit", components: getPulumiComponents(plugin) });
        await expect(provider.construct("x", "registry-kit:index:Harbor", {}, {})).rejects.toThrow("Component class not found for 'Harbor'");
        await expect(provider.construct("x", "registry-kit:registry:Registry", {}, {})).rejects.toThrow("Invalid module 'registry'");
    });
});

describe("registry-kit's own args", () => {
    // What Pulumi's inference says of the package root's components as they are: why the plugin wraps them.
    it(
        "are inferable except where a literal union or an inline object type stands",
        async () => {
            const kit = await import("../../index");
            const all = getPulumiComponents(kit);
            const refused = ["Certificates", "HarborInstaller", "Monitoring", "Registry", "SwarmMonitoring", "SwarmProxy", "SwarmRedis", "SwarmRegistry"];
            const rest = all.filter((c) => !refused.includes(c.name));
            expect(rest.map((c) => c.name).sort()).toEqual([
                "AcmeCertbot",
                "Alertmanager",
                "Gitlab",
                "Htpasswd",
                "Maintenance",
                "Minio",
                "Redis",
                "TlsProxy",
                "TokenSigningKey",
                "VolumeExporter",
            ]);
            expect(Object.keys((await inferSchema(ROOT, rest)).resources)).toHaveLength(rest.length);
            const refusals: Record<string, string> = {};
            for (const c of all.filter((x) => refused.includes(x.name))) {
                await inferSchema(ROOT, [c]).then(
                    () => (refusals[c.name] = "inferred"),
                    (e: Error) => (refusals[c.name] = e.message.split("\n")[0].replace(/: type '.*$/, "")),
                );
            }
            expect(refusals).toEqual({
                Certificates: "Union types are not supported for component 'Certificates' property 'CertificatesArgs.mode'",
                HarborInstaller: "Unsupported type for component 'HarborInstaller' property 'HarborInstallerArgs.trivy'",
                Monitoring: "Union types are not supported for component 'Monitoring' property 'ScrapeJob.scheme'",
                Registry: "Union types are not supported for component 'Registry' input 'RegistryArgs.dialect'",
                SwarmMonitoring: "Union types are not supported for component 'SwarmMonitoring' property 'ScrapeJob.scheme'",
                SwarmProxy: "Unsupported type for component 'SwarmProxy' property 'SwarmProxyArgs.placement'",
                SwarmRedis: "Unsupported type for component 'SwarmRedis' property 'SwarmRedisArgs.placement'",
                SwarmRegistry: "Union types are not supported for component 'SwarmRegistry' property 'SwarmRegistryArgs.dialect'",
            });
        },
        INFERENCE_TIMEOUT_MS,
    );
});
