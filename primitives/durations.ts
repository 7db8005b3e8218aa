/**
 * Durations in the grammar of the program that reads them: Go's (the registry, Harbor's registry and
 * Trivy, Docker health checks, which the Docker provider reads back with `time.Duration.String()`) and
 * Prometheus's (retention, scrape interval). The bottom layer: imports nothing of registry-kit's.
 */
import { z } from "zod";

/** Largest Go duration: 2^63-1 nanoseconds. */
const MAX_NANOSECONDS = (1n << 63n) - 1n;
const GO_UNITS: Record<string, bigint> = {
    ns: 1n,
    us: 1_000n,
    "\u00b5s": 1_000n,
    "\u03bcs": 1_000n,
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
};

/**
 * Go's `time.ParseDuration` (`[0-9]*(\.[0-9]*)?unit` repeated, any order, units ns, us, µs, ms, s, m, h,
 * at most 2^63-1 ns, "0" alone), in nanoseconds; undefined where Go refuses the text. Go also takes a
 * leading sign; this does not (a negative age, interval or timeout means nothing here).
 */
export function parseGoDuration(value: string): bigint | undefined {
    if (value === "0") return 0n;
    const parts = [...value.matchAll(/(\d*)(?:\.(\d*))?([^\d.]+)/gy)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value) return undefined;
    let total = 0n;
    for (const [, whole, fraction, unit] of parts) {
        if (whole === "" && !fraction) return undefined;
        const scale = GO_UNITS[unit];
        if (scale === undefined) return undefined;
        total += BigInt(whole || "0") * scale + (fraction ? (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length) : 0n);
        if (total > MAX_NANOSECONDS) return undefined;
    }
    return total;
}

/** Go's `time.Duration.String()`: `15s`, `1m30s`, `5m0s`, `1h0m0s`, `1.5s`, `500ms`. */
export function formatGoDuration(ns: bigint): string {
    if (ns === 0n) return "0s";
    const trim = (whole: bigint, part: bigint, digits: number) => {
        const fraction = part.toString().padStart(digits, "0").replace(/0+$/, "");
        return fraction ? `${whole}.${fraction}` : `${whole}`;
    };
    if (ns < 1_000n) return `${ns}ns`;
    if (ns < 1_000_000n) return `${trim(ns / 1_000n, ns % 1_000n, 3)}µs`;
    if (ns < 1_000_000_000n) return `${trim(ns / 1_000_000n, ns % 1_000_000n, 6)}ms`;
    const hours = ns / 3_600_000_000_000n;
    const minutes = (ns % 3_600_000_000_000n) / 60_000_000_000n;
    const rest = ns % 60_000_000_000n;
    const seconds = trim(rest / 1_000_000_000n, rest % 1_000_000_000n, 9);
    if (hours > 0n) return `${hours}h${minutes}m${seconds}s`;
    if (minutes > 0n) return `${minutes}m${seconds}s`;
    return `${seconds}s`;
}

/** Whole seconds as Go writes the duration (`300` → `5m0s`). */
export function goDurationSeconds(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`goDurationSeconds: ${seconds} is not a whole number of seconds`);
    return formatGoDuration(BigInt(seconds) * 1_000_000_000n);
}

/** Prometheus's units, largest first: a duration names them in this order, each at most once. */
const PROMETHEUS_UNITS: [string, bigint][] = [
    ["y", 365n * 86_400_000_000_000n],
    ["w", 7n * 86_400_000_000_000n],
    ["d", 86_400_000_000_000n],
    ["h", 3_600_000_000_000n],
    ["m", 60_000_000_000n],
    ["s", 1_000_000_000n],
    ["ms", 1_000_000n],
];

/**
 * Go's time.ParseDuration grammar, which the registry (Distribution), Harbor's registry and Trivy read durations
 * with: `[0-9]*(\.[0-9]*)?unit` repeated, any order, units ns, us (µs, μs), ms, s, m, h, at most 2^63-1 ns; "0" alone.
 * Go also takes a leading sign; registry-kit refuses it (a negative age or interval means nothing).
 */
export function isGoDuration(value: string): boolean {
    return parseGoDuration(value) !== undefined;
}

/**
 * Prometheus's model.ParseDuration grammar (retention, scrape interval): whole numbers with units y, w, d, h, m, s,
 * ms, largest first, each at most once, no decimals, at most 2^63-1 ns; "0" alone.
 */
export function isPrometheusDuration(value: string): boolean {
    if (value === "0") return true;
    const parts = [...value.matchAll(/(\d+)([a-z]+)/gy)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value) return false;
    let total = 0n;
    let last = -1;
    for (const [, count, unit] of parts) {
        const position = PROMETHEUS_UNITS.findIndex(([u]) => u === unit);
        if (position <= last) return false;
        last = position;
        total += BigInt(count) * PROMETHEUS_UNITS[position][1];
        if (total > MAX_NANOSECONDS) return false;
    }
    return true;
}

/** A duration the registry reads (Go's grammar). */
export const goDuration = z.string().refine(isGoDuration, {
    message: "a Go duration such as 30s, 24h or 1h30m (units ns, us, ms, s, m, h; decimals such as 1.5h allowed; no d, w or y)",
});
/** A duration Prometheus reads (its own grammar). */
export const prometheusDuration = z.string().refine(isPrometheusDuration, {
    message: "a Prometheus duration such as 30s, 15d or 1h30m (whole numbers; units y, w, d, h, m, s, ms, largest first, each once; no decimals)",
});
