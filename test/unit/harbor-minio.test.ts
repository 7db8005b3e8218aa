/**
 * registry.storage.type minio in the harbor topology: MinIO on registry-kit's Docker, published on the Docker
 * host, and Harbor's storage_service s3 pointing at the endpoint the user gives, with the bucket-scoped user's keys.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, maskSecrets, ResourceRecord, unwrapSecrets } from "../../offline/engine";
import { parseHarborStdin } from "../../renderers/harbor-scripts";
import { minioEndpointPort } from "../../stacks/schema";
import { settingsFailure } from "../settings-failure";

const SHA = "0f".repeat(32);
const harbor = { installerSha256: SHA, adminPassword: "Unit-Admin-Pass1" };
const base = { topology: "harbor", hostname: "harbor.example.com", harbor };
const config = {
    "registry-kit:topology": "harbor",
    "registry-kit:hostname": "harbor.example.com",
    "registry-kit:docker": { namePrefix: "rk-hm" },
    "registry-kit:monitoring": { enabled: false },
    "registry-kit:registry": { storage: { type: "minio", minio: { endpoint: "http://10.0.0.5:9000", bucket: "harbor-images" } } },
    "registry-kit:harbor": harbor,
};

let ev: Evaluation;
const plain = (v: unknown) => unwrapSecrets(v) as any;
const find = (type: string, name: string): ResourceRecord => {
    const r = ev.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} ${name}; have ${ev.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const cmd = () => find("command:local:Command", "rk-hm-harbor");

beforeAll(async () => {
    ev = await evaluate({ config, secretKeys: ["registry-kit:harbor"] }, { stack: "unit" });
}, 60_000);

describe("harbor settings with minio storage", () => {
    it("require the endpoint Harbor's registry reaches MinIO at, and take it only with topology harbor", () => {
        expect(settingsFailure({ ...base, registry: { storage: { type: "minio" } } }, ["harbor"])).toBe(
            "invalid stack configuration:\nregistry-kit:registry.storage.minio.endpoint: got nothing; allowed: the URL at which Harbor's registry container reaches MinIO, such as http://10.0.0.5:9000 (an address of the Docker host running MinIO, whose port is published there): required for minio storage with topology harbor, since Harbor's compose network cannot reach registry-kit's network",
        );
        expect(settingsFailure({ ...base, registry: { storage: { type: "minio", minio: { endpoint: "10.0.0.5:9000" } } } }, ["harbor"])).toContain(
            'registry-kit:registry.storage.minio.endpoint: got "10.0.0.5:9000"; allowed: an http:// or https:// URL such as http://10.0.0.5:9000',
        );
        expect(
            settingsFailure({ hostname: "registry.example.com", registry: { storage: { type: "minio", minio: { endpoint: "http://10.0.0.5:9000" } } } }, []),
        ).toContain(
            'registry-kit:registry.storage.minio.endpoint: got "http://10.0.0.5:9000"; allowed: nothing outside topology harbor (the registry reaches MinIO on the stack\'s network)',
        );
    });

    it("publish MinIO at the endpoint's port unless hostPort says otherwise, on a port nothing else of ours uses", () => {
        expect(minioEndpointPort("http://10.0.0.5:9000")).toBe(9000);
        expect(minioEndpointPort("http://minio.internal")).toBe(80);
        expect(minioEndpointPort("https://minio.internal")).toBe(443);
        const storage = (minio: Record<string, unknown>) => ({ storage: { type: "minio", minio: { endpoint: "http://10.0.0.5:9090", ...minio } } });
        expect(settingsFailure({ ...base, registry: storage({}) }, ["harbor"])).toBe(
            'invalid stack configuration:\nregistry-kit:registry.storage.minio.endpoint: got "http://10.0.0.5:9090"; allowed: a host port for MinIO not already used by registry-kit:monitoring.port (9090; MinIO and Prometheus run on the same Docker host)',
        );
        expect(settingsFailure({ ...base, registry: storage({ hostPort: 443 }) }, ["harbor"])).toBe(
            "invalid stack configuration:\nregistry-kit:registry.storage.minio.hostPort: got 443; allowed: a host port for MinIO not already used by registry-kit:harbor.httpsPort (443; Harbor and MinIO run on the same host)",
        );
    });
});

describe("harbor with minio storage", () => {
    it("runs MinIO with its S3 port published on the Docker host, and Harbor starts after the bucket and user exist", () => {
        const minio = find("docker:index/container:Container", "rk-hm-storage-minio");
        expect(plain(minio.inputs.ports)).toEqual([{ internal: 9000, external: 9000, ip: "0.0.0.0" }]);
        expect(cmd().options.dependsOn).toEqual(expect.arrayContaining(["rk-hm-storage-minio-setup"]));
    });

    it("points harbor.yml's storage_service s3 at the endpoint, path-style, with the registry user's keys as secrets", () => {
        const files = parseHarborStdin(plain(cmd().inputs.stdin));
        const yml = parse(files["harbor.yml"]);
        const setup = find("docker:index/container:Container", "rk-hm-storage-minio-setup");
        const env = Object.fromEntries((plain(setup.inputs.envs) as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        expect(yml.storage_service).toEqual({
            s3: {
                region: "us-east-1",
                bucket: "harbor-images",
                accesskey: env.RK_ACCESS_KEY,
                secretkey: env.RK_SECRET_KEY,
                regionendpoint: "http://10.0.0.5:9000",
                forcepathstyle: true,
                encrypt: false,
                secure: false,
                chunksize: 10485760,
                rootdirectory: "/registry",
            },
        });
        expect(env.RK_SECRET_KEY.length).toBe(40);
        expect(isSecretWrapper(cmd().inputs.stdin)).toBe(true);
        expect(JSON.stringify(ev.resources.map((r) => maskSecrets(r.inputs)))).not.toContain(env.RK_SECRET_KEY);
    });

    it("leaves MinIO unpublished in the other topologies unless hostPort is set", async () => {
        const small = await evaluate(
            {
                config: {
                    "registry-kit:hostname": "registry.example.com",
                    "registry-kit:docker": { namePrefix: "rk-sm" },
                    "registry-kit:monitoring": { enabled: false },
                    "registry-kit:registry": { storage: { type: "minio" } },
                },
                secretKeys: [],
            },
            { stack: "unit" },
        );
        const minio = small.resources.find((r) => r.name === "rk-sm-storage-minio" && r.type === "docker:index/container:Container")!;
        expect(minio.inputs.ports).toBeUndefined();
        expect(settingsFailure({ hostname: "registry.example.com", registry: { storage: { type: "minio", minio: { hostPort: 443 } } } }, [])).toBe(
            "invalid stack configuration:\nregistry-kit:registry.storage.minio.hostPort: got 443; allowed: a host port not already used by registry-kit:proxy.httpsPort (0.0.0.0:443)",
        );
    });
});
