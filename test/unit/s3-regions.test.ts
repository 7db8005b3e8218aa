/**
 * Without regionEndpoint the registry's s3 driver accepts only the regions of the AWS SDK it vendors, and panics
 * at start on any other: such a region is refused at validation, with the endpoint that makes it work.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";

const base = { hostname: "registry.example.com" };
const s3 = (region: string, extra: Record<string, unknown> = {}, image = "registry:3") => ({
    ...base,
    registry: { image, storage: { type: "s3", s3: { region, ...extra } } },
});

describe("s3 regions the registry's driver knows", () => {
    it("refuses a region registry 3's SDK does not know, naming the setting, the value and the fix", () => {
        const msg = settingsFailure(s3("ap-southeast-5"), []);
        expect(msg.split("\n")).toHaveLength(2);
        expect(msg).toMatch(
            /^invalid stack configuration:\nregistry-kit:registry\.storage\.s3\.region: got "ap-southeast-5"; allowed: a region the s3 driver of Distribution 3 knows \(af-south-1, [^)]*us-west-2[^)]*\), or this region with registry\.storage\.s3\.regionEndpoint set \(such as https:\/\/s3\.ap-southeast-5\.amazonaws\.com\)$/,
        );
        for (const region of ["ap-southeast-6", "ap-southeast-7", "ap-east-2", "mx-central-1"])
            expect(settingsFailure(s3(region), [])).toContain(`got "${region}"`);
    });

    it("accepts such a region with regionEndpoint, and every region the SDK knows without it", () => {
        expect(parseSettings(s3("ap-southeast-5", { regionEndpoint: "https://s3.ap-southeast-5.amazonaws.com" })).registry.storage.s3.region).toBe(
            "ap-southeast-5",
        );
        for (const region of ["us-east-1", "eu-west-1", "af-south-1", "eu-central-2", "ca-west-1", "il-central-1", "cn-north-1", "us-gov-west-1"])
            expect(parseSettings(s3(region)).registry.storage.s3.region).toBe(region);
    });

    it("judges by the image: Distribution 2.8's older SDK knows fewer regions", () => {
        expect(parseSettings(s3("eu-west-1", {}, "registry:2.8.3")).registry.storage.s3.region).toBe("eu-west-1");
        const msg = settingsFailure(s3("af-south-1", {}, "registry:2.8.3"), []);
        expect(msg).toContain(
            'registry-kit:registry.storage.s3.region: got "af-south-1"; allowed: a region the s3 driver of Distribution 2.8 knows (ap-east-1, ',
        );
        expect(settingsFailure(s3("cn-northwest-2", {}, "registry:2.8.3"), [])).toContain("(such as https://s3.cn-northwest-2.amazonaws.com.cn)");
    });

    it("leaves S3-compatible endpoints and other storage alone", () => {
        expect(parseSettings(s3("garage", { regionEndpoint: "https://s3.example.com" })).registry.storage.s3.region).toBe("garage");
        expect(parseSettings({ ...base, registry: { storage: { type: "filesystem", s3: { region: "ap-southeast-5" } } } }).registry.storage.type).toBe(
            "filesystem",
        );
    });
});
