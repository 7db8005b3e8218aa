/**
 * `registry-kit:monitoring` settings that cannot work fail at preview, one line per problem naming the
 * setting, the value (never a secret) and what is allowed: the volume exporter and its thresholds.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { volumeExporterEnabled } from "../../stacks/schema";

const base = { hostname: "registry.example.com" };
const failure = (monitoring: Record<string, unknown>, more: Record<string, unknown> = {}) => settingsFailure({ ...base, ...more, monitoring }, ["monitoring"]);
const lines = (msg: string) => msg.split("\n").slice(1);

describe("volume exporter settings", () => {
    it("thresholds out of range", () => {
        expect(lines(failure({ volumes: { nearlyFullPercent: 0, fullWithinHours: 1.5 } }))).toEqual([
            "registry-kit:monitoring.volumes.nearlyFullPercent: got 0; allowed: a percentage above 0 and below 100",
            "registry-kit:monitoring.volumes.fullWithinHours: got 1.5; allowed: whole hours from 1 to 8760",
        ]);
        expect(lines(failure({ volumes: { nearlyFullPercent: 100, fullWithinHours: 0 } }))).toEqual([
            "registry-kit:monitoring.volumes.nearlyFullPercent: got 100; allowed: a percentage above 0 and below 100",
            "registry-kit:monitoring.volumes.fullWithinHours: got 0; allowed: whole hours from 1 to 8760",
        ]);
        expect(lines(failure({ downFor: "90s5m" }))[0]).toMatch(/^registry-kit:monitoring.downFor: got "90s5m"; allowed: a Prometheus duration/);
    });

    it("turned on where there is no volume or no Prometheus", () => {
        const s3 = { registry: { storage: { type: "s3", s3: { bucket: "rk-unit-images", region: "eu-west-1" } } } };
        expect(lines(failure({ volumes: { enabled: true } }, s3))).toEqual([
            "registry-kit:monitoring.volumes.enabled: got true; allowed: false with registry.storage.type s3 (no registry volume to watch; the object store reports its own usage)",
        ]);
        expect(lines(failure({ enabled: false, volumes: { enabled: true } }))).toEqual([
            "registry-kit:monitoring.volumes.enabled: got true; allowed: false with monitoring.enabled false (Prometheus scrapes the exporter)",
        ]);
    });

    it("defaults: on with filesystem storage, off with S3 or without Prometheus", () => {
        expect(volumeExporterEnabled(parseSettings(base))).toBe(true);
        expect(volumeExporterEnabled(parseSettings({ ...base, monitoring: { enabled: false } }, ["monitoring"]))).toBe(false);
        expect(
            volumeExporterEnabled(parseSettings({ ...base, registry: { storage: { type: "s3", s3: { bucket: "rk-unit-images", region: "eu-west-1" } } } })),
        ).toBe(false);
        expect(volumeExporterEnabled(parseSettings({ ...base, monitoring: { volumes: { enabled: false } } }))).toBe(false);
    });
});
