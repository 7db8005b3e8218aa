/**
 * The harbor program under Pulumi's mocks (the offline engine): the HarborInstaller command over SSH,
 * what its create/update/delete scripts do and never do, harbor.yml's content, the scrape jobs, and that
 * every password and key stays secret.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, maskSecrets, ResourceRecord, unwrapSecrets } from "../../offline/engine";
import { parseHarborStdin } from "../../renderers/harbor-scripts";

const SHA = "0f".repeat(32);
const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAunit-test-key-material\n-----END OPENSSH PRIVATE KEY-----\n";
const ADMIN = "Unit&Admin<Pass>1";
const DB = "unit-db-pass'\"word9";
const config = {
    "registry-kit:topology": "harbor",
    "registry-kit:hostname": "harbor.example.com",
    "registry-kit:docker": { namePrefix: "rk-hu" },
    "registry-kit:harbor": {
        installerUrl: "https://mirror.internal/harbor-offline-installer-v2.15.1.tgz",
        version: "v2.15.1",
        installerSha256: SHA,
        ssh: { host: "harbor-1.internal", port: 2222, user: "deploy", privateKey: SSH_KEY },
        adminPassword: ADMIN,
        databasePassword: DB,
        installDir: "/srv/harbor",
        dataVolume: "/srv/harbor-data",
        httpsPort: 8443,
        jobservice: { maxJobWorkers: 4 },
        log: { level: "warning", rotateCount: 5, rotateSize: "50M" },
        proxy: { httpsProxy: "http://proxy.internal:3128", noProxy: "10.0.0.0/8" },
        metrics: { port: 9095 },
    },
    "registry-kit:monitoring": { port: 9090 },
};

let ev: Evaluation;
const find = (type: string, name: string): ResourceRecord => {
    const r = ev.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} ${name}; have ${ev.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const plain = (v: unknown) => unwrapSecrets(v) as any;
const cmd = () => find("command:remote:Command", "rk-hu-harbor");
/** The files on the command's stdin, by name. */
const stdinFiles = (): Record<string, string> => parseHarborStdin(plain(cmd().inputs.stdin));

beforeAll(async () => {
    ev = await evaluate({ config, secretKeys: ["registry-kit:harbor"] }, { stack: "unit" });
}, 60_000);

