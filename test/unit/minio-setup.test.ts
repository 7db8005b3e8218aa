/**
 * MinIO's bucket and user setup runs in an attached container, whose exit code the Docker provider
 * ignores (it only waits). The component checks it: a failed setup must stop `pulumi up` before the
 * registry gets its keys, with the setup's own output in the error. The program runs in a process of
 * its own (as `pulumi up` runs it), under mocks that answer as the provider does after such a setup.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { setupFailure } from "../../components/minio";
import { ROOT } from "../render-cli";

/** A program with one Minio whose setup container the mocked provider reports as exited with `code`. */
function runWithSetupExit(code: number): { status: number | null; output: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rk-minio-setup-"));
    const program = path.join(dir, "program.ts");
    fs.writeFileSync(
        program,
        `
import * as pulumi from ${JSON.stringify(path.join(ROOT, "node_modules", "@pulumi", "pulumi"))};
pulumi.runtime.setMocks({
    newResource: (args: any) => {
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.name.endsWith("-setup")) Object.assign(state, { exitCode: ${code}, containerLogs: "mc: <ERROR> Unable to make bucket \`rk/registry\`. Access Denied.\\n" });
        if (args.type === "random:index/randomPassword:RandomPassword") state.result = "generated-value-0123456789";
        return { id: args.name + "-id", state };
    },
    call: () => ({}),
}, "registry-kit", "minio-setup", false).then(async () => {
    const { Minio } = await import(${JSON.stringify(path.join(ROOT, "components", "minio"))});
    const minio = new Minio("rk-m", { networkName: "net" });
    minio.accessKey.apply((key: string) => console.log("registry gets its key:", key.length > 0));
});
`,
    );
    const r = spawnSync(process.execPath, [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), program], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 60_000,
    });
    fs.rmSync(dir, { recursive: true, force: true });
    return { status: r.status, output: r.stdout + r.stderr };
}

describe("Minio setup", () => {
    it("fails with the setup's output and the replace command when the setup container exits non-zero", () => {
        const r = runWithSetupExit(2);
        expect(r.status).not.toBe(0);
        expect(r.output).toContain("Minio rk-m: the bucket and user setup exited with code 2");
        expect(r.output).toContain("Unable to make bucket `rk/registry`. Access Denied.");
        expect(r.output).toMatch(/pulumi up --replace '[^']*rk-m-setup'/);
        expect(r.output).not.toContain("registry gets its key");
    }, 60_000);

    it("lets the registry have its keys after a setup that succeeded", () => {
        const r = runWithSetupExit(0);
        expect(r.output).toContain("registry gets its key: true");
        expect(r.output).not.toContain("exited with code");
    }, 60_000);

    it("says what a setup that printed nothing did", () => {
        expect(setupFailure("m", 1, "", "urn:x")).toContain("It printed nothing.");
    });
});
