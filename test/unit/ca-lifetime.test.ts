/**
 * The private CA's lifetime is its own setting (tls.caValidityDays): every input of a tls SelfSignedCert forces a
 * replacement (terraform-provider-tls: RequiresReplace), so a CA lifetime derived from the server certificate's
 * would replace the CA, and every client would have to trust a new one, on each change of tls.validityDays.
 * Renders the local stack as two `pulumi up` would, with the state carried over.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderCli, ROOT } from "../render-cli";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-ca-"));
const example = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "utf8");
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function render(name: string, tls: string, state: string): Record<string, any> {
    const config = path.join(work, `${name}.yaml`);
    fs.writeFileSync(config, `${example}  registry-kit:tls:\n${tls}`);
    const out = path.join(work, name);
    renderCli(["--stack", "local", "--config", config, "--out", out, "--state", state, "--show-secrets"]);
    const resources = JSON.parse(fs.readFileSync(path.join(out, "manifest.json"), "utf8")).resources as any[];
    return Object.fromEntries(resources.map((r) => [r.name, r]));
}

describe("the CA's lifetime", () => {
    it("keeps the CA byte-identical when tls.validityDays changes, and re-issues only the server certificate", () => {
        const state = path.join(work, "state.json");
        const before = render("a", "    validityDays: 365\n", state);
        const after = render("b", "    validityDays: 90\n", state);
        for (const ca of ["rk-local-tls-ca", "rk-local-tls-ca-key"]) expect(JSON.stringify(after[ca].inputs)).toBe(JSON.stringify(before[ca].inputs));
        expect(before["rk-local-tls-ca"].inputs.validityPeriodHours).toBe(87600);
        expect(after["rk-local-tls-server"].inputs.validityPeriodHours).toBe(90 * 24);
        expect(after["rk-local-tls-server"].inputs.validityPeriodHours).not.toBe(before["rk-local-tls-server"].inputs.validityPeriodHours);
    }, 120_000);

    it("takes tls.caValidityDays, 3650 by default (the 87600 hours every default stack's CA already has)", () => {
        const state = path.join(work, "state-2.json");
        expect(render("c", "    caValidityDays: 900\n    validityDays: 90\n", state)["rk-local-tls-ca"].inputs.validityPeriodHours).toBe(900 * 24);
        expect(parseSettings({ hostname: "r.example.com" }).tls.caValidityDays).toBe(3650);
    }, 120_000);

    it("refuses a CA that expires before the certificates it signs", () => {
        expect(settingsFailure({ hostname: "r.example.com", tls: { caValidityDays: 300, validityDays: 365 } }, [])).toBe(
            "invalid stack configuration:\nregistry-kit:tls.caValidityDays: got 300; allowed: at least tls.validityDays (365): the CA must outlive the server certificates it signs",
        );
        expect(settingsFailure({ hostname: "r.example.com", tls: { caValidityDays: 40000 } }, [])).toContain(
            "registry-kit:tls.caValidityDays: got 40000; allowed: a whole number of days from 1 to 36500",
        );
    });
});
