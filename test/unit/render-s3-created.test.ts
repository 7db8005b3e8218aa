/**
 * Offline render with registry.storage.s3.create true: the IAM access key the AWS provider would return is
 * generated (id and secret, the secret marked secret as the provider marks it), so the registry's environment and
 * Harbor's harbor.yml are complete, and the secret is masked without --show-secrets.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseHarborStdin } from "../../renderers/harbor-scripts";
import { renderCli } from "../render-cli";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-render-s3-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function render(name: string, config: string, show: boolean) {
    const file = path.join(work, `${name}.yaml`);
    fs.writeFileSync(file, config);
    const out = path.join(work, `${name}-${show}`);
    renderCli(["--stack", name, "--config", file, "--out", out, "--state", path.join(work, `${name}.state.json`), ...(show ? ["--show-secrets"] : [])]);
    return JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).resources as any[];
}

const s3 = "  registry-kit:registry:\n    storage:\n      type: s3\n      s3:\n        region: eu-west-1\n";

describe("render with a created bucket", () => {
    it("gives the registry the access key's id and secret, masked unless --show-secrets", () => {
        const config = `config:\n  registry-kit:hostname: registry.localhost\n${s3}`;
        const shown = render("s3small", config, true);
        const envs: string[] = shown.find((r) => r.name === "rk-s3small-registry" && r.type === "docker:index/container:Container").inputs.envs;
        const value = (k: string) => envs.find((e) => e.startsWith(`${k}=`))?.slice(k.length + 1);
        expect(value("REGISTRY_STORAGE_S3_ACCESSKEY")).toMatch(/^AKIA[A-Z0-9]{16}$/);
        expect(value("REGISTRY_STORAGE_S3_SECRETKEY")).toMatch(/^[A-Za-z0-9+/]{40}$/);
        const key = shown.find((r) => r.type === "aws:iam/accessKey:AccessKey");
        expect(key.options.additionalSecretOutputs).toContain("secret");
        const masked = JSON.stringify(render("s3small", config, false));
        expect(masked).not.toContain(value("REGISTRY_STORAGE_S3_SECRETKEY"));
    }, 120_000);

    it("writes Harbor's s3 accesskey and secretkey", () => {
        const config = `config:\n  registry-kit:topology: harbor\n  registry-kit:hostname: harbor.example.com\n  registry-kit:harbor:\n    installerSha256: "${"c0ffee".padEnd(64, "0")}"\n${s3}`;
        const command = render("s3harbor", config, true).find((r) => r.type.startsWith("command:"));
        const harborYml = parseHarborStdin(String(command.inputs.stdin))["harbor.yml"];
        expect(harborYml).toMatch(/accesskey: "?AKIA[A-Z0-9]{16}/);
        expect(harborYml).toMatch(/secretkey: "?[A-Za-z0-9+/]{40}/);
        expect(harborYml).not.toContain("undefined");
    }, 120_000);
});
