/**
 * docker.mode swarm: the settings the swarm stack cannot build, and the placements Swarm could never
 * satisfy, are refused at preview with one line each.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { constraintProblem, pinsNode } from "../../primitives/swarm";

const s3 = {
    type: "s3",
    s3: { create: false, bucket: "team-registry", region: "us-east-1", regionEndpoint: "http://10.0.0.5:9000", accessKey: "AKIA", secretKey: "x" },
};
const base = { hostname: "registry.example.com", registry: { storage: s3, replicas: 2 } };
const swarm = (swarmSettings: Record<string, unknown> = {}) => ({ mode: "swarm", swarm: swarmSettings });
const failure = (raw: Record<string, unknown>) => settingsFailure(raw, ["registry", "auth", "tls"]);
const lines = (raw: Record<string, unknown>) => failure(raw).split("\n").slice(1);

describe("swarm settings", () => {
    it("accepts small-team on S3 with defaults: host-mode proxy, stop-first proxy, start-first registry spread over node.id", () => {
        const s = parseSettings({ ...base, docker: swarm() }, ["registry"]);
        expect(s.docker.mode).toBe("swarm");
        expect(s.docker.swarm.proxy.publishMode).toBe("host");
        expect(s.docker.swarm.proxy.update.order).toBeUndefined();
        expect(s.docker.swarm.registry.update.order).toBe("start-first");
        expect(s.docker.swarm.registry.spread).toBe("node.id");
        expect(s.docker.swarm.registry.update.failureAction).toBe("rollback");
        expect(parseSettings({ hostname: "r.example.com" }).docker.mode).toBe("standalone");
    });

    it("refuses a health-check interval outside 1s to 5m, or not a Go duration, in one line", () => {
        expect(parseSettings({ ...base, docker: swarm() }, ["registry"]).docker.swarm.healthInterval).toBe("10s");
        expect(parseSettings({ ...base, docker: swarm({ healthInterval: "1s" }) }, ["registry"]).docker.swarm.healthInterval).toBe("1s");
        expect(parseSettings({ ...base, docker: swarm({ healthInterval: "5m" }) }, ["registry"]).docker.swarm.healthInterval).toBe("5m");
        expect(lines({ ...base, docker: swarm({ healthInterval: "500ms" }) })).toEqual([
            'registry-kit:docker.swarm.healthInterval: got "500ms"; allowed: a Go duration from 1s to 5m, such as 2s, 30s or 1m',
        ]);
        expect(lines({ ...base, docker: swarm({ healthInterval: "1h" }) })).toEqual([
            'registry-kit:docker.swarm.healthInterval: got "1h"; allowed: a Go duration from 1s to 5m, such as 2s, 30s or 1m',
        ]);
        expect(lines({ ...base, docker: swarm({ healthInterval: "10 s" }) })).toEqual([
            'registry-kit:docker.swarm.healthInterval: got "10 s"; allowed: a Go duration from 1s to 5m, such as 2s, 30s or 1m',
        ]);
    });

    it("refuses other topologies in one line", () => {
        expect(
            lines({ topology: "gitlab", hostname: "registry.example.com", gitlab: { externalUrl: "https://gitlab.example.com" }, docker: swarm() }),
        ).toContain('registry-kit:docker.mode: got "swarm"; allowed: "standalone" with topology gitlab (swarm mode deploys the small-team topology only)');
    });

    it("refuses filesystem storage with replicas, and without a node pin", () => {
        expect(lines({ hostname: "registry.example.com", registry: { replicas: 2 }, docker: swarm() })).toEqual([
            expect.stringMatching(/^registry-kit:registry\.replicas: got 2; allowed: replicas: 1 with filesystem storage/),
        ]);
        expect(lines({ hostname: "registry.example.com", docker: swarm() })).toEqual([
            "registry-kit:docker.swarm.registry.constraints: got a list; allowed: a constraint that pins one node (node.hostname==…, node.id==… or node.labels.<name>==…) with filesystem storage: the data volume lives on one node",
        ]);
        expect(() => parseSettings({ hostname: "registry.example.com", docker: swarm({ registry: { constraints: ["node.hostname==h1"] } }) })).not.toThrow();
        expect(lines({ hostname: "registry.example.com", docker: swarm({ registry: { constraints: ["node.role==manager"] } }) })[0]).toContain(
            "docker.swarm.registry.constraints: got a list; allowed: a constraint that pins one node",
        );
    });

    it("refuses constraints outside Swarm's grammar", () => {
        expect(lines({ ...base, docker: swarm({ registry: { constraints: ["zone=a"] }, proxy: { constraints: ["node.role==boss"] } }) })).toEqual([
            expect.stringMatching(/^registry-kit:docker\.swarm\.registry\.constraints\[0\]: got "zone=a"; allowed: a Swarm constraint/),
            'registry-kit:docker.swarm.proxy.constraints[0]: got "node.role==boss"; allowed: node.role==manager, node.role==worker or their != forms',
        ]);
        for (const ok of ["node.labels.zone==a", "node.role!=worker", "node.hostname == h-1", "engine.labels.os==linux", "node.platform.arch==x86_64"])
            expect(constraintProblem(ok), ok).toBeUndefined();
        for (const bad of ["labels.zone==a", "node.labels==a", "node.name==x", "node.labels.zone", "node.labels.zone>=a", "==a"])
            expect(constraintProblem(bad), bad).toBeDefined();
        expect(pinsNode("node.labels.registry==yes")).toBe(true);
        expect(pinsNode("node.hostname!=h1")).toBe(false);
    });

    it("refuses a host-mode proxy on more nodes than listed, start-first in host mode, and ingress with an allowlist", () => {
        expect(lines({ ...base, docker: swarm({ nodes: 2, proxy: { replicas: 3 } }) })).toEqual([
            "registry-kit:docker.swarm.proxy.replicas: got 3; allowed: at most docker.swarm.nodes (2) in host publish mode: each node's ports fit one proxy task",
        ]);
        expect(lines({ ...base, docker: swarm({ proxy: { update: { order: "start-first" } } }) })).toEqual([
            'registry-kit:docker.swarm.proxy.update.order: got "start-first"; allowed: stop-first in host publish mode (the new task needs the ports the old one still holds on its node)',
        ]);
        expect(() =>
            parseSettings({ ...base, docker: swarm({ nodes: 1, proxy: { publishMode: "ingress", replicas: 3, update: { order: "start-first" } } }) }, [
                "registry",
            ]),
        ).not.toThrow();
        expect(lines({ ...base, proxy: { allowCidrs: ["10.0.0.0/8"] }, docker: swarm({ proxy: { publishMode: "ingress" } }) })).toEqual([
            "registry-kit:docker.swarm.proxy.publishMode: got \"ingress\"; allowed: host with proxy.allowCidrs (behind the routing mesh nginx sees the mesh's addresses, not the clients')",
        ]);
    });

    it("refuses replicas that a per-node limit could never place, MinIO, a host address, and the single-host features", () => {
        expect(lines({ ...base, registry: { ...base.registry, replicas: 3 }, docker: swarm({ nodes: 2, registry: { maxReplicasPerNode: 1 } }) })).toEqual([
            "registry-kit:registry.replicas: got 3; allowed: at most docker.swarm.registry.maxReplicasPerNode × docker.swarm.nodes (1 × 2); the others would never be scheduled",
        ]);
        expect(lines({ hostname: "registry.example.com", registry: { storage: { type: "minio" }, replicas: 2 }, docker: swarm() })).toContain(
            'registry-kit:registry.storage.type: got "minio"; allowed: s3 or filesystem in swarm mode (registry-kit runs MinIO as a container on one host; use an external S3 or S3-compatible endpoint)',
        );
        expect(lines({ ...base, proxy: { hostIp: "127.0.0.1" }, maintenance: { enabled: true }, docker: swarm() })).toEqual([
            'registry-kit:proxy.hostIp: got "127.0.0.1"; allowed: 0.0.0.0 in swarm mode (Swarm publishes a service\'s ports on every address of a node)',
            "registry-kit:maintenance.enabled: got true; allowed: false in swarm mode (the maintenance job shares volumes with the registry on one host)",
        ]);
    });

    it("refuses what the swarm stack does not build: Alertmanager, the volume exporter (never silently ignored); takes access rules", () => {
        const users = [
            { name: "ci", password: "x".repeat(20), access: [{ repositories: ["team/*"], actions: ["pull"] }] },
            { name: "dev", password: "y".repeat(20) },
        ];
        const got = lines({
            ...base,
            auth: { users },
            monitoring: {
                volumes: { enabled: true },
                alertmanager: { enabled: true, receivers: [{ name: "ops", webhook: { url: "https://hooks.example.com/x" } }] },
            },
            docker: swarm(),
        });
        expect(got).toContain("registry-kit:monitoring.alertmanager.enabled: got true; allowed: false in swarm mode");
        expect(got).toContain(
            "registry-kit:monitoring.volumes.enabled: got true; allowed: false in swarm mode (the exporter would share the registry's volume on one host)",
        );
        // The swarm proxy checks users and their permissions as small-team's does.
        expect(got.filter((l) => l.startsWith("registry-kit:auth."))).toEqual([]);
        expect(got.join("\n")).not.toContain("x".repeat(20));
        // By default the exporter is off in swarm mode (it is on with filesystem storage otherwise).
        expect(() => parseSettings({ ...base, docker: swarm() }, ["registry"])).not.toThrow();
    });
});
