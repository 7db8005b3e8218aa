/**
 * The harbor stack, rendered twice with the same state as two `pulumi up` would: byte-identical inputs,
 * so the command has no diff and runs nothing. A harbor.yml change shows only in the config HMAC and
 * stdin (an update, never a replacement). The command's owner id changes with the SSH connection and with
 * nothing else, and is its `triggers`: @pulumi/command 1.2.1 replaces a command on a change of `triggers` only
 * (offline/command-provider.ts), so a new host, port, user or key replaces it. Without a checksum the example stack is refused.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandStep } from "../../offline/command-provider";
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

function render(config: string, out: string, state: string, secretKeys: string[] = []) {
    renderCli(["--stack", "harbor", "--config", config, "--out", out, "--state", state, "--show-secrets", ...secretKeys.flatMap((k) => ["--secret-key", k])]);
    const manifest = fs.readFileSync(path.join(out, "manifest.json"), "utf8");
    const resources = JSON.parse(manifest).resources;
    const command = resources.find((r: any) => r.type.startsWith("command:"));
    const prometheus = resources.find((r: any) => r.type === "docker:index/container:Container" && r.name.endsWith("-prometheus"));
    return { manifest, outputs: fs.readFileSync(path.join(out, "outputs.json"), "utf8"), command, prometheus };
}

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const owner = (text: string) => /RK_OWNER='([0-9a-f]{32})'/.exec(text)?.[1];

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
        const strip = (s: string) => s.replace(/RK_CONFIG_HMAC='[0-9a-f]{64}'/, "");
        for (const action of ["create", "update", "delete"]) {
            expect(changed.command.inputs[action]).not.toBe(first.command.inputs[action]);
            expect(strip(changed.command.inputs[action])).toBe(strip(first.command.inputs[action]));
        }
        expect(changed.command.inputs.stdin).not.toBe(first.command.inputs.stdin);
        expect(changed.command.inputs.triggers).toEqual(first.command.inputs.triggers);
        expect(commandStep(first.command, second.command)).toBe("same");
        expect(commandStep(first.command, changed.command)).toBe("update");
        expect(JSON.parse(changed.outputs).adminPassword).toBe(JSON.parse(first.outputs).adminPassword);
        expect(changed.command.type).toBe("command:local:Command");
        expect(owner(changed.command.inputs.delete)).toBe(owner(first.command.inputs.delete));
    }, 120_000);

    it("replaces the command when the SSH connection changes (a new owner id in its triggers), and only then", () => {
        const state = path.join(work, "state-ssh.json");
        const ssh = (key: string, host = "harbor-1.internal", more = "") =>
            withSha(example).replace(
                "    dataVolume: /data\n",
                `    dataVolume: /data\n    ssh:\n      host: ${host}\n${more}      privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\\n${key}\\n-----END OPENSSH PRIVATE KEY-----\\n"\n`,
            );
        const a = render(stackFile("ssh-a", ssh("key-a")), path.join(work, "ssh-1"), state, ["harbor"]);
        const again = render(stackFile("ssh-a", ssh("key-a")), path.join(work, "ssh-2"), state, ["harbor"]);
        const rotated = render(stackFile("ssh-b", ssh("key-b")), path.join(work, "ssh-3"), state, ["harbor"]);
        const moved = render(stackFile("ssh-c", ssh("key-a", "harbor-2.internal")), path.join(work, "ssh-4"), state, ["harbor"]);
        const port = render(stackFile("ssh-d", ssh("key-a", "harbor-1.internal", "      port: 2222\n")), path.join(work, "ssh-5"), state, ["harbor"]);
        const user = render(stackFile("ssh-e", ssh("key-a", "harbor-1.internal", "      user: deploy\n")), path.join(work, "ssh-6"), state, ["harbor"]);
        const local = render(stackFile("ssh-f", withSha(example)), path.join(work, "ssh-7"), state, ["harbor"]);
        expect(a.command.type).toBe("command:remote:Command");
        expect(commandStep(a.command, again.command)).toBe("same");
        for (const changed of [rotated, moved, port, user, local]) {
            expect(commandStep(a.command, changed.command)).toBe("replace");
            expect(owner(changed.command.inputs.delete)).not.toBe(owner(a.command.inputs.delete));
        }
        expect(owner(again.command.inputs.delete)).toBe(owner(a.command.inputs.delete));
        // The trigger is the owner id: a keyed digest, not secret, with nothing of the key or the host in it.
        expect(a.command.inputs.triggers).toEqual([owner(a.command.inputs.delete)]);
        expect(a.command.options.replaceOnChanges).toContain("triggers[*]");
        // Nothing else in the command changed: the host sees the same files, so the new create takes over without a restart.
        const strip = (s: string) => s.replace(/RK_OWNER='[0-9a-f]{32}'/, "");
        expect(strip(rotated.command.inputs.create)).toBe(strip(a.command.inputs.create));
        expect(rotated.command.inputs.stdin).toBe(a.command.inputs.stdin);
        // A remote Harbor is scraped at its SSH host; the Prometheus container gets no extra hosts.
        expect(a.prometheus.inputs.hosts).toBeUndefined();
        expect(a.prometheus.inputs.uploads[0].content).toContain("- harbor-1.internal:9091");
    }, 120_000);

    it("has Prometheus reach a local Harbor at host.docker.internal, mapped to the Docker host's gateway", () => {
        const local = render(stackFile("local", withSha(example)), path.join(work, "local"), path.join(work, "state-local.json"));
        expect(local.prometheus.inputs.hosts).toEqual([{ host: "host.docker.internal", ip: "host-gateway" }]);
        const prom = local.prometheus.inputs.uploads[0].content as string;
        expect(prom).toContain("- host.docker.internal:9091");
        expect(prom).not.toContain("harbor.example.com:9091");
    }, 120_000);
});
