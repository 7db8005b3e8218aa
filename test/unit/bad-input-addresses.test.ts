/**
 * Host names, and the hosts and ports inside addresses and URLs: RFC 1123 names or IP addresses, ports from 1 to
 * 65535, bracketed IPv6 `[addr]:port`; a URL's user:password never shows in a message.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { isHostname } from "../../stacks/schema";

const base = { hostname: "registry.example.com" };
const failure = (raw: Record<string, unknown>) => settingsFailure(raw, ["registry", "harbor", "gitlab"]);
const redis = (address: string) => ({ ...base, registry: { redis: { address } } });
const dockerHost = (host: string) => ({ ...base, docker: { host } });

describe("host names (RFC 1123 2.1: a dotted all-numeric name is an IPv4 address or nothing)", () => {
    it("refuses numeric names that are not IPv4 addresses", () => {
        for (const name of ["300.1.2.3", "10.0.0.256", "1.2.3.4.5", "999.999.999.999", "example.123", "1.2.3"]) {
            expect(isHostname(name), name).toBe(false);
            expect(failure({ hostname: name })).toBe(
                `invalid stack configuration:\nregistry-kit:hostname: got "${name}"; allowed: a DNS name such as registry.example.com, or an IP address`,
            );
        }
        expect(failure({ ...base, tls: { extraSans: ["300.1.2.3"] } })).toContain('registry-kit:tls.extraSans[0]: got "300.1.2.3"');
    });

    it("accepts DNS names with numeric labels, IPv4 and IPv6 addresses, capitals", () => {
        for (const name of ["10.0.0.1", "::1", "2001:db8::5", "123.example.com", "1password.example.com", "Registry.Example.COM", "localhost", "a-1.b2.io"])
            expect(isHostname(name), name).toBe(true);
        expect(parseSettings({ hostname: "192.168.1.20" }).hostname).toBe("192.168.1.20");
    });
});

describe("ports and hosts inside addresses", () => {
    it("refuses a Redis address with a port out of range, a bad host or an unbracketed IPv6 address", () => {
        for (const address of [
            "redis.internal:99999",
            "redis.internal:0",
            "300.1.2.3:6379",
            "[2001:db8::5]:70000",
            "2001:db8::5:6379",
            "[redis]:6379",
            "redis.internal",
        ]) {
            expect(failure(redis(address)), address).toContain(
                `registry-kit:registry.redis.address: got ${JSON.stringify(address)}; allowed: host:port such as redis.internal:6379`,
            );
        }
        expect(failure(redis("redis.internal:99999"))).toContain("a port from 1 to 65535");
    });

    it("accepts host:port, IPv4 and bracketed IPv6 Redis addresses", () => {
        for (const address of ["redis.internal:6379", "10.0.0.7:6379", "[2001:db8::5]:6379", "[::1]:1", "redis:65535"])
            expect(parseSettings(redis(address)).registry.redis.address, address).toBe(address);
    });

    it("refuses a docker.host with a port out of range or a bad host", () => {
        for (const host of [
            "tcp://docker.internal:99999",
            "tcp://docker.internal:0",
            "tcp://300.1.2.3:2376",
            "ssh://ops@docker-host:70000",
            "tcp://",
            "ssh://ops@",
        ]) {
            // A user name shows as *** like any URL credentials (it may be a token).
            expect(failure(dockerHost(host)), host).toContain(
                `registry-kit:docker.host: got ${JSON.stringify(host.replace("ops@", "***@"))}; allowed: a Docker endpoint`,
            );
        }
    });

    it("accepts every Docker endpoint form", () => {
        for (const host of [
            "unix:///var/run/docker.sock",
            "tcp://10.0.0.5:2376",
            "tcp://[2001:db8::1]:2376",
            "ssh://ops@docker-host",
            "ssh://ops@docker-host:2222",
            "ssh://docker-host",
            "npipe:////./pipe/docker_engine",
        ])
            expect(parseSettings(dockerHost(host)).docker.host, host).toBe(host);
    });

    it("refuses port 0 in a URL setting, and takes bracketed IPv6 there", () => {
        const endpoint = (regionEndpoint: string) => ({
            ...base,
            registry: { storage: { type: "s3", s3: { create: false, bucket: "bkt", accessKey: "a", secretKey: "s", regionEndpoint } } },
        });
        expect(failure(endpoint("https://s3.example.com:0"))).toContain('registry-kit:registry.storage.s3.regionEndpoint: got "https://s3.example.com:0"');
        expect(parseSettings(endpoint("https://[2001:db8::7]:9000"), ["registry"]).registry.storage.s3.regionEndpoint).toBe("https://[2001:db8::7]:9000");
    });
});

describe("credentials in URL settings are never echoed", () => {
    it("redacts user:password in every URL a message shows", () => {
        const gitlab = failure({ topology: "gitlab", ...base, gitlab: { externalUrl: "https://root:hunter2@gitlab.example.com" } });
        expect(gitlab).toContain(
            'registry-kit:gitlab.externalUrl: got "https://***@gitlab.example.com"; allowed: an https:// URL with a host name and optional port only',
        );
        const endpoint = failure({ ...base, registry: { storage: { type: "s3", s3: { regionEndpoint: "https://AKIA:hunter2@s3.example.com:0" } } } });
        expect(endpoint).toContain('got "https://***@s3.example.com:0"');
        const docker = failure(dockerHost("tcp://u:hunter2@docker.internal:99999"));
        expect(docker).toContain('got "tcp://***@docker.internal:99999"');
        const harbor = failure({ topology: "harbor", hostname: "harbor.example.com", harbor: { proxy: { httpProxy: "ftp://u:hunter2@proxy:3128" } } });
        expect(harbor).toContain('registry-kit:harbor.proxy.httpProxy: got "ftp://***@proxy:3128"');
        for (const msg of [gitlab, endpoint, docker, harbor]) expect(msg).not.toContain("hunter2");
    });
});
