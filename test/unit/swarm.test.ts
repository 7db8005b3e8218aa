/**
 * docker.mode swarm, rendered offline with the real program: the services, their Swarm configs and
 * secrets; no secret in any service spec; versioned names that change with their content and only then.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderCli, ROOT } from "../render-cli";
import { configVersion, secretVersion } from "../../components/swarm-common";
import { swarmRegistryEntrypoint } from "../../components/swarm-registry";
import { renderNginxConf } from "../../renderers/nginx-conf";
import { NGINX_AUTH_JS_PATH, NGINX_AUTH_SECRETS_PATH } from "../../renderers/nginx-auth";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-swarm-unit-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const CONFIG = path.join(ROOT, "test", "fixtures", "Pulumi.swarm.yaml");

interface Resource {
    type: string;
    name: string;
    inputs: Record<string, any>;
}

function render(out: string, state: string, ...extra: string[]): Resource[] {
    renderCli([
        "--stack",
        "e2e",
        "--config",
        CONFIG,
        "--out",
        path.join(work, out),
        "--state",
        path.join(work, state),
        "--show-secrets",
        "--secret-key",
        "registry",
        ...extra,
    ]);
    return JSON.parse(fs.readFileSync(path.join(work, out, "manifest.json"), "utf8")).resources;
}
const ofType = (rs: Resource[], t: string) => rs.filter((r) => r.type === `docker:index/${t}`);
const byName = (rs: Resource[], n: string) => rs.find((r) => r.name === n)!;

describe("swarm mode", () => {
    const first = render("a", "state.json");

    it("declares the registry, proxy, Redis and Prometheus as services on an overlay network, and no container", () => {
        expect(ofType(first, "container:Container")).toEqual([]);
        expect(
            ofType(first, "service:Service")
                .map((s) => s.name)
                .sort(),
        ).toEqual(["rk-unit-swarm-prometheus", "rk-unit-swarm-proxy", "rk-unit-swarm-redis", "rk-unit-swarm-registry"]);
        const net = byName(first, "rk-unit-swarm-net");
        expect(net.inputs).toMatchObject({ driver: "overlay", attachable: true });
        const registry = byName(first, "rk-unit-swarm-registry").inputs;
        expect(registry.mode).toEqual({ replicated: { replicas: 2 } });
        expect(registry.updateConfig).toMatchObject({ order: "start-first", failureAction: "rollback" });
        expect(registry.taskSpec.placement.prefs).toEqual(["node.id"]);
        expect(registry.endpointSpec).toEqual({ mode: "dnsrr" });
        const proxy = byName(first, "rk-unit-swarm-proxy").inputs;
        expect(proxy.updateConfig.order).toBe("stop-first");
        expect(proxy.endpointSpec.ports.map((p: any) => p.publishMode)).toEqual(["host", "host"]);
        expect(proxy.taskSpec.placement.maxReplicas).toBe(1);
        // Prometheus finds every task through Docker's DNS.
        const promConfig = ofType(first, "serviceConfig:ServiceConfig").find((c) => c.name === "rk-unit-swarm-prometheus-config")!;
        const yaml = Buffer.from(promConfig.inputs.data, "base64").toString();
        expect(yaml).toContain("- tasks.rk-unit-swarm-registry");
        expect(yaml).toContain("- tasks.rk-unit-swarm-proxy");
        // nginx gives up on a gone task's address after 2 s and tries the next one; standalone keeps nginx's default.
        const nginx = Buffer.from(byName(first, "rk-unit-swarm-proxy-nginx-conf").inputs.data, "base64").toString();
        expect(nginx).toContain("proxy_connect_timeout 2s;");
        expect(renderNginxConf({ hostname: "r.example.com", upstream: "registry:5000", publicHttpsPort: 443, allowCidrs: [], hstsMaxAge: 0 })).not.toContain(
            "proxy_connect_timeout",
        );
    });

    it("keeps every secret out of the services' specs: they are Swarm secrets mounted as files", () => {
        const secrets = ofType(first, "secret:Secret");
        expect(secrets.map((s) => s.name).sort()).toEqual([
            "rk-unit-swarm-proxy-auth-secrets",
            "rk-unit-swarm-proxy-private-key",
            "rk-unit-swarm-redis-conf",
            "rk-unit-swarm-registry-htpasswd",
            "rk-unit-swarm-registry-http-secret-file",
            "rk-unit-swarm-registry-redis-password",
            "rk-unit-swarm-registry-s3-secret-key",
        ]);
        const values = secrets.map((s) => Buffer.from(s.inputs.data, "base64").toString());
        expect(values).toContain("unit-secret-key-value");
        const specs = JSON.stringify(ofType(first, "service:Service").map((s) => s.inputs)) + JSON.stringify(ofType(first, "serviceConfig:ServiceConfig"));
        for (const v of values) {
            // Each secret, and each line of the multi-line ones (a key, htpasswd entries), is nowhere in a spec or config.
            for (const line of v.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"))) expect(specs).not.toContain(line);
        }
        const registry = byName(first, "rk-unit-swarm-registry").inputs;
        expect(Object.keys(registry.taskSpec.containerSpec.env).sort()).toEqual(["OTEL_TRACES_EXPORTER", "REGISTRY_STORAGE_S3_ACCESSKEY"]);
        expect(registry.taskSpec.containerSpec.commands).toEqual(swarmRegistryEntrypoint("/etc/distribution/config.yml"));
    });

    it("checks users at the proxy as small-team does: the njs module a config, its keys a secret, derived logins at the registry", () => {
        const nginx = Buffer.from(byName(first, "rk-unit-swarm-proxy-nginx-conf").inputs.data, "base64").toString();
        expect(nginx).toContain("auth_request /_registry_kit_auth;");
        // The check's own request to the registry gives up on a gone task's address after 2 s too (with
        // nginx's default 60 s a client's pull timed out during every rolling update).
        const verify = nginx.slice(nginx.indexOf("location = /_registry_kit_verify {"));
        expect(verify.slice(0, verify.indexOf("}"))).toContain("proxy_connect_timeout 2s;");
        expect(nginx).toContain(`include ${NGINX_AUTH_SECRETS_PATH};`);
        const js = Buffer.from(byName(first, "rk-unit-swarm-proxy-auth-js").inputs.data, "base64").toString();
        expect(js).toContain("function authorize");
        const files = byName(first, "rk-unit-swarm-proxy").inputs.taskSpec.containerSpec;
        expect(files.configs.map((c: any) => c.fileName)).toContain(NGINX_AUTH_JS_PATH);
        expect(files.secrets.find((f: any) => f.fileName === NGINX_AUTH_SECRETS_PATH)).toMatchObject({ fileMode: 0o400, fileUid: "0" });
        // The registry knows each user twice: the proxy's derived login and the user's own under the verification name.
        const htpasswd = Buffer.from(byName(first, "rk-unit-swarm-registry-htpasswd").inputs.data, "base64").toString();
        const names = htpasswd
            .trim()
            .split("\n")
            .map((l) => l.split(":")[0]);
        expect(names).toContain("admin");
        expect(names).toContain("admin@registry-kit-verify");
    });

    it("runs every service's health check every 10s by default, and every docker.swarm.healthInterval when set", () => {
        const intervals = (rs: Resource[]) =>
            Object.fromEntries(ofType(rs, "service:Service").map((s) => [s.name, s.inputs.taskSpec.containerSpec.healthcheck.interval]));
        expect(intervals(first)).toEqual({
            "rk-unit-swarm-prometheus": "10s",
            "rk-unit-swarm-proxy": "10s",
            "rk-unit-swarm-redis": "10s",
            "rk-unit-swarm-registry": "10s",
        });
        // Written as Go writes it (the provider reads it back so): 90s is 1m30s.
        const faster = render("e", "state.json", "--set", "docker.swarm.healthInterval=90s");
        expect(new Set(Object.values(intervals(faster)))).toEqual(new Set(["1m30s"]));
        const registry = byName(faster, "rk-unit-swarm-registry").inputs.taskSpec.containerSpec.healthcheck;
        expect(registry).toMatchObject({ retries: 3, timeout: "5s", startPeriod: "10s" });
    });

    it("names each config by its content's hash and each secret by an HMAC, so the name shows no guessable hash", () => {
        const conf = byName(first, "rk-unit-swarm-registry-config");
        expect(conf.inputs.name).toBe(`rk-unit-swarm-registry-config-${configVersion(Buffer.from(conf.inputs.data, "base64").toString())}`);
        const s3 = byName(first, "rk-unit-swarm-registry-s3-secret-key");
        expect(s3.inputs.name).toMatch(/^rk-unit-swarm-registry-s3-secret-key-[0-9a-f]{12}$/);
        expect(s3.inputs.name).not.toContain(configVersion("unit-secret-key-value"));
        expect(secretVersion("k1", "x")).not.toBe(secretVersion("k2", "x"));
    });

    it("changes nothing on a second run, and only the S3 secret and the registry's reference to it when the key changes", () => {
        const again = render("b", "state.json");
        expect(JSON.stringify(again)).toBe(JSON.stringify(first));
        const rotated = render("c", "state.json", "--set", "registry.storage.s3.secretKey=rotated-secret-key-value");
        const changed = rotated.filter((r, i) => JSON.stringify(r) !== JSON.stringify(first[i])).map((r) => r.name);
        expect(changed.sort()).toEqual(["rk-unit-swarm-registry", "rk-unit-swarm-registry-s3-secret-key"]);
        expect(byName(rotated, "rk-unit-swarm-registry-s3-secret-key").inputs.name).not.toBe(byName(first, "rk-unit-swarm-registry-s3-secret-key").inputs.name);
        // Control: the comparison sees changes at all.
        const other = render("d", "other-state.json");
        expect(JSON.stringify(other)).not.toBe(JSON.stringify(first));
    });
});
