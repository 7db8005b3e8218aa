/**
 * A second run with the same inputs yields byte-identical resource inputs: nothing random is drawn at
 * program run time, only from resources kept in state. Each render runs in a process of its own, as a
 * `pulumi up` would; the state file plays the Pulumi state's part.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderCli, ROOT } from "../render-cli";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-idem-"));

function render(out: string, state: string, stack = "local"): { manifest: string; outputs: string } {
    const config = path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`);
    renderCli(["--stack", stack, "--config", config, "--out", out, "--state", state, "--show-secrets"]);
    return { manifest: fs.readFileSync(path.join(out, "manifest.json"), "utf8"), outputs: fs.readFileSync(path.join(out, "outputs.json"), "utf8") };
}

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("idempotency", () => {
    it("gives identical inputs and outputs on a second run with the same state, and fresh ones without it", () => {
        const first = render(path.join(work, "a"), path.join(work, "state.json"));
        const second = render(path.join(work, "b"), path.join(work, "state.json"));
        expect(second.manifest).toBe(first.manifest);
        expect(second.outputs).toBe(first.outputs);
        // Control: without the state, passwords and keys are drawn anew, so the comparison above can fail.
        const fresh = render(path.join(work, "c"), path.join(work, "other-state.json"));
        expect(fresh.manifest).not.toBe(first.manifest);
        expect(JSON.parse(fresh.outputs).adminPassword).not.toBe(JSON.parse(first.outputs).adminPassword);
    }, 120_000);

    it("holds for the gitlab stack too: signing key, notification secret and the generated root password are kept", () => {
        const first = render(path.join(work, "g1"), path.join(work, "g-state.json"), "gitlab");
        const second = render(path.join(work, "g2"), path.join(work, "g-state.json"), "gitlab");
        expect(second.manifest).toBe(first.manifest);
        expect(second.outputs).toBe(first.outputs);
        const outputs = JSON.parse(first.outputs);
        // Generated: 64 characters, where GitLab skips its word checks.
        expect(outputs.rootPassword).toMatch(/^[A-Za-z0-9]{64}$/);
        const fresh = JSON.parse(render(path.join(work, "g3"), path.join(work, "g-other.json"), "gitlab").outputs);
        expect(fresh.rootPassword).not.toBe(outputs.rootPassword);
        expect(fresh.tokenKeyId).not.toBe(outputs.tokenKeyId);
    }, 120_000);
});