describe("harbor resources", () => {
    it("declares one SSH command, the TLS resources, Prometheus and the generated digest key", () => {
        const custom = ev.resources
            .filter((r) => r.custom)
            .map((r) => `${r.type.split(":")[2]} ${r.name}`)
            .sort();
        expect(custom).toEqual(
            [
                "CertRequest rk-hu-tls-server-csr",
                "Command rk-hu-harbor",
                "Container rk-hu-prometheus",
                "LocallySignedCert rk-hu-tls-server",
                "Network rk-hu-net",
                "PrivateKey rk-hu-tls-ca-key",
                "PrivateKey rk-hu-tls-server-key",
                "RandomPassword rk-hu-harbor-config-digest-key",
                "RemoteImage rk-hu-prometheus-image",
                "SelfSignedCert rk-hu-tls-ca",
                "Volume rk-hu-prometheus-data",
            ].sort(),
        );
        expect(find("registry-kit:harbor:HarborInstaller", "rk-hu-harbor").custom).toBe(false);
    });

    it("connects over SSH with the configured host, port, user and key", () => {
        expect(plain(cmd().inputs.connection)).toMatchObject({ host: "harbor-1.internal", port: 2222, user: "deploy", privateKey: SSH_KEY });
    });

    it("runs the lifecycle script for create, update and delete with the pinned installer and paths", () => {
        const i = plain(cmd().inputs);
        for (const action of ["create", "update", "delete"]) {
            const text: string = i[action];
            expect(text.split("\n")[0]).toBe(`bash /dev/fd/3 ${action} 3<<'RK_HARBOR_SCRIPT'`);
            expect(text).toContain("RK_VERSION='v2.15.1'\n");
            expect(text).toContain("RK_URL='https://mirror.internal/harbor-offline-installer-v2.15.1.tgz'\n");
            expect(text).toContain(`RK_SHA256='${SHA}'\n`);
            expect(text).toContain("RK_HARBOR_YML='/srv/harbor/harbor/harbor.yml'\n");
            expect(text).toContain("RK_DATA_VOLUME='/srv/harbor-data'\n");
            expect(text).toContain("RK_PREPARE_ARGS='--with-trivy'\n");
            expect(text).toMatch(/RK_CONFIG_HMAC='[0-9a-f]{64}'\n/);
            expect(text).toMatch(/RK_OWNER='[0-9a-f]{32}'\n/);
            expect(text).toContain("RK_DATA_STATE='/srv/harbor-data/.registry-kit'\n");
            expect(text).not.toMatch(/sha256 \$RK_CONFIG|RK_CONFIG_SHA256/);
            expect(text.trimEnd().split("\n").pop()).toBe("RK_HARBOR_SCRIPT");
        }
    });

    it("never deletes volumes and never runs install.sh", () => {
        const i = plain(cmd().inputs);
        for (const action of ["create", "update", "delete"]) {
            const code = (i[action] as string)
                .split("\n")
                .filter((l) => !/^\s*#/.test(l))
                .join("\n");
            expect(code).not.toMatch(/down\s+(-\w*v|--volumes)/);
            expect(code).not.toMatch(/\bvolume\s+(rm|prune)\b/);
            expect(code).not.toMatch(/install\.sh/);
            expect(code).not.toMatch(/rm -rf "\$RK_DATA_VOLUME/);
            expect(code).toMatch(/\(cd "\$RK_HARBOR_DIR" && docker compose down\)\n/);
        }
    });

    it("checks the checksum and the staged installer before stopping Harbor, and refuses version and password mismatches first", () => {
        const script: string = plain(cmd().inputs).update;
        expect(script.indexOf('actual="$(sha256sum "$tarball.part"')).toBeLessThan(script.indexOf("tar -xzf"));
        const installVersion = script.slice(script.indexOf("install_version() {"));
        const order = ["download_verified", "stage_installer", "stop_project", "swap_installer", "prepare_and_up"].map((f) => installVersion.indexOf(f));
        expect(order).toEqual([...order].sort((a, b) => a - b));
        expect(order[0]).toBeGreaterThan(0);
        const createOrUpdate = script.slice(script.indexOf("create_or_update() {"));
        const checks = ["check_versions", "check_database_password", "tools", "install_version"].map((f) => createOrUpdate.indexOf(f));
        expect(checks).toEqual([...checks].sort((a, b) => a - b));
        expect(checks[0]).toBeGreaterThan(0);
        expect(script).toContain("goharbor/prepare:$to migrate -i $RK_HARBOR_YML");
    });

    it("sends harbor.yml, certificate and key on stdin, and harbor.yml holds the settings", () => {
        const files = stdinFiles();
        expect(Object.keys(files)).toEqual(["database-password", "harbor.yml", "server.crt", "server.key"]);
        expect(files["database-password"]).toBe(DB);
        const yml = parse(files["harbor.yml"]);
        expect(yml).toMatchObject({
            hostname: "harbor.example.com",
            http: { port: 80 },
            https: { port: 8443, certificate: "/srv/harbor/tls/server.crt", private_key: "/srv/harbor/tls/server.key" },
            harbor_admin_password: ADMIN,
            database: { password: DB },
            data_volume: "/srv/harbor-data",
            jobservice: { max_job_workers: 4 },
            log: { level: "warning", local: { rotate_count: 5, rotate_size: "50M" } },
            proxy: { https_proxy: "http://proxy.internal:3128", no_proxy: "10.0.0.0/8", components: ["core", "jobservice", "trivy"] },
            metric: { enabled: true, port: 9095, path: "/metrics" },
            upload_purging: { enabled: true, age: "168h", interval: "24h", dryrun: false },
            _version: "2.15.0",
        });
        expect(yml.storage_service).toBeUndefined();
        expect(files["server.crt"]).toContain("BEGIN CERTIFICATE");
        expect(files["server.key"]).toContain("PRIVATE KEY");
    });

    it("has Prometheus scrape Harbor's exporter, core, registry and job service at the SSH host's metrics port", () => {
        const c = plain(find("docker:index/container:Container", "rk-hu-prometheus").inputs);
        const prom = parse(c.uploads[0].content);
        // Prometheus resolves targets with Docker's DNS: the SSH host, never the public name via /etc/hosts.
        expect(c.hosts).toBeUndefined();
        expect(
            prom.scrape_configs.map((j: any) => `${j.job_name} ${j.metrics_path}${j.params ? `?comp=${j.params.comp}` : ""} ${j.static_configs[0].targets}`),
        ).toEqual([
            "prometheus /metrics localhost:9090",
            "harbor-exporter /metrics harbor-1.internal:9095",
            "harbor-core /metrics?comp=core harbor-1.internal:9095",
            "harbor-registry /metrics?comp=registry harbor-1.internal:9095",
            "harbor-jobservice /metrics?comp=jobservice harbor-1.internal:9095",
        ]);
    });

    it("exports URL, admin user and password, the CA of the self-signed certificate", () => {
        expect(ev.outputs.harborUrl).toBe("https://harbor.example.com:8443");
        expect(ev.outputs.adminUser).toBe("admin");
        expect(plain(ev.outputs.adminPassword)).toBe(ADMIN);
        expect(plain(ev.outputs.databasePassword)).toBe(DB);
        expect(ev.outputs.caCertificate).toContain("BEGIN CERTIFICATE");
        expect(ev.outputs.dataVolume).toBe("/srv/harbor-data");
        expect(ev.outputs.installDir).toBe("/srv/harbor");
        expect((ev.outputs.harborScrapeJobs as unknown[]).length).toBe(4);
    });
});

describe("harbor secrets", () => {
    it("are secret on every input and output that holds one", () => {
        const i = cmd().inputs as any;
        expect(isSecretWrapper(i.stdin)).toBe(true);
        expect(isSecretWrapper(i.connection)).toBe(true);
        expect(isSecretWrapper(i.create)).toBe(false);
        // The triggers (the owner id, a keyed digest of the connection) are plain and hold nothing of the key.
        expect(isSecretWrapper(i.triggers) || i.triggers.some(isSecretWrapper)).toBe(false);
        expect(JSON.stringify(plain(i.triggers))).toMatch(/^\["[0-9a-f]{32}"\]$/);
        expect(cmd().options.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdin", "connection"]));
        expect(isSecretWrapper(ev.outputs.adminPassword)).toBe(true);
        expect(isSecretWrapper(ev.outputs.databasePassword)).toBe(true);
        expect(isSecretWrapper(ev.outputs.caCertificate)).toBe(false);
    });

    it("never appear in plain text once secrets are masked: not in the commands, not in the outputs", () => {
        const files = stdinFiles();
        const visible = JSON.stringify([ev.resources.map((r) => maskSecrets(r.inputs)), maskSecrets(ev.outputs)]);
        for (const secret of [
            ADMIN,
            DB,
            JSON.stringify(ADMIN).slice(1, -1),
            SSH_KEY.split("\n")[1],
            files["server.key"].split("\n")[1],
            Buffer.from(files["harbor.yml"]).toString("base64").slice(0, 40),
        ]) {
            expect(secret.length).toBeGreaterThan(8);
            expect(visible).not.toContain(secret);
        }
    });
});
