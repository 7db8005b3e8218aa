/**
 * A second `pulumi up` judged by the Docker provider's own diff rules (offline/docker-provider.ts):
 * every stack renders containers whose state after create (durations as Go writes them, daemon
 * defaults) equals what the next run declares, and a changed setting replaces exactly the containers
 * it should, with health-check changes reaching the container.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify, parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { renderCli, ROOT } from "../render-cli";
import { formatGoDuration, parseGoDuration, planContainer, planNetwork, readBackContainer, readBackNetwork } from "../../offline/docker-provider";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-provider-diff-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Resource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    options: { createTimeout?: string };
}

function render(configPath: string, out: string, state: string, stack: string): Resource[] {
    renderCli(["--stack", stack, "--config", configPath, "--out", out, "--state", state, "--show-secrets"]);
    return JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).resources;
}

const containers = (rs: Resource[]) => rs.filter((r) => r.type === "docker:index/container:Container");
const networks = (rs: Resource[]) => rs.filter((r) => r.type === "docker:index/network:Network");

/** The provider's plan for every container and network of `next`, against the state `first` left. */
function plans(first: Resource[], next: Resource[]) {
    const out: Record<string, { action: string; changed: string[] }> = {};
    for (const c of containers(next)) {
        const before = containers(first).find((x) => x.name === c.name);
        out[c.name] = before ? planContainer(readBackContainer(before.inputs), c.inputs) : { action: "create", changed: [] };
    }
    for (const n of networks(next)) {
        const before = networks(first).find((x) => x.name === n.name);
        out[n.name] = before ? planNetwork(readBackNetwork(before.inputs), n.inputs) : { action: "create", changed: [] };
    }
    return out;
}

/** A copy of a stack file with `edit` applied to its config. */
function variant(source: string, name: string, edit: (config: Record<string, any>) => void): string {
    const doc = parse(fs.readFileSync(source, "utf8"));
    edit(doc.config);
    const file = path.join(work, `Pulumi.${name}.yaml`);
    fs.writeFileSync(file, stringify(doc));
    return file;
}

/** The example harbor stack with the installer checksum it asks the user for. */
const harborFile = variant(path.join(ROOT, "stacks", "Pulumi.harbor.yaml"), "harbor", (c) => {
    c["registry-kit:harbor"].installerSha256 = "c0ffee".padEnd(64, "0");
});

/** The example small-team stack in ACME mode (certbot's five-minute start period). */
const acmeFile = variant(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "acme", (c) => {
    c["registry-kit:hostname"] = "registry.example.com";
    c["registry-kit:tls"] = { mode: "acme" };
});

/** The example small-team stack with the catalog page, CORS for a page elsewhere and delete buttons. */
const catalogFile = variant(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "catalog", (c) => {
    c["registry-kit:catalog"] = { enabled: true, delete: true, allowedOrigins: ["https://pages.example.com"] };
});

/** The example small-team stack with two pull-through mirrors: one on its own name, one on its own port. */
const mirrorsFile = variant(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "mirrors", (c) => {
    c["registry-kit:mirrors"] = [
        { name: "hub", upstream: "https://registry-1.docker.io", hostname: "hub.registry.localhost", anonymous: true },
        { name: "ghcr", upstream: "https://ghcr.io", httpsPort: 8444, ttl: "24h" },
    ];
});

const STACKS = [
    { stack: "catalog", file: catalogFile },
    { stack: "acme", file: acmeFile },
    { stack: "mirrors", file: mirrorsFile },
    { stack: "local", file: path.join(ROOT, "stacks", "Pulumi.local.yaml") },
    { stack: "gitlab", file: path.join(ROOT, "stacks", "Pulumi.gitlab.yaml") },
    { stack: "harbor", file: harborFile },
    { stack: "e2e", file: path.join(ROOT, "test", "e2e", "Pulumi.e2e.yaml") },
    { stack: "gitlab-e2e", file: path.join(ROOT, "test", "e2e", "Pulumi.gitlab-e2e.yaml") },
];

describe("Go durations, as the provider reads them back", () => {
    it("parses and formats as Go's time package does", () => {
        const cases: [string, string][] = [
            ["300s", "5m0s"],
            ["60s", "1m0s"],
            ["900s", "15m0s"],
            ["15s", "15s"],
            ["3600s", "1h0m0s"],
            ["90m", "1h30m0s"],
            ["1.5s", "1.5s"],
            ["500ms", "500ms"],
            ["1h30m", "1h30m0s"],
        ];
        for (const [text, go] of cases) expect(formatGoDuration(parseGoDuration(text)!), text).toBe(go);
        expect(parseGoDuration("7d")).toBeUndefined();
        expect(parseGoDuration("1w")).toBeUndefined();
    });

    it("makes a spec written `300s` differ from its state, which is what the kit must not write", () => {
        const spec = { name: "x", healthcheck: { tests: ["CMD", "true"], interval: "300s", timeout: "5s", retries: 3, startPeriod: "10s" } };
        const plan = planContainer(readBackContainer(spec), spec);
        expect(plan.action).toBe("update");
        expect(plan.notApplied).toEqual(["healthcheck"]);
    });
});

