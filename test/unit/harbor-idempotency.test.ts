/**
 * The harbor stack, rendered twice with the same state as two `pulumi up` would: byte-identical inputs,
 * so the command has no diff and runs nothing. A harbor.yml change shows only in the config digest and
 * stdin (an update, never a replacement). Without a checksum the example stack is refused.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderCli, ROOT } from "../render-cli";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-harbor-idem-"));
const example = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.harbor.yaml"), "utf8");
const SHA = "c0ffee".padEnd(64, "0");

function stackFile(name: string, text: string): string {
    const file = path.join(work, `${name}.yaml`);
    fs.writeFileSync(file, text);
    return file;
}
const withSha = (text: string) => text.replace("    version: v2.15.0\n", `    version: v2.15.0\n    installerSha256: "${SHA}"\n`);

function render(config: string, out: string, state: string) {
    renderCli(["--stack", "harbor", "--config", config, "--out", out, "--state", state, "--show-secrets"]);
    const manifest = fs.readFileSync(path.join(out, "manifest.json"), "utf8");
    const command = JSON.parse(manifest).resources.find((r: any) => r.type === "command:local:Command");
    return { manifest, outputs: fs.readFileSync(path.join(out, "outputs.json"), "utf8"), command };
}

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("harbor idempotency", () => {
    it("refuses the example stack until the installer checksum is set", () => {
        expect(() => renderCli(["--stack", "harbor", "--out", path.join(work, "example")])).toThrow(/harbor\.installerSha256: got nothing/);
    });

    it("gives identical inputs on a second run, and a config change only changes the digest and stdin", () => {
        const config = stackFile("a", withSha(example));
        const state = path.join(work, "state.json");
        const first = render(config, path.join(work, "1"), state);
        const second = render(config, path.join(work, "2"), state);
        expect(second.manifest).toBe(first.manifest);
        expect(second.outputs).toBe(first.outputs);

        const changed = render(stackFile("b", withSha(example).replace("maxJobWorkers: 10", "maxJobWorkers: 12")), path.join(work, "3"), state);
        const strip = (s: string) => s.replace(/RK_CONFIG_SHA256='[0-9a-f]{64}'/, "");
        for (const action of ["create", "update", "delete"]) {
            expect(changed.command.inputs[action]).not.toBe(first.command.inputs[action]);
            expect(strip(changed.command.inputs[action])).toBe(strip(first.command.inputs[action]));
        }
        expect(changed.command.inputs.stdin).not.toBe(first.command.inputs.stdin);
        expect(changed.command.inputs.triggers).toBeUndefined();
        expect(JSON.parse(changed.outputs).adminPassword).toBe(JSON.parse(first.outputs).adminPassword);
    }, 120_000);
});
