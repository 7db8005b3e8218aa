/**
 * Object storage: the AWS bucket and its least-privilege IAM policy, MinIO, the registry's s3 driver
 * settings in both dialects, replicas with Redis, and the bad-input cases.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parse } from "yaml";
import { isSecretWrapper, OfflineEngine, unwrapSecrets } from "../../offline/engine";
import { registryConfig } from "../../renderers/registry-config";
import { keyPrefix, registryS3Policy } from "../../renderers/s3-policy";
import { parseSettings } from "../../stacks/config";

const engine = new OfflineEngine({}, "registry-kit", "storage");
let kit: typeof import("../../index") & typeof import("../../aws");

const resource = async (name: string) => {
    await engine.settle();
    const r = engine.resources.find((x) => x.name === name && x.custom);
    if (!r) throw new Error(`no resource ${name}; have ${engine.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const plainInputs = async (name: string) => unwrapSecrets((await resource(name)).inputs) as any;

const failure = (raw: Record<string, unknown>, secretKeys = ["registry"]): string => settingsFailure(raw, secretKeys);
const base = { hostname: "registry.example.com" };

beforeAll(async () => {
    await engine.install();
    kit = { ...(await import("../../index")), ...(await import("../../aws")) };
});

describe("the IAM policy", () => {
    it("grants exactly the driver's actions on one bucket and one prefix, with no wildcard action or resource", () => {
        expect(keyPrefix("/registry")).toBe("registry/");
        expect(keyPrefix("/")).toBe("");
        expect(registryS3Policy("acme-images", "/registry")).toEqual({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ListRegistryKeys",
                    Effect: "Allow",
                    Action: ["s3:ListBucket"],
                    Resource: "arn:aws:s3:::acme-images",
                    Condition: { StringLike: { "s3:prefix": ["registry/*"] } },
                },
                {
                    Sid: "ReadBucketInfo",
                    Effect: "Allow",
                    Action: ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                    Resource: "arn:aws:s3:::acme-images",
                },
                {
                    Sid: "ReadWriteRegistryObjects",
                    Effect: "Allow",
                    Action: ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"],
                    Resource: "arn:aws:s3:::acme-images/registry/*",
                },
            ],
        });
        const whole = registryS3Policy("b", "/") as any;
        expect(whole.Statement[0].Condition).toBeUndefined();
        expect(whole.Statement[2].Resource).toBe("arn:aws:s3:::b/*");
    });
});

describe("S3Bucket (AWS)", () => {
    it("creates an encrypted, private, owner-enforced bucket with an abort rule, and a user with that policy and a secret key", async () => {
        const b = new kit.S3Bucket("images", { bucket: "acme-images", region: "eu-west-1", versioning: true, abortIncompleteUploadDays: 3 });
        const bucket = await resource("images-bucket");
        expect(bucket.type).toBe("aws:s3/bucket:Bucket");
        expect(bucket.options.retainOnDelete).toBe(true);
        expect(unwrapSecrets(bucket.inputs)).toMatchObject({ bucket: "acme-images", region: "eu-west-1", forceDestroy: false });
        expect((await plainInputs("images-encryption")).rules).toEqual([
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true },
        ]);
        expect(await plainInputs("images-public-access")).toMatchObject({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        expect((await plainInputs("images-ownership")).rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
        expect((await plainInputs("images-lifecycle")).rules).toEqual([
            { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 3 } },
        ]);
        expect((await plainInputs("images-versioning")).versioningConfiguration).toEqual({ status: "Enabled" });
        const policy = await plainInputs("images-registry-policy");
        expect(JSON.parse(policy.policy)).toEqual(registryS3Policy("acme-images", "/registry"));
        expect((await resource("images-registry-key")).options.additionalSecretOutputs).toContain("secret");
        expect(await pulumi.isSecret(b.secretAccessKey)).toBe(true);
    });

    it("leaves versioning off unless asked", async () => {
        new kit.S3Bucket("plain", { bucket: "plain-images" });
        await engine.settle();
        expect(engine.resources.find((r) => r.name === "plain-versioning")).toBeUndefined();
        expect(() => new kit.S3Bucket("bad", { bucket: "Bad_Bucket" })).toThrow(
            /args\.bucket: got "Bad_Bucket"; allowed: an S3 bucket name: lowercase letters/,
        );
    });
});

describe("Minio", () => {
    it("runs MinIO on a retained volume with secret generated root credentials, and sets up the bucket and a scoped user", async () => {
        const m = new kit.Minio("objects", { networkName: "net", bucket: "images" });
        expect(await new Promise((r) => m.endpoint.apply(r))).toBe("http://objects:9000");
        expect((await resource("objects-data")).options.retainOnDelete).toBe(true);
        const server = (await resource("objects")).inputs as any;
        expect(unwrapSecrets(server.command)).toEqual(["server", "/data", "--console-address", ":9001"]);
        expect(unwrapSecrets(server.envs[0])).toBe("MINIO_ROOT_USER=registry-kit-root");
        expect(isSecretWrapper(server.envs[1])).toBe(true);
        expect((unwrapSecrets(server.envs[1]) as string).length).toBe("MINIO_ROOT_PASSWORD=".length + 40);
        const setup = await plainInputs("objects-setup");
        expect(setup.attach).toBe(true);
        expect(setup.command[0]).toContain('mc mb --ignore-existing "rk/$RK_BUCKET"');
        expect(setup.envs).toContain("RK_BUCKET=images");
        const policyEnv = setup.envs.find((e: string) => e.startsWith("RK_POLICY="));
        expect(JSON.parse(policyEnv.slice("RK_POLICY=".length))).toEqual(registryS3Policy("images", "/registry"));
        expect(isSecretWrapper(((await resource("objects-setup")).inputs as any).envs.find((e: unknown) => isSecretWrapper(e)))).toBe(true);
        expect(await pulumi.isSecret(m.secretKey)).toBe(true);
        expect(() => new kit.Minio("weak", { networkName: "n", rootPassword: "short" })).toThrow(
            /args\.rootPassword: got \[secret\]; allowed: at least 8 characters/,
        );
    });
});

describe("the registry's storage config", () => {
    const s3 = {
        kind: "s3" as const,
        bucket: "b",
        region: "eu-west-1",
        regionEndpoint: "http://s3:9000",
        forcePathStyle: true,
        encrypt: false,
        secure: false,
        chunkSize: 5242880,
        rootDirectory: "/registry",
    };
    const input = { storage: s3, deleteEnabled: true, uploadPurging: { enabled: true, age: "168h", interval: "24h", dryrun: false }, logLevel: "info" };

    it("writes the s3 driver settings, redirects off, with v4auth only in the v2 dialect", () => {
        const v2 = registryConfig({ ...input, dialect: "v2" }) as any;
        expect(v2.storage.s3).toEqual({
            region: "eu-west-1",
            regionendpoint: "http://s3:9000",
            forcepathstyle: true,
            bucket: "b",
            encrypt: false,
            secure: false,
            chunksize: 5242880,
            rootdirectory: "/registry",
            v4auth: true,
        });
        expect(v2.storage.redirect).toEqual({ disable: true });
        expect(v2.storage.filesystem).toBeUndefined();
        expect(v2.storage.s3.accesskey).toBeUndefined();
        const v3 = registryConfig({ ...input, dialect: "v3" }) as any;
        expect(v3.storage.s3.v4auth).toBeUndefined();
        expect(registryConfig({ ...input, dialect: "v3", storage: { ...s3, regionEndpoint: undefined } }).storage).not.toHaveProperty("s3.regionendpoint");
    });

    it("redirects blob downloads to the bucket only when asked, in both dialects", () => {
        for (const dialect of ["v2", "v3"] as const) {
            expect(registryConfig({ ...input, dialect }).storage).toHaveProperty("redirect", { disable: true });
            expect(registryConfig({ ...input, dialect, storage: { ...s3, redirect: false } }).storage).toHaveProperty("redirect", { disable: true });
            expect(registryConfig({ ...input, dialect, storage: { ...s3, redirect: true } }).storage).toHaveProperty("redirect", { disable: false });
        }
        // Nothing to redirect to on the filesystem: no section at all, as before.
        expect(registryConfig({ ...input, dialect: "v2", storage: { kind: "filesystem", rootDirectory: "/var/lib/registry" } }).storage).not.toHaveProperty(
            "redirect",
        );
    });

    it("uses Redis for the blob descriptor cache, in each dialect's shape", () => {
        const v2 = registryConfig({ ...input, dialect: "v2", redisAddress: "redis:6379" }) as any;
        expect(v2.storage.cache).toEqual({ blobdescriptor: "redis" });
        expect(v2.redis.addr).toBe("redis:6379");
        const v3 = registryConfig({ ...input, dialect: "v3", redisAddress: "redis:6379" }) as any;
        expect(v3.redis.addrs).toEqual(["redis:6379"]);
        expect(v3.redis.password).toBeUndefined();
    });
});

describe("replicas", () => {
    it("run N registry containers sharing storage, secret and Redis, each with its own alias and metrics target", async () => {
        const storage = new kit.Storage("shared", {
            kind: "s3",
            create: false,
            bucket: "existing",
            regionEndpoint: "http://s3:9000",
            secure: false,
            accessKey: "AK",
            secretKey: "very-secret-key",
        });
        const reg = new kit.Registry("multi", {
            networkName: "net",
            image: "registry:2",
            s3: storage.s3,
            replicas: 2,
            redisAddress: "redis:6379",
            redisPassword: "redis-pw",
        });
        expect(await new Promise((r) => reg.metricsAddresses.apply(r))).toEqual(["registry-0:5001", "registry-1:5001"]);
        await engine.settle();
        expect(engine.resources.find((r) => r.name === "multi-data")).toBeUndefined();
        const [a, b] = [await resource("multi-0"), await resource("multi-1")];
        const pa = unwrapSecrets(a.inputs) as any;
        const pb = unwrapSecrets(b.inputs) as any;
        expect(pa.name).toBe("multi-0");
        expect(pa.networksAdvanced).toEqual([{ name: "net", aliases: ["registry", "registry-0"] }]);
        expect(pb.networksAdvanced).toEqual([{ name: "net", aliases: ["registry", "registry-1"] }]);
        expect(pa.envs).toEqual(pb.envs);
        expect(pa.volumes).toEqual([]);
        expect(pa.envs).toEqual(
            expect.arrayContaining(["REGISTRY_STORAGE_S3_ACCESSKEY=AK", "REGISTRY_STORAGE_S3_SECRETKEY=very-secret-key", "REGISTRY_REDIS_PASSWORD=redis-pw"]),
        );
        for (const e of (a.inputs as any).envs) {
            const text = unwrapSecrets(e) as string;
            if (/SECRET|PASSWORD/.test(text)) expect(isSecretWrapper(e)).toBe(true);
        }
        const config = parse(pa.uploads[0].content);
        expect(config.storage.s3).toMatchObject({ bucket: "existing", regionendpoint: "http://s3:9000", forcepathstyle: true, secure: false, v4auth: true });
        expect(config.storage.cache.blobdescriptor).toBe("redis");
        expect(() => new kit.Registry("fs-multi", { networkName: "net", replicas: 2 })).toThrow(/args\.replicas: got 2; allowed: 1 without args\.s3/);
    });
});

describe("redirects to the bucket through the components", () => {
    const configOf = async (name: string) => parse((await plainInputs(name)).uploads[0].content);

    it("an s3 Storage with redirect gives the registry redirect.disable false; without it, true", async () => {
        const existing = { kind: "s3" as const, create: false, bucket: "b", regionEndpoint: "http://s3:9000", accessKey: "AK", secretKey: "sk" };
        const on = new kit.Storage("redir-on", { ...existing, redirect: true });
        const off = new kit.Storage("redir-off", existing);
        new kit.Registry("redir-on-reg", { networkName: "net", image: "registry:2", s3: on.s3 });
        new kit.Registry("redir-off-reg", { networkName: "net", image: "registry:2", s3: off.s3 });
        expect((await configOf("redir-on-reg")).storage.redirect).toEqual({ disable: false });
        expect((await configOf("redir-off-reg")).storage.redirect).toEqual({ disable: true });
    });

    it("a MinIO Storage never redirects (its endpoint is on the Docker network)", async () => {
        const minio = new kit.Storage("redir-minio", { kind: "minio", networkName: "net", redirect: true });
        new kit.Registry("redir-minio-reg", { networkName: "net", image: "registry:2", s3: minio.s3 });
        expect((await configOf("redir-minio-reg")).storage.redirect).toEqual({ disable: true });
    });
});

describe("storage settings: bad input", () => {
    it("an invalid bucket name", () => {
        expect(failure({ ...base, registry: { storage: { type: "s3", s3: { bucket: "My_Bucket" } } } })).toContain(
            'registry-kit:registry.storage.s3.bucket: got "My_Bucket"; allowed: an S3 bucket name: lowercase letters, digits',
        );
        expect(failure({ ...base, registry: { storage: { type: "s3", s3: { bucket: "ab" } } } })).toContain("an S3 bucket name: 3 to 63 characters");
        expect(failure({ ...base, registry: { storage: { type: "s3", s3: { bucket: "192.168.1.1" } } } })).toContain("not formatted as an IP address");
        expect(failure({ ...base, registry: { storage: { type: "s3", s3: { bucket: "a..b" } } } })).toContain("no two adjacent periods");
    });

    it("an endpoint that is not a URL", () => {
        expect(failure({ ...base, registry: { storage: { type: "s3", s3: { regionEndpoint: "minio:9000" } } } })).toContain(
            'registry-kit:registry.storage.s3.regionEndpoint: got "minio:9000"; allowed: an http:// or https:// URL',
        );
    });

    it("missing credentials for an existing bucket", () => {
        const msg = failure({ ...base, registry: { storage: { type: "s3", s3: { create: false, bucket: "mine", accessKey: "AK" } } } });
        expect(msg).toContain(
            "registry-kit:registry.storage.s3.secretKey: got nothing; allowed: a value: required for an existing bucket (registry.storage.s3.create is false); set it with --secret",
        );
        expect(msg).not.toContain("s3.accessKey:");
    });

    it("replicas > 1 with filesystem storage, saying why", () => {
        expect(failure({ ...base, registry: { replicas: 3 } })).toContain(
            'registry-kit:registry.replicas: got 3; allowed: replicas: 1 with filesystem storage (a volume belongs to one container on one host; replicas must share object storage: set registry.storage.type to "s3" or "minio")',
        );
        expect(() => parseSettings({ ...base, registry: { replicas: 3, storage: { type: "minio" } } })).not.toThrow();
    });

    it("a MinIO root password shorter than MinIO accepts, without echoing it", () => {
        const msg = failure({ ...base, registry: { storage: { type: "minio", minio: { rootPassword: "1234567" } } } });
        expect(msg).toContain(
            "registry-kit:registry.storage.minio.rootPassword: got [secret]; allowed: at least 8 characters (MinIO refuses shorter root passwords)",
        );
        expect(msg).not.toContain("1234567");
    });

    it("redirect where clients cannot reach the bucket by construction, in one line naming the setting and the value", () => {
        const redirect = { redirect: true };
        expect(failure({ ...base, registry: { storage: { type: "minio", s3: redirect } } })).toBe(
            "invalid stack configuration:\nregistry-kit:registry.storage.s3.redirect: got true; allowed: false with registry.storage.type minio (the stack's own MinIO is on its Docker network, which clients cannot reach; redirects need type s3 with an endpoint clients reach)",
        );
        expect(failure({ ...base, registry: { storage: { s3: redirect } } })).toBe(
            "invalid stack configuration:\nregistry-kit:registry.storage.s3.redirect: got true; allowed: false with registry.storage.type filesystem (redirects send clients to an S3 bucket: type s3 only)",
        );
        expect(
            failure({
                topology: "harbor",
                hostname: "harbor.example.com",
                harbor: { installerSha256: "a".repeat(64) },
                registry: { storage: { type: "s3", s3: { region: "eu-west-1", ...redirect } } },
            }),
        ).toBe(
            "invalid stack configuration:\nregistry-kit:registry.storage.s3.redirect: got true; allowed: false with topology harbor (Harbor's registry is configured by Harbor's installer, not by registry-kit's registry config)",
        );
        expect(parseSettings({ ...base, registry: { storage: { type: "s3", s3: { region: "eu-west-1", ...redirect } } } }).registry.storage.s3.redirect).toBe(
            true,
        );
        expect(parseSettings({ ...base, registry: { storage: { type: "s3", s3: { region: "eu-west-1" } } } }).registry.storage.s3.redirect).toBe(false);
        expect(failure({ ...base, registry: { storage: { type: "s3", s3: { redirect: "yes" } } } })).toContain(
            'registry-kit:registry.storage.s3.redirect: got "yes"',
        );
    });

    it("storage secrets in plain text", () => {
        expect(
            failure({ ...base, registry: { storage: { type: "s3", s3: { create: false, bucket: "mine", accessKey: "a", secretKey: "plain" } } } }, []),
        ).toContain("registry-kit:registry.storage.s3.secretKey: got a plain-text value; allowed: a secret");
    });
});
