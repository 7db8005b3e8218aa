/**
 * The small-team program with maintenance enabled, under Pulumi's mocks: the job, the storage worker
 * and the proxy share the control volume as they must; the data and backup volumes are kept on
 * destroy; the job's password is a secret; Prometheus loads the alert rules.
 */
import * as bcrypt from "bcryptjs";
import { beforeAll, describe, expect, it } from "vitest";
import { Evaluation, evaluate } from "../../offline/evaluate";
import { isSecretWrapper, ResourceRecord, unwrapSecrets } from "../../offline/engine";

const config = {
    "registry-kit:topology": "small-team",
    "registry-kit:hostname": "registry.example.com",
    "registry-kit:docker": { namePrefix: "rk-unit" },
    "registry-kit:maintenance": {
        enabled: true,
        retention: [{ repositories: ["ci/**"], keepMostRecent: 5 }],
        backup: { enabled: true, keep: 3 },
        replication: [
            {
                name: "site-b",
                direction: "push",
                registry: "registry.site-b.example",
                repositories: ["team/app"],
                username: "ci",
                password: "site-b-token-value",
            },
        ],
    },
};

let ev: Evaluation;
const find = (type: string, name: string): ResourceRecord => {
    const r = ev.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} ${name}; have ${ev.resources.map((x) => x.name).join(", ")}`);
    return r;
};
const container = (name: string) => unwrapSecrets(find("docker:index/container:Container", name).inputs) as any;
const mounts = (name: string) => Object.fromEntries(container(name).volumes.map((v: any) => [v.containerPath, `${v.volumeName}${v.readOnly ? ":ro" : ""}`]));

beforeAll(async () => {
    ev = await evaluate({ config, secretKeys: ["registry-kit:maintenance"] }, { stack: "unit" });
}, 60_000);

describe("maintenance in the small-team program", () => {
    it("shares the control volume: read-write for the job and the storage worker, read-only for the proxy", () => {
        expect(mounts("rk-unit-maintenance")).toEqual({ "/maintenance": "rk-unit-maintenance-control", "/var/lib/registry": "rk-unit-registry-data:ro" });
        expect(mounts("rk-unit-registry-gc")).toEqual({
            "/var/lib/registry": "rk-unit-registry-data",
            "/maintenance": "rk-unit-maintenance-control",
            "/backup": "rk-unit-registry-backup",
        });
        expect(mounts("rk-unit-proxy")["/run/registry-kit-maintenance"]).toBe("rk-unit-maintenance-control:ro");
    });

    it("keeps the data and backup volumes on destroy, not the control volume", () => {
        expect(find("docker:index/volume:Volume", "rk-unit-registry-data").options.retainOnDelete).toBe(true);
        expect(find("docker:index/volume:Volume", "rk-unit-registry-backup").options.retainOnDelete).toBe(true);
        expect(find("docker:index/volume:Volume", "rk-unit-maintenance-control").options.retainOnDelete).toBe(false);
    });

    it("gives the job the admin password as a secret, and no Docker socket to anyone", () => {
        const envs = find("docker:index/container:Container", "rk-unit-maintenance").inputs.envs as unknown[];
        const password = envs.find((e) => String(unwrapSecrets(e)).startsWith("REGISTRY_KIT_REGISTRY_PASSWORD="));
        expect(isSecretWrapper(password) || isSecretWrapper(envs)).toBe(true);
        // The registry sits behind the proxy's check: the job logs in as the admin with its derived password,
        // which the registry's htpasswd entry `admin` accepts (the admin's own password is under admin@registry-kit-verify).
        const registry = find("docker:index/container:Container", "rk-unit-registry").inputs as { uploads: unknown[] };
        const htpasswd = (registry.uploads.map((u) => unwrapSecrets(u)) as { file: string; content: string }[]).find(
            (u) => u.file === "/auth/htpasswd",
        )!.content;
        const entry = (name: string) =>
            htpasswd
                .split("\n")
                .find((l) => l.startsWith(`${name}:`))!
                .slice(name.length + 1);
        const jobPassword = String(unwrapSecrets(password)).slice("REGISTRY_KIT_REGISTRY_PASSWORD=".length);
        expect(bcrypt.compareSync(jobPassword, entry("admin"))).toBe(true);
        expect(bcrypt.compareSync(String(unwrapSecrets(ev.outputs.adminPassword)), entry("admin@registry-kit-verify"))).toBe(true);
        for (const r of ev.resources.filter((x) => x.type === "docker:index/container:Container")) {
            expect(JSON.stringify(unwrapSecrets(r.inputs)), r.name).not.toContain("docker.sock");
        }
    });

    it("hands the other registry's password to the sync worker as a secret, and nowhere else", () => {
        const sync = find("docker:index/container:Container", "rk-unit-maintenance-sync");
        const envs = sync.inputs.envs as unknown[];
        const creds = envs.find((e) => String(unwrapSecrets(e)).startsWith("RK_CREDS_0="));
        expect(unwrapSecrets(creds)).toBe("RK_CREDS_0=ci:site-b-token-value");
        expect(isSecretWrapper(creds) || isSecretWrapper(envs)).toBe(true);
        for (const r of ev.resources.filter((x) => x.type === "docker:index/container:Container")) {
            const uploads = JSON.stringify(unwrapSecrets(r.inputs.uploads ?? []));
            expect(uploads, r.name).not.toContain("site-b-token-value");
        }
        const plan = JSON.parse(container("rk-unit-maintenance").uploads.find((u: any) => u.file.endsWith("maintenance.json")).content).replication;
        expect(plan).toEqual([
            {
                name: "site-b",
                direction: "push",
                registry: "registry.site-b.example",
                tlsVerify: true,
                tags: "^(.*)$",
                repositories: [{ source: "team/app", destination: "team/app" }],
            },
        ]);
    });

    it("loads the alert rules and scrapes the job; the registry keeps no in-memory cache", () => {
        const prometheus = container("rk-unit-prometheus");
        const files = Object.fromEntries(prometheus.uploads.map((u: any) => [u.file, u.content]));
        expect(files["/etc/prometheus/prometheus.yml"]).toContain(
            "rule_files:\n  - /etc/prometheus/rules/registry.yml\n  - /etc/prometheus/rules/volumes.yml\n  - /etc/prometheus/rules/maintenance.yml",
        );
        expect(files["/etc/prometheus/prometheus.yml"]).toContain("job_name: registry-maintenance");
        expect(files["/etc/prometheus/rules/maintenance.yml"]).toContain("alert: RegistryMaintenanceOverdue");
        const registry = container("rk-unit-registry");
        const configYaml = registry.uploads.find((u: any) => u.file.endsWith("config.yml")).content;
        expect(configYaml).not.toContain("blobdescriptor");
        const job = JSON.parse(container("rk-unit-maintenance").uploads.find((u: any) => u.file.endsWith("maintenance.json")).content);
        expect(job).toMatchObject({ backup: { enabled: true, keep: 3 }, storage: { kind: "filesystem" }, registry: { url: "http://registry:5000" } });
    });
});
