/**
 * The Swarm rules of the pinned Docker provider (terraform-provider-docker v4.5.0 as pulumi-docker 5.x
 * bridges it) that the e2e harness applies: shortDur read-back, in-place service updates, ForceNew
 * secrets and configs.
 */
import { describe, expect, it } from "vitest";
import { planService, planSwarmFile, readBackService, readBackServiceDuration, shortDur } from "../../offline/docker-provider";

const S = 1_000_000_000n;

describe("the provider's Swarm rules", () => {
    it("reads durations back in shortDur form", () => {
        expect(shortDur(60n * S)).toBe("1m");
        expect(shortDur(65n * S)).toBe("1m5s");
        expect(shortDur(3600n * S)).toBe("1h");
        expect(shortDur(0n)).toBe("0s");
        expect(shortDur(30n * S)).toBe("30s");
        expect(readBackServiceDuration("1m0s")).toBe("1m");
        expect(readBackServiceDuration("90s")).toBe("1m30s");
    });

    const inspect = {
        Spec: {
            Name: "svc",
            Labels: { "registry-kit.role": "registry" },
            Mode: { Replicated: { Replicas: 2 } },
            TaskTemplate: {
                ContainerSpec: { Image: "img", StopGracePeriod: 60_000_000_000, Env: ["A=b=c"] },
                Placement: { Constraints: ["node.role==manager"], Preferences: [{ Spread: { SpreadDescriptor: "node.id" } }], MaxReplicas: 0 },
                Networks: [{ Target: "net-id", Aliases: ["registry"] }],
            },
            UpdateConfig: {
                Parallelism: 1,
                Delay: 5_000_000_000,
                FailureAction: "rollback",
                Monitor: 15_000_000_000,
                MaxFailureRatio: 0,
                Order: "start-first",
            },
            EndpointSpec: { Mode: "dnsrr" },
        },
    };
    const desired = {
        name: "svc",
        labels: [{ label: "registry-kit.role", value: "registry" }],
        mode: { replicated: { replicas: 2 } },
        taskSpec: {
            containerSpec: { image: "img", stopGracePeriod: "1m", env: { A: "b=c" } },
            placement: { constraints: ["node.role==manager"], prefs: ["node.id"], maxReplicas: 0 },
            networksAdvanceds: [{ id: "net-id", aliases: ["registry"] }],
        },
        updateConfig: { parallelism: 1, delay: "5s", failureAction: "rollback", monitor: "15s", maxFailureRatio: "0.0", order: "start-first" },
        endpointSpec: { mode: "dnsrr" },
        convergeConfig: { delay: "7s", timeout: "5m" },
    };

    it("plans no change when the spec is written as the provider reads it back", () => {
        expect(planService(readBackService(inspect), desired)).toMatchObject({ action: "same", changed: [] });
    });

    it("sees a spec written otherwise as a change on every up (1m0s, spread=node.id, a network name)", () => {
        const state = readBackService(inspect);
        const cs = (over: object) => ({ ...desired, taskSpec: { ...desired.taskSpec, ...over } });
        expect(planService(state, cs({ containerSpec: { ...desired.taskSpec.containerSpec, stopGracePeriod: "1m0s" } })).changed).toEqual([
            "taskSpec.containerSpec.stopGracePeriod",
        ]);
        expect(planService(state, cs({ placement: { ...desired.taskSpec.placement, prefs: ["spread=node.id"] } })).changed).toEqual([
            "taskSpec.placement.prefs",
        ]);
        expect(planService(state, cs({ networksAdvanceds: [{ name: "rk-net", aliases: ["registry"] }] })).action).toBe("update");
    });

    it("updates a service in place for replicas and config, replaces it for a new name", () => {
        const state = readBackService(inspect);
        expect(planService(state, { ...desired, mode: { replicated: { replicas: 3 } } })).toMatchObject({
            action: "update",
            changed: ["mode.replicated.replicas"],
        });
        expect(planService(state, { ...desired, name: "other" })).toMatchObject({ action: "replace", replaceBecause: ["name"] });
    });

    it("replaces a secret or config for any change, keeps it otherwise", () => {
        expect(planSwarmFile({ name: "a-1", data: "eA==" }, { name: "a-1", data: "eA==" })).toBe("same");
        expect(planSwarmFile({ name: "a-1", data: "eA==" }, { name: "a-2", data: "eQ==" })).toBe("replace");
        expect(planSwarmFile(undefined, { name: "a-1", data: "eA==" })).toBe("replace");
    });
});
