/**
 * The gitlab stack's registry and proxy on a real Docker engine, with GitLab's side of the contract
 * played by test/e2e/gitlab-stub: it is given the GitLab container's environment as the program
 * declares it (gitlab.rb, signing key, notification secret) and signs tokens as GitLab does.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { GITLAB_ENV } from "../../renderers/gitlab-rb";
import {
    buildImageTar,
    deploy,
    eventually,
    prepare,
    proxyRequest,
    ProxyTarget,
    RegistryClient,
    removeByPrefix,
    render,
    Rendered,
    run,
    startSideService,
    waitHealthy,
} from "./harness";

const PREFIX = "rk-gl";
const REGISTRY_HOST = "registry.gitlab.test";
const GITLAB_HOST = "gitlab.gitlab.test";
const HTTPS = 38843;
const HTTP = 38880;
const PROMETHEUS = "http://127.0.0.1:39890";
const STUB_PASSWORD = crypto.randomBytes(12).toString("hex");
const REPO = "group/project/app";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-gl-"));
const certDir = path.join(work, "certs");
const hostsFile = path.join(work, "hosts");
let rendered: Rendered;
let gitlabEnv: Record<string, string>;
let ca: string;
let imageTar: string;
let pushedDigest: string;

const target = (hostname: string, user = "developer"): ProxyTarget => ({ port: HTTPS, hostname, ca, user, password: STUB_PASSWORD });
const client = (user: string) => new RegistryClient({ work, hostsFile, certDir, registry: `${REGISTRY_HOST}:${HTTPS}`, user, password: STUB_PASSWORD });

async function tokenFor(user: string, scope: string): Promise<string> {
    const res = await proxyRequest(target(GITLAB_HOST, user), "GET", `/jwt/auth?service=container_registry&scope=${encodeURIComponent(scope)}`);
    expect(res.status).toBe(200);
    return JSON.parse(res.body.toString()).token;
}

async function manifestStatus(token: string, repo = REPO): Promise<number> {
    const res = await proxyRequest(target(REGISTRY_HOST), "GET", `/v2/${repo}/manifests/1`, undefined, {
        Authorization: `Bearer ${token}`,
        Accept: "application/vnd.docker.distribution.manifest.v2+json",
    });
    return res.status;
}

function events(): { accepted: boolean; authorization: string; body: string }[] {
    const r = run("docker", ["exec", `${PREFIX}-gitlab-stub`, "cat", "/tmp/events.jsonl"], { allowFail: true });
    return r.code === 0
        ? r.stdout
              .trim()
              .split("\n")
              .filter(Boolean)
              .map((l) => JSON.parse(l))
        : [];
}

describe("gitlab topology: GitLab as the registry's token issuer", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry", "nginx", "prometheus", "s3"]);
        rendered = render(path.join(__dirname, "Pulumi.gitlab-e2e.yaml"), path.join(work, "out"), path.join(work, "state.json"), "gitlab-e2e");
        const gitlab = rendered.resources.find((r) => r.type === "docker:index/container:Container" && r.name === `${PREFIX}-gitlab`)!;
        gitlabEnv = Object.fromEntries((gitlab.inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
        ca = rendered.outputs.caCertificate;
        fs.mkdirSync(certDir);
        fs.writeFileSync(path.join(certDir, "ca.crt"), ca);
        fs.writeFileSync(hostsFile, `127.0.0.1 localhost ${REGISTRY_HOST} ${GITLAB_HOST}\n`);
        const network = rendered.resources.find((r) => r.type === "docker:index/network:Network")!;
        // GitLab's place on the network, with exactly the environment the program gives GitLab.
        startSideService(network.inputs.name, {
            name: `${PREFIX}-gitlab-stub`,
            alias: "gitlab",
            image: "registry-kit-test/s3:2",
            entrypoint: "python3",
            args: ["/stub/gitlab_stub.py"],
            subnet: network.inputs.ipamConfigs[0].subnet,
            env: {
                [GITLAB_ENV.omnibusConfig]: gitlabEnv[GITLAB_ENV.omnibusConfig],
                [GITLAB_ENV.tokenKey]: gitlabEnv[GITLAB_ENV.tokenKey],
                [GITLAB_ENV.notificationSecret]: gitlabEnv[GITLAB_ENV.notificationSecret],
                STUB_PASSWORD,
            },
            files: [{ path: "/stub/gitlab_stub.py", content: fs.readFileSync(path.join(__dirname, "gitlab-stub", "gitlab_stub.py"), "utf8") }],
        });
        await deploy(rendered, undefined, { skipImages: [gitlab.inputs.image] });
        await waitHealthy([`${PREFIX}-registry`, `${PREFIX}-proxy`, `${PREFIX}-prometheus`]);
        imageTar = buildImageTar(work, PREFIX, [3 * 1024 * 1024, 512 * 1024]);
    }, 900_000);

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("plans no change on a second pulumi up, against what Docker reports (the subnet's gateway included)", async () => {
        const again = render(path.join(__dirname, "Pulumi.gitlab-e2e.yaml"), path.join(work, "out-again"), path.join(work, "state.json"), "gitlab-e2e");
        const gitlab = again.resources.find((r) => r.type === "docker:index/container:Container" && r.name === `${PREFIX}-gitlab`)!;
        const result = await deploy(again, rendered, { skipImages: [gitlab.inputs.image] });
        expect(Object.keys(result.plans).length).toBeGreaterThanOrEqual(4);
        expect(Object.entries(result.plans).filter(([, p]) => p.action !== "same")).toEqual([]);
        expect(result.replaced).toEqual([]);
    });

    it("gives GitLab and the registry the same issuer and key (GitLab's kid computed independently, in Python)", async () => {
        const res = await eventually("the stub behind the proxy", async () => {
            const r = await proxyRequest(target(GITLAB_HOST), "GET", "/kid");
            return r.status === 200 ? r : undefined;
        });
        const stub = JSON.parse(res.body.toString());
        expect(stub.kid).toBe(rendered.outputs.tokenKeyId);
        expect(stub.issuer).toBe(rendered.outputs.tokenIssuer);
        const config = parse(fs.readFileSync(path.join(rendered.dir, "files", `${PREFIX}-registry`, "etc", "docker", "registry", "config.yml"), "utf8"));
        expect(config.auth.token).toMatchObject({
            realm: `https://${GITLAB_HOST}:${HTTPS}/jwt/auth`,
            service: "container_registry",
            issuer: rendered.outputs.tokenIssuer,
        });
    });

    it("serves GitLab as a second virtual host: its own certificate, forwarded headers, HTTP → HTTPS", async () => {
        const res = await proxyRequest(target(GITLAB_HOST), "GET", "/echo");
        const headers = JSON.parse(res.body.toString());
        expect(headers["x-forwarded-proto"]).toBe("https");
        expect(headers["x-forwarded-ssl"]).toBe("on");
        expect(headers["host"]).toBe(`${GITLAB_HOST}:${HTTPS}`);
        expect(headers["x-forwarded-for"]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        const cert = run("sh", [
            "-c",
            `openssl s_client -connect 127.0.0.1:${HTTPS} -servername ${GITLAB_HOST} -CAfile ${certDir}/ca.crt </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`,
        ]).stdout;
        expect(cert).toContain(`DNS:${GITLAB_HOST}`);
        expect(cert).not.toContain(`DNS:${REGISTRY_HOST}`);
        const redirect = run("curl", [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-H",
            `Host: ${GITLAB_HOST}:${HTTP}`,
            `http://127.0.0.1:${HTTP}/users/sign_in`,
        ]);
        expect(redirect.stdout).toBe(`301 https://${GITLAB_HOST}:${HTTPS}/users/sign_in`);
    });

    it("challenges registry clients for a GitLab token", async () => {
        const res = await proxyRequest(target(REGISTRY_HOST), "GET", "/v2/", undefined, { Authorization: "" });
        expect(res.status).toBe(401);
        expect(res.headers["www-authenticate"]).toBe(`Bearer realm="https://${GITLAB_HOST}:${HTTPS}/jwt/auth",service="container_registry"`);
    });

    it("lets a real client push and pull group/project/app with a GitLab token", () => {
        pushedDigest = client("developer").push(imageTar, `${REPO}:1`);
        expect(client("developer").pull(`${REPO}:1`, 2)).toBe(pushedDigest);
    });

    it("refuses another repository, an expired token, another issuer and another key", async () => {
        expect(client("developer").inspect(`${REPO}:1`).digest).toBe(pushedDigest);
        for (const user of ["other-repo", "expired", "wrong-issuer", "other-key"]) {
            const r = client(user).inspect(`${REPO}:1`);
            expect(r.code, `${user}: ${r.stderr}`).not.toBe(0);
            expect(r.stderr, user).toMatch(/unauthorized|authentication required|denied/i);
        }
        const scope = `repository:${REPO}:pull`;
        expect(await manifestStatus(await tokenFor("developer", scope))).toBe(200);
        for (const user of ["other-repo", "expired", "wrong-issuer", "other-key"]) {
            expect(await manifestStatus(await tokenFor(user, scope)), user).toBe(401);
        }
        // Outside the project: GitLab grants no actions, the registry refuses.
        expect(await manifestStatus(await tokenFor("developer", "repository:group/other:pull"), "group/other")).toBe(401);
    });

    it("notifies GitLab of the push with the exact secret GitLab is configured with", async () => {
        const secret = gitlabEnv[GITLAB_ENV.notificationSecret];
        expect(secret).toMatch(/^rk[A-Za-z0-9]{48}$/);
        const push = await eventually("a push event for the tag", () =>
            events().find((e) => JSON.parse(e.body).events.some((ev: any) => ev.action === "push" && ev.target.repository === REPO && ev.target.tag === "1")),
        );
        expect(push.accepted).toBe(true);
        expect(push.authorization).toBe(secret);
        expect(events().every((e) => e.accepted && e.authorization === secret)).toBe(true);
        // The stub's check is real: a wrong secret through the proxy is refused.
        const wrong = await proxyRequest(target(GITLAB_HOST), "POST", "/api/v4/container_registry_event/events", Buffer.from("{}"), {
            Authorization: `${secret}x`,
            "Content-Type": "application/vnd.docker.distribution.events.v1+json",
        });
        expect(wrong.status).toBe(401);
        // And so is registry 3's media type, as GitLab's endpoint refuses it.
        const v2 = await proxyRequest(target(GITLAB_HOST), "POST", "/api/v4/container_registry_event/events", Buffer.from("{}"), {
            Authorization: secret,
            "Content-Type": "application/vnd.docker.distribution.events.v2+json",
        });
        expect(v2.status).toBe(415);
    });

    it("keeps the notification secret out of the registry's logs (the registry logs its endpoints with their headers)", () => {
        const secret = gitlabEnv[GITLAB_ENV.notificationSecret];
        const logs = run("docker", ["logs", `${PREFIX}-registry`]);
        const text = logs.stdout + logs.stderr;
        expect(text).toContain("configuring endpoint gitlab");
        expect(text).toContain("Authorization:[redacted]");
        expect(text).not.toContain(secret);
    });

    it("has Prometheus scrape the registry and GitLab's metrics endpoint", async () => {
        const up = await eventually(
            "the registry and gitlab-rails targets to be up",
            async () => {
                const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent('up{job=~"registry|gitlab-rails"}')}`);
                const result = ((await res.json()) as { data: { result: { metric: { job: string }; value: [number, string] }[] } }).data.result;
                const jobs = Object.fromEntries(result.map((r) => [r.metric.job, r.value[1]]));
                return jobs.registry === "1" && jobs["gitlab-rails"] === "1" ? jobs : undefined;
            },
            60_000,
        );
        expect(up).toEqual({ registry: "1", "gitlab-rails": "1" });
        const targets = (await (await fetch(`${PROMETHEUS}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string } }[] } };
        expect(targets.data.activeTargets.map((t) => t.labels.job).sort()).toEqual(
            [
                "gitlab-exporter-database",
                "gitlab-exporter-sidekiq",
                "gitlab-postgres",
                "gitlab-rails",
                "gitlab-redis",
                "gitlab-sidekiq",
                "gitlab-workhorse",
                "prometheus",
                "proxy",
                "registry",
                // The volume exporter: on by default with filesystem storage (the disk-full alerts read it).
                "registry-volumes",
            ].sort(),
        );
    });
});
