/**
 * Image references are parsed as Docker parses them (distribution/reference's grammar, with go-digest's digest
 * lengths): every image setting refuses what `docker pull` would, and takes every form it takes.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { imageReferenceProblem } from "../../stacks/schema";

const base = { hostname: "registry.example.com" };
const SHA = "a".repeat(64);

describe("image references", () => {
    it("accepts every form Docker takes", () => {
        for (const ref of [
            "registry",
            "registry:3",
            "library/registry:2.8.3",
            "localhost:5000/a/b:1",
            "localhost/a",
            "Registry.Example.com:5000/x",
            "mirror.corp:5000/library/registry:2.8",
            `registry@sha256:${SHA}`,
            `registry:2.8.3@sha256:${SHA}`,
            `mirror.corp:5000/registry:3@sha512:${"0".repeat(128)}`,
            "[2001:db8::1]:5000/registry:3",
            "192.168.1.5:5000/team_a/app__x/img--y.z:v1_2-3.4",
            `gitlab/gitlab-ce:${"x".repeat(128)}`,
        ]) {
            expect(imageReferenceProblem(ref), ref).toBeUndefined();
            expect(parseSettings({ ...base, registry: { image: ref } }).registry.image).toBe(ref);
        }
    });

    it("refuses what Docker refuses, with the setting, the value and what is allowed", () => {
        expect(settingsFailure({ ...base, registry: { image: "registry:" } }, [])).toBe(
            'invalid stack configuration:\nregistry-kit:registry.image: got "registry:"; allowed: an image reference such as registry:3 (Docker\'s grammar: [host[:port]/]path[:tag][@digest]): the tag is empty',
        );
        const cases: [string, string][] = [
            ["Registry:3", "repository path components are lower case"],
            ["team/Registry:3", "repository path components are lower case"],
            ["registry:3:4", "one tag at most"],
            ["registry:3@sha256:abc", "a digest sha256:<64 lower-case hex digits>"],
            [`registry@sha256:${"A".repeat(64)}`, "a digest sha256:<64 lower-case hex digits>"],
            [`registry@md5:${"a".repeat(32)}`, "a digest algorithm sha256, sha384 or sha512"],
            ["https://registry.example.com/registry:3", "no URL scheme"],
            ["::", "not an image reference"],
            ["registry:-3", "a tag of letters, digits, '_', '.' and '-', starting with a letter, digit or '_', at most 128 characters"],
            [`registry:${"x".repeat(129)}`, "at most 128 characters"],
            ["registry/", "not an image reference"],
            [`${SHA}`, "not a 64-hex-digit name (Docker takes it for an image id)"],
            ["a".repeat(256), "at most 255 characters in the repository path"],
            ["registry@", "the digest is empty"],
            ["", "not an image reference"],
        ];
        for (const [ref, why] of cases) {
            expect(imageReferenceProblem(ref), ref).toContain(why);
            expect(settingsFailure({ ...base, proxy: { image: ref } }, []), ref).toContain(
                `registry-kit:proxy.image: got ${JSON.stringify(ref)}; allowed: an image reference`,
            );
        }
    });

    it("checks every image setting", () => {
        for (const raw of [
            { ...base, monitoring: { image: "prom/Prometheus" } },
            { ...base, registry: { redis: { image: "redis:" } } },
            { ...base, registry: { storage: { minio: { mcImage: "minio/mc::x" } } } },
            { ...base, tls: { acme: { image: "certbot/certbot:" } } },
        ])
            expect(settingsFailure(raw, [])).toContain("allowed: an image reference such as registry:3");
    });
});
