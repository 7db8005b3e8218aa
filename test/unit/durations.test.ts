/**
 * Durations follow the grammar of the program that reads them: the registry (and Harbor's registry and
 * Trivy) parse Go's time.ParseDuration, Prometheus its own model.ParseDuration. A value the consumer
 * cannot parse is refused at validation, naming the setting, the value and the grammar.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { goDuration, isGoDuration, isPrometheusDuration, prometheusDuration } from "../../stacks/schema";

const base = { hostname: "registry.example.com" };
const failure = (raw: Record<string, unknown>): string => settingsFailure(raw, []);

describe("Go durations (time.ParseDuration)", () => {
    it("accepts what Go accepts", () => {
        for (const v of ["0", "30s", "24h", "168h", "1h30m", "1.5h", ".5h", "5.h", "300ms", "10us", "10µs", "10μs", "10ns", "30m1h", "1h1h", "2562047h"]) {
            expect(isGoDuration(v), v).toBe(true);
        }
    });
    it("refuses what Go refuses (and signs, which make no sense here)", () => {
        for (const v of ["", "7d", "1w", "1y", "24", "h", ".h", "1.5", "1h 30m", "1H", "-1h", "+1h", "2562048h", "9223372036854775808ns"]) {
            expect(isGoDuration(v), v).toBe(false);
        }
    });
    it("names the grammar in its message", () => {
        expect(goDuration.safeParse("7d").error?.issues[0].message).toBe(
            "a Go duration such as 30s, 24h or 1h30m (units ns, us, ms, s, m, h; decimals such as 1.5h allowed; no d, w or y)",
        );
    });
});

describe("Prometheus durations (model.ParseDuration)", () => {
    it("accepts what Prometheus accepts", () => {
        for (const v of ["0", "30s", "15d", "1w", "1y", "1h30m", "2w3d", "1y2w3d4h5m6s7ms", "90s", "100ms"]) {
            expect(isPrometheusDuration(v), v).toBe(true);
        }
    });
    it("refuses what Prometheus refuses", () => {
        for (const v of ["", "1.5h", "30m1h", "1h1h", "1d2w", "10us", "1ns", "15", "d", "-1h", "1h 30m", "300y"]) {
            expect(isPrometheusDuration(v), v).toBe(false);
        }
    });
    it("names the grammar in its message", () => {
        expect(prometheusDuration.safeParse("1.5h").error?.issues[0].message).toBe(
            "a Prometheus duration such as 30s, 15d or 1h30m (whole numbers; units y, w, d, h, m, s, ms, largest first, each once; no decimals)",
        );
    });
});

describe("each setting uses its consumer's grammar", () => {
    it("refuses 7d and 1w for the registry's upload purging", () => {
        const msg = failure({ ...base, registry: { uploadPurging: { age: "7d", interval: "1w" } } });
        expect(msg).toContain('registry-kit:registry.uploadPurging.age: got "7d"; allowed: a Go duration such as 30s, 24h or 1h30m');
        expect(msg).toContain('registry-kit:registry.uploadPurging.interval: got "1w"; allowed: a Go duration');
    });
    it("refuses d and w for Harbor's upload purging and Trivy timeout, which Go reads too", () => {
        const msg = failure({ ...base, harbor: { uploadPurging: { age: "7d" }, trivy: { timeout: "1d" } } });
        expect(msg).toContain('registry-kit:harbor.uploadPurging.age: got "7d"; allowed: a Go duration');
        expect(msg).toContain('registry-kit:harbor.trivy.timeout: got "1d"; allowed: a Go duration');
    });
    it("accepts 1.5h and 1h30m for the registry", () => {
        const s = parseSettings({ ...base, registry: { uploadPurging: { age: "1.5h", interval: "1h30m" } } });
        expect(s.registry.uploadPurging).toMatchObject({ age: "1.5h", interval: "1h30m" });
    });
    it("accepts 15d and 1h30m for Prometheus, and refuses 1.5h and 30m1h", () => {
        expect(parseSettings({ ...base, monitoring: { retentionTime: "15d", scrapeInterval: "1h30m" } }).monitoring).toMatchObject({
            retentionTime: "15d",
            scrapeInterval: "1h30m",
        });
        const msg = failure({ ...base, monitoring: { retentionTime: "1.5h", scrapeInterval: "30m1h" } });
        expect(msg).toContain('registry-kit:monitoring.retentionTime: got "1.5h"; allowed: a Prometheus duration such as 30s, 15d or 1h30m');
        expect(msg).toContain('registry-kit:monitoring.scrapeInterval: got "30m1h"; allowed: a Prometheus duration');
    });
});
