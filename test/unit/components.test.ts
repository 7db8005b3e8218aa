/**
 * Components used directly, as a library user composes them in their own stack.
 */
import * as crypto from "node:crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isSecretWrapper, OfflineEngine, unwrapSecrets } from "../../offline/engine";

const engine = new OfflineEngine({}, "registry-kit", "components");
// Loaded after the mocks are installed, as a Pulumi program is.
let kit: typeof import("../../index");

function read<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("output never resolved")), 20_000);
        o.apply((v) => {
            clearTimeout(t);
            resolve(v);
            return v;
        });
    });
}
const inputsOf = async (name: string) => {
    await engine.settle();
    const r = engine.resources.find((x) => x.name === name && x.custom);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
};

beforeAll(async () => {
    await engine.install();
    kit = await import("../../index");
});

describe("Registry", () => {
    it("speaks the v2 dialect for registry:2, merges extraConfig, and runs without auth when no htpasswd is given", async () => {
        const reg = new kit.Registry("lib-reg", {
            networkName: "custom-net",
            image: "registry:2.8.3",
            alias: "hub",
            retainDataOnDelete: false,
            extraConfig: { storage: { maintenance: { readonly: { enabled: true } } } },
            uploadPurging: { age: "72h" },
        });
        expect(await read(reg.address)).toBe("hub:5000");
        const c = unwrapSecrets((await inputsOf("lib-reg")).inputs) as any;
        expect(c.command).toEqual(["serve", "/etc/docker/registry/config.yml"]);
        expect(c.networksAdvanced).toEqual([{ name: "custom-net", aliases: ["hub"] }]);
        const config = parse(c.uploads[0].content);
        expect(config.auth).toBeUndefined();
        expect(config.storage.maintenance.readonly).toEqual({ enabled: true });
        expect(config.storage.maintenance.uploadpurging).toEqual({ enabled: true, age: "72h", interval: "24h", dryrun: false });
        expect(c.uploads).toHaveLength(1);
        expect((await inputsOf("lib-reg-data")).options.retainOnDelete).toBe(false);
    });

    it("refuses bad plain arguments before registering anything, naming each one", () => {
        const before = engine.resources.length;
        expect(() => new kit.Registry("bad-reg", { networkName: "n", logLevel: "verbose", volumeName: "bad name", uploadPurging: { age: "a week" } })).toThrow(
            /Registry "bad-reg": invalid arguments:\nargs\.volumeName: got "bad name"; allowed: a Docker name[^\n]*\nargs\.logLevel: got "verbose"; allowed: one of "error", "warn", "info", "debug"\nargs\.uploadPurging\.age: got "a week"; allowed: a Go duration/,
        );
        expect(engine.resources.filter((r) => r.name.startsWith("bad-reg"))).toHaveLength(0);
        expect(engine.resources.length).toBe(before);
    });
});

describe("TlsProxy", () => {
    it("refuses a bad port, CIDR and hostname", () => {
        expect(
            () =>
                new kit.TlsProxy("bad-proxy", {
                    networkName: "n",
                    hostname: "bad host",
                    upstream: "registry:5000",
                    certificatePem: "c",
                    privateKeyPem: "k",
                    httpsPort: 0,
                    allowCidrs: ["300.0.0.1"],
                }),
        ).toThrow(
            /args\.hostname: got "bad host"[\s\S]*args\.httpsPort: got 0; allowed: an integer port from 1 to 65535[\s\S]*args\.allowCidrs\[0\]: got "300\.0\.0\.1"/,
        );
        expect(
            () =>
                new kit.TlsProxy("bad-proxy2", {
                    networkName: "n",
                    hostname: "r.example.com",
                    upstream: "registry:5000",
                    certificatePem: "c",
                    privateKeyPem: "k",
                    httpsPort: 8443,
                    httpPort: 8443,
                }),
        ).toThrow(/args\.httpPort: got 8443; allowed: a port other than args\.httpsPort/);
    });

    it("deploys through the Docker provider it is given (e.g. ssh://user@host)", async () => {
        const provider = new docker.Provider("remote-docker", { host: "ssh://deploy@registry-host" });
        new kit.TlsProxy(
            "remote-proxy",
            { networkName: "n", hostname: "r.example.com", upstream: "registry:5000", certificatePem: "c", privateKeyPem: pulumi.secret("k") },
            { providers: [provider] },
        );
        const proxy = await inputsOf("remote-proxy");
        expect(proxy.provider).toMatch(/remote-docker::remote-docker-id$/);
        expect((await inputsOf("remote-proxy-acme-webroot")).provider).toMatch(/remote-docker/);
    });
});

