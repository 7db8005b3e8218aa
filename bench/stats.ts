/**
 * The benchmark's statistics: pure functions of measured numbers (test/unit/bench.test.ts checks them).
 * Ratios are throughput ratios, candidate over baseline: for times, baseline seconds / candidate seconds,
 * so 0.9 means the candidate moves 90% of the baseline's bytes per second.
 */

/** Median of a non-empty list (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
    if (xs.length === 0) throw new Error("median of an empty list");
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Spread {
    n: number;
    median: number;
    min: number;
    max: number;
    /** (max - min) / median: the whole range relative to the median (0 for a single value). */
    relativeRange: number;
}

/** Median, extremes and the range relative to the median. */
export function spread(xs: number[]): Spread {
    const m = median(xs);
    const min = Math.min(...xs);
    const max = Math.max(...xs);
    return { n: xs.length, median: m, min, max, relativeRange: m === 0 ? 0 : (max - min) / m };
}

export interface Comparison {
    baseline: Spread;
    candidate: Spread;
    /** Throughput ratio of the medians: baseline median seconds / candidate median seconds. */
    ratio: number;
    /** Throughput ratios of each repetition's pair (measured next to each other), with their spread. */
    pairs: Spread;
}

/**
 * Compares the seconds a candidate (the proxy) took with a baseline's (direct) from the same run,
 * repetition by repetition: the lists pair up by index and must have the same length.
 */
export function compareSeconds(baselineSeconds: number[], candidateSeconds: number[]): Comparison {
    if (baselineSeconds.length !== candidateSeconds.length)
        throw new Error(`cannot pair ${baselineSeconds.length} baseline with ${candidateSeconds.length} candidate measurements`);
    if ([...baselineSeconds, ...candidateSeconds].some((s) => !(s > 0))) throw new Error("times must be positive");
    const baseline = spread(baselineSeconds);
    const candidate = spread(candidateSeconds);
    return {
        baseline,
        candidate,
        ratio: baseline.median / candidate.median,
        pairs: spread(candidateSeconds.map((s, i) => baselineSeconds[i] / s)),
    };
}

/** Throughput of `units` (bytes, images, ...) moved in `seconds`. */
export function rate(units: number, seconds: number): number {
    if (!(seconds > 0)) throw new Error("seconds must be positive");
    return units / seconds;
}

/** The median of each key over a list of records (keys with any null value give null). */
export function medianByKey(records: Record<string, number | null>[]): Record<string, number | null> {
    const keys = [...new Set(records.flatMap((r) => Object.keys(r)))];
    return Object.fromEntries(
        keys.map((k) => {
            const xs = records.map((r) => r[k]);
            return [k, xs.some((x) => x === null || x === undefined) ? null : median(xs as number[])];
        }),
    );
}
