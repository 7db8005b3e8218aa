/**
 * Bad input for Harbor, refused before anything runs: in the stack settings (naming the setting, the
 * value unless secret, and what is allowed) and in HarborInstaller's arguments for library users.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { OfflineEngine, unwrapSecrets } from "../../offline/engine";
import { parseSettings } from "../../stacks/config";
import { settingsFailure } from "../settings-failure";

const SHA = "ab".repeat(32);
const base = { topology: "harbor", hostname: "harbor.example.com", harbor: { installerSha256: SHA } };
const secretKeys = ["harbor", "tls"];

const failure = (raw: Record<string, unknown>, keys = secretKeys): string => settingsFailure(raw, keys);
const withHarbor = (harbor: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...base, ...extra, harbor: { ...base.harbor, ...harbor } });

describe("harbor settings", () => {
    it("fills Harbor's defaults from a hostname and the installer checksum", () => {
        const s = parseSettings(base, secretKeys);
        expect(s.harbor).toMatchObject({
            version: "v2.15.0",
            installDir: "/opt/registry-kit/harbor",
            dataVolume: "/data",
            httpPort: 80,
            httpsPort: 443,
            jobservice: { maxJobWorkers: 10, maxJobDurationHours: 24 },
            log: { level: "info", rotateCount: 50, rotateSize: "200M", location: "/var/log/harbor" },
            metrics: { port: 9091, path: "/metrics" },
            proxy: { components: ["core", "jobservice", "trivy"] },
            uploadPurging: { enabled: true, age: "168h", interval: "24h", dryrun: false },
        });
        expect(s.harbor.installerUrl).toBeUndefined();
        expect(s.monitoring.port).toBe(9090);
    });

    it("refuses an installer without a checksum", () => {
        expect(failure({ ...base, harbor: { installerUrl: "https://mirror.internal/harbor.tgz" } }, secretKeys)).toContain(
            "registry-kit:harbor.installerSha256: got nothing; allowed: the SHA-256 of the offline installer",
        );
        expect(failure(withHarbor({ installerSha256: "abc" }))).toContain(
            'registry-kit:harbor.installerSha256: got "abc"; allowed: the installer\'s SHA-256: 64 hex digits',
        );
    });

    it("refuses hostnames Harbor refuses: localhost and loopback addresses", () => {
        expect(failure({ ...base, hostname: "localhost" })).toContain(
            'registry-kit:hostname: got "localhost"; allowed: a DNS name or IP address clients can reach (this is localhost',
        );
        expect(failure({ ...base, hostname: "127.0.0.1" })).toContain("Harbor's prepare refuses 127.0.0.1");
    });

    it("refuses an admin password Harbor refuses, without showing it", () => {
        const msg = failure(withHarbor({ adminPassword: "weakpassword" }));
        expect(msg).toContain("registry-kit:harbor.adminPassword: got [secret]; allowed: Harbor's password rules: an uppercase letter, a digit");
        expect(msg).not.toContain("weakpassword");
        // Set in plain text: refused as well.
        expect(failure(withHarbor({ adminPassword: "Harbor12345" }), [])).toContain(
            "registry-kit:harbor.adminPassword: got a plain-text value; allowed: a secret",
        );
    });

    it("refuses a storage kind registry-kit cannot give Harbor, and MinIO without the endpoint Harbor reaches it at", () => {
        expect(failure({ ...base, registry: { storage: { type: "minio" } } })).toContain(
            "registry-kit:registry.storage.minio.endpoint: got nothing; allowed: the URL at which Harbor's registry container reaches MinIO",
        );
        expect(failure({ ...base, registry: { storage: { type: "gcs" } } })).toContain('allowed: one of "filesystem", "s3", "minio"');
    });

    it("takes tls.mode acme, with the public-name rules of the other topologies and a custom directory with its CA", () => {
        const s = parseSettings({ ...base, hostname: "harbor.example.org", tls: { mode: "acme", acme: { email: "ops@example.org" } } }, secretKeys);
        expect(s.tls.mode).toBe("acme");
        expect(s.tls.acme).toMatchObject({ directory: "production", image: "certbot/certbot:v3.3.0", email: "ops@example.org" });
        expect(failure({ ...base, hostname: "harbor.internal", tls: { mode: "acme" } })).toContain(
            'registry-kit:hostname: got "harbor.internal"; allowed: a public DNS name in tls.mode "acme"',
        );
        expect(failure({ ...base, hostname: "harbor.example.org", tls: { mode: "acme" }, harbor: { ...base.harbor, httpPort: 8080 } })).toContain(
            'registry-kit:harbor.httpPort: got 8080; allowed: 80 in tls.mode "acme" with the production directory: the CA checks HTTP-01 challenges on port 80',
        );
        const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        const custom = parseSettings(
            { ...base, hostname: "harbor.internal", tls: { mode: "acme", acme: { directory: "https://acme.internal/dir", caBundle: pem } } },
            secretKeys,
        );
        expect(custom.tls.acme.caBundle).toBe(pem);
        expect(failure({ ...base, hostname: "harbor.example.org", tls: { mode: "acme", acme: { caBundle: pem } } })).toContain(
            'registry-kit:tls.acme.caBundle: got "(PEM)"; allowed: a CA bundle only with a custom tls.acme.directory URL',
        );
    });

    it("refuses https without a certificate (provided mode without one)", () => {
        expect(failure({ ...base, tls: { mode: "provided" } })).toContain(
            'registry-kit:tls.certificate: got nothing; allowed: a PEM certificate chain: required when tls.mode is "provided"',
        );
    });

    it("refuses another minor version, which needs Harbor's migration", () => {
        expect(failure(withHarbor({ version: "v2.14.2" }))).toContain('registry-kit:harbor.version: got "v2.14.2"; allowed: a 2.15.x release');
        expect(failure(withHarbor({ version: "2.15.0" }))).toContain("a Harbor release such as v2.15.0");
    });

    it("refuses a data_volume that is /, has '..', or overlaps the install directory", () => {
        const outside =
            "a directory outside the install directory /opt/registry-kit/harbor: upgrades move /opt/registry-kit/harbor/harbor to /opt/registry-kit/harbor/previous and replace it";
        const cases: [Record<string, unknown>, string][] = [
            [
                { dataVolume: "/" },
                `registry-kit:harbor.dataVolume: got "/"; allowed: a directory of its own such as /data, not / (Harbor's containers take over what they find in data_volume)`,
            ],
            [{ dataVolume: "/data/../etc" }, `registry-kit:harbor.dataVolume: got "/data/../etc"; allowed: an absolute path without '.' or '..' segments`],
            [{ dataVolume: "/opt/registry-kit/harbor" }, `registry-kit:harbor.dataVolume: got "/opt/registry-kit/harbor"; allowed: ${outside}`],
            [
                { dataVolume: "/opt/registry-kit/harbor/harbor/data" },
                `registry-kit:harbor.dataVolume: got "/opt/registry-kit/harbor/harbor/data"; allowed: ${outside}`,
            ],
            [
                { dataVolume: "/opt/registry-kit/harbor/previous/" },
                `registry-kit:harbor.dataVolume: got "/opt/registry-kit/harbor/previous/"; allowed: ${outside}`,
            ],
            [
                { dataVolume: "/opt/registry-kit/harbor/.staging" },
                `registry-kit:harbor.dataVolume: got "/opt/registry-kit/harbor/.staging"; allowed: ${outside}`,
            ],
            [
                { dataVolume: "/srv", installDir: "/srv/harbor" },
                `registry-kit:harbor.dataVolume: got "/srv"; allowed: a directory that does not contain the install directory /srv/harbor: data_volume is Harbor's alone`,
            ],
        ];
        for (const [harbor, message] of cases) expect(failure(withHarbor(harbor))).toBe(`invalid stack configuration:\n${message}`);
        // Neighbours are fine.
        for (const dataVolume of ["/data", "/opt/registry-kit/harbor-data", "/opt/registry-kit/data"]) {
            expect(parseSettings(withHarbor({ dataVolume }), secretKeys).harbor.dataVolume).toBe(dataVolume);
        }
    });

    it("refuses an installer URL with credentials, which would be printed", () => {
        expect(failure(withHarbor({ installerUrl: "https://ci:s3cret@mirror.internal/harbor.tgz" }))).toBe(
            'invalid stack configuration:\nregistry-kit:harbor.installerUrl: got "https://***@mirror.internal/harbor.tgz"; allowed: a URL without user:password@ (it would show in the command text, the preview and logs); put the credentials in ~/.netrc of the SSH user on Harbor\'s host, which the download reads',
        );
        expect(failure(withHarbor({ installerUrl: "https://token@mirror.internal/harbor.tgz" }))).toContain(
            'got "https://***@mirror.internal/harbor.tgz"; allowed: a URL without user:password@',
        );
        expect(parseSettings(withHarbor({ installerUrl: "https://mirror.internal/a@b/harbor.tgz" }), secretKeys).harbor.installerUrl).toBe(
            "https://mirror.internal/a@b/harbor.tgz",
        );
    });

    it("refuses clashing host ports, SSH without credentials, and unknown keys", () => {
        expect(failure(withHarbor({ metrics: { port: 443 } }))).toContain(
            "registry-kit:harbor.metrics.port: got 443; allowed: a host port not already used by registry-kit:harbor.httpsPort",
        );
        expect(failure(withHarbor({ ssh: { host: "h.internal" } }))).toContain("registry-kit:harbor.ssh.privateKey: got nothing");
        expect(failure(withHarbor({ dataVolum: "/x" }))).toContain("registry-kit:harbor.dataVolum: unknown setting");
        expect(failure({ ...base, monitoring: { port: 9091 } })).toContain(
            "registry-kit:monitoring.port: got 9091; allowed: a host port not already used by registry-kit:harbor.metrics.port (Harbor and Prometheus run on the same host)",
        );
    });
});

describe("HarborInstaller arguments", () => {
    const engine = new OfflineEngine({}, "registry-kit", "harbor-args");
    let kit: typeof import("../../index");
    beforeAll(async () => {
        await engine.install();
        kit = await import("../../index");
    });
    const cert = { certificatePem: "-----BEGIN CERTIFICATE-----\n", privateKeyPem: pulumi.secret("-----BEGIN PRIVATE KEY-----\n") };
    const make = (args: Record<string, unknown>) => () =>
        new kit.HarborInstaller("lib-harbor", { installerSha256: SHA, hostname: "harbor.example.com", ...cert, ...args } as any);

    it("refuses https without a certificate", () => {
        expect(make({ certificatePem: undefined, privateKeyPem: undefined })).toThrow(
            'HarborInstaller "lib-harbor": invalid arguments:\nargs.certificatePem, args.privateKeyPem: got nothing; allowed: a PEM certificate and key: required when https is on',
        );
    });

    it("refuses a missing checksum, a bad hostname, a weak password, an unsupported storage driver, another minor version", () => {
        expect(make({ installerSha256: undefined })).toThrow("args.installerSha256: got nothing");
        expect(make({ hostname: "localhost" })).toThrow('args.hostname: got "localhost"; allowed: a DNS name or IP address clients can reach');
        const weak = make({ adminPassword: "password" });
        expect(weak).toThrow("args.adminPassword: got [secret]; allowed: Harbor's password rules: an uppercase letter, a digit");
        expect(make({ storageDriver: "inmemory" })).toThrow(
            'args.storageDriver: got "inmemory"; allowed: one of "filesystem", "s3" (Harbor\'s storage_service knows filesystem, azure, gcs, s3, swift, oss',
        );
        expect(make({ storageDriver: "s3" })).toThrow("args.s3: got nothing");
        expect(make({ version: "v2.16.0" })).toThrow('args.version: got "v2.16.0"; allowed: a Harbor 2.15.x release');
    });

    it("refuses a data volume overlapping the install directory, and an installer URL with credentials", () => {
        expect(make({ dataVolume: "/" })).toThrow('args.dataVolume: got "/"; allowed: a directory of its own such as /data, not /');
        expect(make({ installDir: "/data/harbor" })).toThrow(
            'args.dataVolume: got "/data"; allowed: a directory that does not contain the install directory /data/harbor: data_volume is Harbor\'s alone',
        );
        const withCredentials = make({ installerUrl: "http://u:s3cret@mirror/h.tgz" });
        expect(withCredentials).toThrow('args.installerUrl: got "http://***@mirror/h.tgz"; allowed: a URL without user:password@');
        expect(withCredentials).not.toThrow(/s3cret/);
    });

    it("generates passwords Harbor accepts, serves plain HTTP when asked, and runs locally without a connection", async () => {
        const h = new kit.HarborInstaller("lib-harbor-http", { installerSha256: SHA, hostname: "10.0.0.5", https: false, httpPort: 8080 });
        const [url, password] = await new Promise<[string, string]>((r) =>
            pulumi.all([h.url, h.adminPassword]).apply((v) => {
                r(v);
                return v;
            }),
        );
        expect(url).toBe("http://10.0.0.5:8080");
        expect(password).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9]).{32}$/);
        await engine.settle();
        const c = engine.resources.find((r) => r.name === "lib-harbor-http" && r.custom)!;
        expect(c.type).toBe("command:local:Command");
        const stdin = unwrapSecrets(c.inputs.stdin) as string;
        expect(stdin.split("\n").map((l) => l.split(" ")[0])).toEqual(["database-password", "harbor.yml", ""]);
        expect(stdin).not.toContain("server.key");
    });
});
