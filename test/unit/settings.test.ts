/**
 * Stack configuration: defaults, and every bad-input case failing with a message that names the
 * setting, the bad value (never a secret) and what is allowed.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { inferDialect } from "../../stacks/schema";

const base = { hostname: "registry.example.com" };
const secretKeys = ["auth", "tls"];

const failure = (raw: Record<string, unknown>, keys = secretKeys): string => settingsFailure(raw, keys);

describe("settings defaults", () => {
    it("fills every default from a hostname alone", () => {
        const s = parseSettings(base);
        expect(s.topology).toBe("small-team");
        expect(s.registry).toMatchObject({
            image: "registry:3",
            deleteEnabled: true,
            logLevel: "info",
            storage: { type: "filesystem", filesystem: { retainOnDelete: true } },
        });
        expect(s.registry.uploadPurging).toEqual({ enabled: true, age: "168h", interval: "24h", dryrun: false });
        expect(s.proxy).toEqual({ image: "nginx:1.27", hostIp: "0.0.0.0", httpsPort: 443, httpPort: 80, allowCidrs: [], hstsMaxAge: 31536000 });
        expect(s.tls).toMatchObject({ mode: "self-signed", extraSans: [], validityDays: 365 });
        expect(s.auth).toEqual({ adminUser: "admin", users: [], bcryptCost: 10, verdictCacheSeconds: 60 });
        expect(s.monitoring).toMatchObject({ enabled: true, hostIp: "127.0.0.1", port: 9090, retentionTime: "15d", scrapeInterval: "30s" });
    });

    it("infers the registry dialect from the image tag", () => {
        expect(inferDialect("registry:2")).toBe("v2");
        expect(inferDialect("registry:2.8.3")).toBe("v2");
        expect(inferDialect("mirror.corp:5000/library/registry:2.8@sha256:abc")).toBe("v2");
        expect(inferDialect("registry:3")).toBe("v3");
        expect(inferDialect("registry:3.0.0")).toBe("v3");
        expect(inferDialect("registry")).toBe("v3");
        expect(inferDialect("mirror.corp:5000/registry")).toBe("v3");
    });

    it("accepts users and passwords held as secrets", () => {
        const s = parseSettings({ ...base, auth: { users: [{ name: "ci", password: "s3cret" }] } }, ["auth"]);
        expect(s.auth.users).toEqual([{ name: "ci", password: "s3cret" }]);
    });
});

describe("bad input fails with the setting, the value and what is allowed", () => {
    it("invalid hostname", () => {
        expect(failure({ hostname: "bad_host!.example" })).toBe(
            'invalid stack configuration:\nregistry-kit:hostname: got "bad_host!.example"; allowed: a DNS name such as registry.example.com, or an IP address',
        );
    });

    it("missing hostname (a required value)", () => {
        expect(failure({})).toContain("registry-kit:hostname: got nothing; allowed:");
    });

    it("port out of range", () => {
        expect(failure({ ...base, proxy: { httpsPort: 70000 } })).toContain(
            "registry-kit:proxy.httpsPort: got 70000; allowed: an integer port from 1 to 65535",
        );
        expect(failure({ ...base, monitoring: { port: 0 } })).toContain("registry-kit:monitoring.port: got 0; allowed: an integer port from 1 to 65535");
    });

    it("two services on the same host port", () => {
        expect(failure({ ...base, proxy: { httpsPort: 9090 } })).toContain(
            "registry-kit:monitoring.port: got 9090; allowed: a host port not already used by registry-kit:proxy.httpsPort (0.0.0.0:9090)",
        );
        expect(failure({ ...base, proxy: { httpsPort: 8080, httpPort: 8080 } })).toContain("registry-kit:proxy.httpPort: got 8080");
        // Different specific addresses do not clash.
        expect(() =>
            parseSettings({ ...base, proxy: { hostIp: "127.0.0.2", httpsPort: 9090 }, monitoring: { hostIp: "127.0.0.1", port: 9090 } }),
        ).not.toThrow();
        // A disabled Prometheus publishes nothing.
        expect(() => parseSettings({ ...base, proxy: { httpsPort: 9090 }, monitoring: { enabled: false } })).not.toThrow();
    });

    it("unknown topology", () => {
        expect(failure({ ...base, topology: "kubernetes" })).toContain('registry-kit:topology: got "kubernetes"; allowed: one of "small-team"');
    });

    it("unknown storage type", () => {
        expect(failure({ ...base, registry: { storage: { type: "gcs" } } })).toContain(
            'registry-kit:registry.storage.type: got "gcs"; allowed: one of "filesystem", "s3", "minio"',
        );
    });

    it("user name empty or containing ':'", () => {
        expect(failure({ ...base, auth: { users: [{ name: "", password: "x" }] } })).toContain(
            'registry-kit:auth.users[0].name: got ""; allowed: a non-empty user name',
        );
        expect(failure({ ...base, auth: { users: [{ name: "a:b", password: "x" }] } })).toContain(
            `registry-kit:auth.users[0].name: got "a:b"; allowed: a user name without ':' or white space`,
        );
        expect(failure({ ...base, auth: { adminUser: "ad:min" } })).toContain(`registry-kit:auth.adminUser: got "ad:min"`);
    });

    it("duplicate user names", () => {
        expect(failure({ ...base, auth: { users: [{ name: "admin", password: "x" }] } })).toContain(
            'registry-kit:auth.users[0].name: got "admin"; allowed: a user name not used twice',
        );
    });

    it("empty password, without echoing passwords", () => {
        const msg = failure({ ...base, auth: { adminPassword: "", users: [{ name: "ci", password: "" }] } });
        expect(msg).toContain("registry-kit:auth.adminPassword: got [secret]; allowed: a non-empty password");
        expect(msg).toContain("registry-kit:auth.users[0].password: got [secret]; allowed: a non-empty password");
    });

    it("a bad CIDR in the allowlist", () => {
        expect(failure({ ...base, proxy: { allowCidrs: ["10.0.0.0/8", "10.0.0.0/33"] } })).toContain(
            'registry-kit:proxy.allowCidrs[1]: got "10.0.0.0/33"; allowed: an IP address or CIDR block such as 10.0.0.0/8',
        );
        expect(failure({ ...base, proxy: { allowCidrs: ["office"] } })).toContain('registry-kit:proxy.allowCidrs[0]: got "office"');
        expect(() => parseSettings({ ...base, proxy: { allowCidrs: ["192.168.1.7", "2001:db8::/32"] } })).not.toThrow();
    });

    it("an unknown key (a typo), at the top and nested, without echoing its value", () => {
        expect(failure({ ...base, hostnme: "x" })).toContain(
            "registry-kit:hostnme: unknown setting; allowed here: topology, hostname, docker, registry, proxy, tls, auth, monitoring, gitlab, harbor, maintenance, catalog, mirrors, notifications (a typo?)",
        );
        const nested = failure({ ...base, auth: { adminPasword: "hunter2-secret" } });
        expect(nested).toContain(
            "registry-kit:auth.adminPasword: unknown setting; allowed here: adminUser, adminPassword, users, bcryptCost, verdictCacheSeconds (a typo?)",
        );
        expect(nested).not.toContain("hunter2-secret");
    });

    it("a required value missing for the chosen mode", () => {
        const msg = failure({ ...base, tls: { mode: "provided", certificate: "-----BEGIN CERTIFICATE-----" } });
        expect(msg).toContain(
            'registry-kit:tls.privateKey: got nothing; allowed: a PEM private key (set it with --secret): required when tls.mode is "provided"',
        );
        expect(msg).not.toContain("tls.certificate:");
    });

    it("a dialect that contradicts the image tag", () => {
        expect(failure({ ...base, registry: { image: "registry:2.8.3", dialect: "v3" } })).toContain(
            'registry-kit:registry.dialect: got "v3"; allowed: the dialect of registry:2.8.3 (v2), or leave it unset',
        );
    });

    it("a wrong type", () => {
        expect(failure({ ...base, registry: { deleteEnabled: "yes" } })).toContain(
            'registry-kit:registry.deleteEnabled: got "yes"; allowed: a value of type boolean',
        );
    });

    it("a password set in plain text instead of as a secret", () => {
        const msg = failure({ ...base, auth: { adminPassword: "plain-text-pw" } }, []);
        expect(msg).toContain(
            "registry-kit:auth.adminPassword: got a plain-text value; allowed: a secret (pulumi config set --secret --path 'registry-kit:auth.adminPassword' ...)",
        );
        expect(msg).not.toContain("plain-text-pw");
        expect(failure({ ...base, tls: { mode: "provided", certificate: "c", privateKey: "k" } }, [])).toContain(
            "registry-kit:tls.privateKey: got a plain-text value",
        );
    });

    it("reports every problem at once", () => {
        const msg = failure({ hostname: "-bad-", proxy: { httpsPort: -1 }, topology: "x" });
        expect(msg.split("\n")).toHaveLength(4);
    });
});