describe("a second pulumi up plans no change", () => {
    for (const { stack, file } of STACKS) {
        it(`${stack}: every container and network is unchanged against the provider's state`, () => {
            const state = path.join(work, `${stack}.state.json`);
            const first = render(file, path.join(work, `${stack}-1`), state, stack);
            const second = render(file, path.join(work, `${stack}-2`), state, stack);
            expect(containers(first).length + networks(first).length).toBeGreaterThan(0);
            const changed = Object.entries(plans(first, second)).filter(([, p]) => p.action !== "same");
            expect(changed).toEqual([]);
        }, 120_000);
    }

    it("a daemon with default log-opts of its own would replace every container on every up: documented, and modelled", () => {
        const spec = { name: "x", logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } };
        const plan = planContainer(readBackContainer(spec, { opts: { compress: "true" } }), spec);
        expect(plan).toMatchObject({ action: "replace", replaceBecause: ["logOpts"] });
        // A spec that names the daemon's options too matches its state again (the model merges, it does not invent).
        const withDaemonOpts = { ...spec, logOpts: { ...spec.logOpts, compress: "true" } };
        expect(planContainer(readBackContainer(withDaemonOpts, { opts: { compress: "true" } }), withDaemonOpts).action).toBe("same");
    });
});

/** Renders `stack`, then again with `values` merged into its `section` setting and the same state: the second render and the provider's plans. */
function afterOneChange(stack: string, section: string, values: Record<string, unknown>) {
    const file = path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
    const state = path.join(work, `${stack}-${section}.state.json`);
    const first = render(file, path.join(work, `${stack}-${section}-1`), state, stack);
    const changedFile = variant(file, `${stack}-${section}`, (c) => {
        c[`registry-kit:${section}`] = { ...(c[`registry-kit:${section}`] ?? {}), ...values };
    });
    const next = render(changedFile, path.join(work, `${stack}-${section}-2`), state, stack);
    return { next, plans: plans(first, next) };
}

describe("one changed setting: exactly the replacements the provider would make", () => {
    it("small-team: turning the catalog page on replaces the proxy only", () => {
        const { plans: p } = afterOneChange("local", "catalog", { enabled: true });
        const notSame = Object.fromEntries(Object.entries(p).filter(([, x]) => x.action !== "same"));
        expect(Object.keys(notSame)).toEqual(["rk-local-proxy"]);
        expect(notSame["rk-local-proxy"]).toMatchObject({ action: "replace" });
    }, 120_000);

    it("small-team: a new proxy port replaces the proxy only", () => {
        const { plans: p } = afterOneChange("local", "proxy", { httpsPort: 9443 });
        const notSame = Object.fromEntries(Object.entries(p).filter(([, x]) => x.action !== "same"));
        expect(Object.keys(notSame)).toEqual(["rk-local-proxy"]);
        expect(notSame["rk-local-proxy"]).toMatchObject({ action: "replace" });
        expect(notSame["rk-local-proxy"].changed).toContain("ports");
    }, 120_000);

    it("gitlab: a longer start timeout replaces GitLab's container, so its new health check is applied", () => {
        const { next, plans: p } = afterOneChange("gitlab", "gitlab", { startTimeoutSeconds: 1800 });
        const gitlab = containers(next).find((c) => c.inputs.image?.startsWith("gitlab/"))!;
        expect(gitlab.inputs.healthcheck.startPeriod).toBe("30m0s");
        expect(p[gitlab.name]).toMatchObject({ action: "replace" });
        expect(p[gitlab.name].changed).toEqual(expect.arrayContaining(["healthcheck", "labels", "waitTimeout"]));
        expect(Object.entries(p).filter(([n, x]) => n !== gitlab.name && x.action !== "same")).toEqual([]);
    }, 120_000);
});

describe("stop and wait settings the provider honours", () => {
    it("every long-running container stops gracefully (the provider kills without destroyGraceSeconds)", () => {
        const slowGitlab = variant(path.join(ROOT, "stacks", "Pulumi.gitlab.yaml"), "gitlab-slow", (c) => {
            c["registry-kit:gitlab"] = { ...(c["registry-kit:gitlab"] ?? {}), startTimeoutSeconds: 3600 };
        });
        let longWaits = 0;
        for (const { stack, file } of [...STACKS, { stack: "gitlab-slow", file: slowGitlab }]) {
            const rs = render(file, path.join(work, `grace-${stack}`), path.join(work, `grace-${stack}.json`), stack);
            for (const c of containers(rs).filter((x) => x.inputs.restart !== "no")) {
                expect(c.inputs.destroyGraceSeconds, `${stack}: ${c.name}`).toBeGreaterThanOrEqual(10);
            }
            // A wait longer than the provider's default create timeout (20 minutes) needs its own.
            for (const c of containers(rs).filter((x) => x.inputs.wait && x.inputs.waitTimeout > 20 * 60 - 60)) {
                const create = c.options.createTimeout;
                expect(create, `${stack}: ${c.name} waits ${c.inputs.waitTimeout}s`).toBeDefined();
                expect(Number(parseGoDuration(create!)!) / 1e9).toBeGreaterThan(c.inputs.waitTimeout);
                longWaits++;
            }
        }
        expect(longWaits).toBe(1);
    }, 240_000);
});
