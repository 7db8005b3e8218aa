/**
 * The Pulumi program entry point (Pulumi.yaml `main`) with bad stack config: it stops with the
 * message before a single resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect, it } from "vitest";
import { OfflineEngine } from "../../offline/engine";

it("refuses bad config before registering any resource", async () => {
    const engine = new OfflineEngine({}, "registry-kit", "bad");
    await engine.install();
    pulumi.runtime.setAllConfig(
        {
            "registry-kit:hostname": "registry.example.com",
            "registry-kit:proxy": JSON.stringify({ httpsPort: 443, httpPort: 443 }),
            "registry-kit:regsitry": JSON.stringify({ image: "registry:3" }),
        },
        [],
    );
    await expect(import("../../program")).rejects.toThrow(
        "invalid stack configuration:\n" +
            "registry-kit:regsitry: unknown setting; allowed here: topology, hostname, docker, registry, proxy, tls, auth, monitoring, gitlab, harbor, maintenance, catalog, mirrors, notifications (a typo?)",
    );
    await engine.settle(2000);
    expect(engine.resources).toHaveLength(0);
});
