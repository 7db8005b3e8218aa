/**
 * Settings that are valid alone but not together with what lies underneath: names derived from docker.namePrefix,
 * registry.extraConfig against the storage and auth registry-kit configures, and the limits of bcrypt, the
 * registry's path cleaning and Harbor's view of localhost.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";

const base = { hostname: "registry.example.com" };
const failure = (raw: Record<string, unknown>) => settingsFailure(raw, ["registry", "auth", "harbor", "gitlab"]);
const createdS3 = { type: "s3", s3: { region: "eu-west-1" } };
const extra = (extraConfig: unknown, storage: unknown = {}) => ({ ...base, registry: { storage, extraConfig } });

describe("names derived from docker.namePrefix", () => {
    it("reports a prefix that makes the default bucket name invalid against docker.namePrefix", () => {
        expect(failure({ ...base, docker: { namePrefix: "Team-A" }, registry: { storage: createdS3 } })).toBe(
            "invalid stack configuration:\nregistry-kit:docker.namePrefix: got \"Team-A\"; allowed: a prefix that makes the default bucket name Team-A-registry an S3 bucket name (lowercase letters, digits, '.' and '-', starting and ending with a letter or digit), or registry.storage.s3.bucket set",
        );
        expect(failure({ ...base, docker: { namePrefix: "x".repeat(60) }, registry: { storage: createdS3 } })).toContain(
            'registry-kit:docker.namePrefix: got "' +
                "x".repeat(60) +
                '"; allowed: a prefix that makes the default bucket name ' +
                "x".repeat(60) +
                "-registry an S3 bucket name (3 to 63 characters)",
        );
        expect(failure({ ...base, docker: { namePrefix: "rk_team" }, registry: { storage: createdS3 } })).toContain("registry-kit:docker.namePrefix:");
        expect(
            failure({
                topology: "harbor",
                hostname: "harbor.example.com",
                harbor: { installerSha256: "a".repeat(64) },
                docker: { namePrefix: "Team-A" },
                registry: { storage: createdS3 },
            }),
        ).toContain('registry-kit:docker.namePrefix: got "Team-A"');
    });

    it("reports a stack name that makes the default bucket name invalid against the bucket setting", () => {
        expect(settingsFailure({ ...base, registry: { storage: createdS3 } }, ["registry"], "Prod")).toContain(
            "registry-kit:registry.storage.s3.bucket: got nothing; allowed: a bucket name: the default rk-Prod-registry (from the stack name) is not an S3 bucket name",
        );
    });

    it("accepts such a prefix where nothing derives a bucket from it", () => {
        expect(parseSettings({ ...base, docker: { namePrefix: "Team-A" } }).docker.namePrefix).toBe("Team-A");
        expect(() =>
            parseSettings({ ...base, docker: { namePrefix: "Team-A" }, registry: { storage: { ...createdS3, s3: { bucket: "team-a-images" } } } }),
        ).not.toThrow();
        expect(() => parseSettings({ ...base, docker: { namePrefix: "team-a" }, registry: { storage: createdS3 } })).not.toThrow();
        expect(() => parseSettings({ ...base, registry: { storage: createdS3 } }, [], { stack: "prod" })).not.toThrow();
    });
});

describe("registry.extraConfig against what registry-kit configures", () => {
    it("refuses a second storage driver, or storage that is not an object", () => {
        expect(failure(extra({ storage: { s3: { bucket: "x" } } }))).toBe(
            "invalid stack configuration:\nregistry-kit:registry.extraConfig.storage.s3: got an object; allowed: no second storage driver: registry-kit configures filesystem (from registry.storage.type), and the registry refuses to start with two; set registry.storage.type instead",
        );
        expect(failure(extra({ storage: { gcs: { bucket: "x" } } }, createdS3))).toContain(
            "registry-kit:registry.extraConfig.storage.gcs: got an object; allowed: no second storage driver: registry-kit configures s3",
        );
        expect(failure(extra({ storage: { inmemory: null } }))).toContain("registry-kit:registry.extraConfig.storage.inmemory:");
        expect(failure(extra({ storage: "inmemory" }))).toContain(
            'registry-kit:registry.extraConfig.storage: got "inmemory"; allowed: an object of storage settings',
        );
    });

    it("refuses any auth: it would add a second method or change who may push", () => {
        expect(failure(extra({ auth: { token: { realm: "https://auth.example.com/token" } } }))).toContain(
            "registry-kit:registry.extraConfig.auth: got an object; allowed: no auth section: registry-kit configures the registry's auth (htpasswd from auth.*, or GitLab's token auth), and a second method or a change there would change who may push",
        );
        expect(failure(extra({ auth: { htpasswd: { path: "/etc/other" } } }))).toContain("registry-kit:registry.extraConfig.auth:");
        expect(
            failure({
                topology: "gitlab",
                ...base,
                gitlab: { externalUrl: "https://gitlab.example.com" },
                registry: { extraConfig: { auth: { htpasswd: { path: "/x" } } } },
            }),
        ).toContain("registry-kit:registry.extraConfig.auth:");
    });

    it("refuses a config version the registry does not read", () => {
        expect(failure(extra({ version: 0.2 }))).toContain("registry-kit:registry.extraConfig.version: got 0.2; allowed: 0.1, or leave it out");
    });

    it("accepts tuning of the configured driver and everything else", () => {
        for (const [extraConfig, storage] of [
            [
                {
                    storage: {
                        maintenance: { readonly: { enabled: true } },
                        cache: { blobdescriptorsize: 10000 },
                        delete: { enabled: false },
                        tag: { concurrencylimit: 8 },
                    },
                },
                {},
            ],
            [{ storage: { filesystem: { maxthreads: 50 } } }, {}],
            [{ storage: { s3: { multipartcopychunksize: 33554432 }, redirect: { disable: false } } }, createdS3],
            [{ http: { headers: { "X-Frame-Options": ["DENY"] } }, log: { level: "debug" }, version: "0.1" }, {}],
        ] as [Record<string, unknown>, unknown][])
            expect(() => parseSettings(extra(extraConfig, storage)), JSON.stringify(extraConfig)).not.toThrow();
    });
});

describe("limits of the tools underneath", () => {
    it("refuses htpasswd passwords longer than bcrypt's 72 bytes, and takes 72", () => {
        expect(failure({ ...base, auth: { adminPassword: "x".repeat(73) } })).toBe(
            "invalid stack configuration:\nregistry-kit:auth.adminPassword: got [secret]; allowed: at most 72 bytes (bcrypt, which the htpasswd file uses, ignores the rest)",
        );
        expect(failure({ ...base, auth: { users: [{ name: "ci", password: "\u00e9".repeat(37) }] } })).toContain(
            "registry-kit:auth.users[0].password: got [secret]; allowed: at most 72 bytes",
        );
        expect(
            parseSettings({ ...base, auth: { adminPassword: "x".repeat(72), users: [{ name: "ci", password: "\u00e9".repeat(36) }] } }, ["auth"]).auth
                .adminPassword,
        ).toHaveLength(72);
    });

    it("refuses an S3 rootDirectory that the registry's path cleaning would change", () => {
        const root = (rootDirectory: string) => ({ ...base, registry: { storage: { type: "s3", s3: { rootDirectory } } } });
        for (const dir of ["/registry/../x", "/a/./b", "/..", "/.", "/registry/.."])
            expect(failure(root(dir)), dir).toContain(
                `registry-kit:registry.storage.s3.rootDirectory: got ${JSON.stringify(dir)}; allowed: an absolute path without '.' or '..' segments`,
            );
        for (const dir of ["/registry", "/", "/a.b/..c/d..", "/.hidden/x", "/team/registry-1"])
            expect(parseSettings(root(dir)).registry.storage.s3.rootDirectory, dir).toBe(dir);
    });

    it("refuses a Harbor MinIO endpoint on a loopback name or address", () => {
        const harbor = (endpoint: string) => ({
            topology: "harbor",
            hostname: "harbor.example.com",
            harbor: { installerSha256: "a".repeat(64) },
            registry: { storage: { type: "minio", minio: { endpoint } } },
        });
        for (const endpoint of [
            "http://localhost:9000",
            "http://127.0.0.1:9000",
            "http://127.1.2.3:9000",
            "http://[::1]:9000",
            "http://minio.localhost:9000",
            "http://0.0.0.0:9000",
            "http://LOCALHOST:9000",
        ])
            expect(failure(harbor(endpoint)), endpoint).toContain(
                `registry-kit:registry.storage.minio.endpoint: got ${JSON.stringify(endpoint)}; allowed: an address of the Docker host running MinIO that Harbor's registry container can reach`,
            );
        for (const endpoint of ["http://10.0.0.5:9000", "http://minio.internal:9000", "https://[2001:db8::5]:9000"])
            expect(parseSettings(harbor(endpoint), ["harbor"]).registry.storage.minio.endpoint, endpoint).toBe(endpoint);
    });
});