describe("Certificates", () => {
    it("passes a provided certificate through and makes its key secret", async () => {
        const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
        const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        const certs = new kit.Certificates("provided", { mode: "provided", hostname: "r.example.com", certificatePem: "CERT", privateKeyPem: keyPem });
        expect(await read(certs.certificatePem)).toBe("CERT");
        expect(await pulumi.isSecret(certs.privateKeyPem)).toBe(true);
        expect(await read(certs.caCertificatePem)).toBe("");
        expect(() => new kit.Certificates("half", { mode: "provided", hostname: "r.example.com", certificatePem: "CERT" })).toThrow(
            /needs certificatePem and privateKeyPem/,
        );
    });

    it("makes a self-signed server key that is secret in its outputs", async () => {
        const certs = new kit.Certificates("selfsigned", { hostname: "10.0.0.5" });
        expect(await pulumi.isSecret(certs.privateKeyPem)).toBe(true);
        const cert = new crypto.X509Certificate(await read(certs.certificatePem));
        expect(cert.subjectAltName).toBe("IP Address:10.0.0.5");
        const key = await inputsOf("selfsigned-server-key");
        expect(key.options.additionalSecretOutputs).toContain("privateKeyPem");
    });
});

describe("Htpasswd", () => {
    it("uses a given admin password and more users, all secret", async () => {
        const h = new kit.Htpasswd("users", {
            adminUser: "root",
            adminPassword: "given-admin-pw",
            users: [{ name: "bot", password: "bot-pw-123" }],
            bcryptCost: 4,
        });
        expect(await pulumi.isSecret(h.content)).toBe(true);
        expect(await pulumi.isSecret(h.adminPassword)).toBe(true);
        const content = await read(h.content);
        const bcrypt = await import("bcryptjs");
        const [root, bot] = content
            .trim()
            .split("\n")
            .map((l) => l.split(":"));
        expect(root[0]).toBe("root");
        expect(bcrypt.compareSync("given-admin-pw", root[1])).toBe(true);
        expect(bcrypt.compareSync("bot-pw-123", bot[1])).toBe(true);
        await engine.settle();
        expect(engine.resources.find((r) => r.name === "users-admin-password")).toBeUndefined();
        expect(() => new kit.Htpasswd("bad-users", { users: [{ name: "", password: "x" }] })).toThrow(
            /args\.users\[0\]\.name: got ""; allowed: a non-empty user name/,
        );
    });
});

describe("Monitoring", () => {
    it("offers the registry scrape job for another Prometheus", async () => {
        const m = new kit.Monitoring("mon", { networkName: "n", registryTargets: ["reg-a:5001", "reg-b:5001"], port: 19191, hostIp: "0.0.0.0" });
        expect(await read(m.registryScrapeJob)).toEqual({
            job_name: "registry",
            metrics_path: "/metrics",
            scheme: "http",
            static_configs: [{ targets: ["reg-a:5001", "reg-b:5001"] }],
        });
        expect(await read(m.url)).toBe("http://0.0.0.0:19191");
        const c = (await inputsOf("mon")).inputs as any;
        expect(isSecretWrapper(c.uploads)).toBe(false);
        expect(() => new kit.Monitoring("bad-mon", { networkName: "n", registryTargets: ["reg"], retentionTime: "forever" })).toThrow(
            /args\.retentionTime: got "forever"; allowed: a Prometheus duration[\s\S]*args\.registryTargets\[0\]: got "reg"; allowed: host:port/,
        );
    });
});

describe("Swarm services' health check", () => {
    it("takes an interval in Go's form, and refuses one that is not a Go duration instead of using another", async () => {
        const { healthIntervalText, serviceHealthcheck } = await import("../../components/swarm-common");
        expect((await read(serviceHealthcheck(["true"], { interval: pulumi.output("90s") }))).interval).toBe("1m30s");
        expect(healthIntervalText("2s")).toBe("2s");
        expect(() => healthIntervalText("ten")).toThrow('health check interval: got "ten"; allowed: a Go duration such as 10s');
    });
});
