/**
 * Distribution 3.0.0 ignores REGISTRY_REDIS_PASSWORD (fixed in 3.1.0): with a Redis that needs the password
 * (replicas with registry-kit's Redis container, or your Redis with a password) a 3.0.0 image is refused, in the
 * settings and by the Registry component; registry:3 (3.1 and later today) and 2.8 are fine.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { OfflineEngine } from "../../offline/engine";
import { parseSettings } from "../../stacks/config";
import { ignoresRedisPassword } from "../../stacks/schema";

const s3 = { type: "s3", s3: { create: false, bucket: "images", accessKey: "AKIA1", secretKey: "k" } };
const base = { hostname: "registry.example.com" };
const replicas = (image: string) => ({ ...base, registry: { image, replicas: 2, storage: s3 } });

describe("registry 3.0.0 with a Redis password", () => {
    it("knows which tags are Distribution 3.0.0", () => {
        for (const image of [
            "registry:3.0.0",
            "registry:3.0",
            "distribution/distribution:3.0.0",
            "ghcr.io/distribution/distribution:3.0.0-rc.3",
            "mirror:5000/registry:3.0.0@sha256:ab",
        ])
            expect(ignoresRedisPassword(image), image).toBe(true);
        for (const image of ["registry:3", "registry:3.1.0", "registry:3.0.1", "registry:2.8.3", "registry", "registry@sha256:ab", "registry:30.0.0"])
            expect(ignoresRedisPassword(image), image).toBe(false);
    });

    it("refuses registry:3.0.0 and registry:3.0 with replicas (Redis container) or a Redis password", () => {
        const msg = settingsFailure(replicas("registry:3.0.0"), ["registry"]);
        expect(msg).toBe(
            'invalid stack configuration:\nregistry-kit:registry.image: got "registry:3.0.0"; allowed: Distribution 3.1.0 or later (such as registry:3) or 2.8 while the registry uses a Redis password: 3.0.0 ignores REGISTRY_REDIS_PASSWORD (fixed in 3.1.0)',
        );
        expect(settingsFailure(replicas("registry:3.0"), ["registry"])).toContain('registry-kit:registry.image: got "registry:3.0"');
        const ownRedis = { ...base, registry: { image: "distribution/distribution:3.0.0", redis: { address: "redis.internal:6379", password: "pw" } } };
        expect(settingsFailure(ownRedis, ["registry"])).toContain('registry-kit:registry.image: got "distribution/distribution:3.0.0"');
    });

    it("accepts 3.0.0 without Redis or with a Redis that has no password, and registry:3 with replicas", () => {
        expect(parseSettings({ ...base, registry: { image: "registry:3.0.0" } }).registry.image).toBe("registry:3.0.0");
        expect(parseSettings({ ...base, registry: { image: "registry:3.0.0", redis: { address: "redis.internal:6379" } } }).registry.image).toBe(
            "registry:3.0.0",
        );
        expect(parseSettings(replicas("registry:3"), ["registry"]).registry.replicas).toBe(2);
    });
});

describe("the Registry component", () => {
    beforeAll(async () => {
        await new OfflineEngine().install();
    });
    it("refuses a 3.0.0 image given a Redis password", async () => {
        const kit = await import("../../index");
        expect(() => new kit.Registry("r300", { networkName: "n", image: "registry:3.0.0", redisAddress: "redis:6379", redisPassword: "pw" })).toThrow(
            /Registry "r300": invalid arguments:\nargs\.image: got "registry:3\.0\.0"; allowed: Distribution 3\.1\.0 or later \(such as registry:3\) or 2\.8 while the registry uses a Redis password: 3\.0\.0 ignores REGISTRY_REDIS_PASSWORD/,
        );
        expect(() => new kit.Registry("r300ok", { networkName: "n", image: "registry:3.0.0", redisAddress: "redis:6379" })).not.toThrow();
    });
});
