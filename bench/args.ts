/**
 * The benchmark's command line: pure parsing (no Docker, no I/O), so test/unit/bench.test.ts can
 * check it. `npm run bench -- --help` prints HELP.
 */
import { parseArgs } from "node:util";

export const SCENARIOS = ["large", "small", "concurrency", "render"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
    /** Scenarios to run, in the order of SCENARIOS. */
    scenarios: Scenario[];
    quick: boolean;
    /** large: measured repetitions, warm-up repetitions, layers per image, bytes per layer. */
    reps: number;
    warmup: number;
    layers: number;
    layerBytes: number;
    /** large: extra nginx.conf files measured beside the rendered one. */
    nginxConfs: string[];
    /** small: repetitions, layers per image, bytes per layer. */
    smallReps: number;
    smallLayers: number;
    smallLayerBytes: number;
    /** concurrency: repetitions, clients at once, layers and bytes per layer of each client's image. */
    concurrencyReps: number;
    clients: number;
    concurrencyLayers: number;
    concurrencyLayerBytes: number;
    /** render: repetitions per topology. */
    renderReps: number;
    pin: boolean;
    storage: "filesystem" | "s3";
    /** large, with --storage s3: also measure direct and proxy with the registry redirecting blob downloads to S3. */
    s3Redirect: boolean;
    keep: boolean;
    help: boolean;
}

export const MB = 1_000_000;
export const KB = 1_000;

/** Defaults, and what --quick changes (an explicit flag still wins over --quick). */
const DEFAULTS = {
    reps: 7,
    warmup: 1,
    layers: 3,
    "layer-mb": 100,
    "small-reps": 5,
    "small-layers": 10,
    "small-layer-kb": 300,
    "concurrency-reps": 2,
    clients: 16,
    "concurrency-layers": 2,
    "concurrency-layer-mb": 10,
    "render-reps": 5,
} as const;
type NumericFlag = keyof typeof DEFAULTS;
const QUICK: Partial<Record<NumericFlag, number>> = {
    reps: 3,
    "layer-mb": 50,
    "small-reps": 3,
    "concurrency-reps": 1,
    "render-reps": 2,
};

export const HELP = `usage: npm run bench -- [options]

Deploys the small-team stack (bench/Pulumi.bench.yaml, prefix rk-bench) and measures, with skopeo in a
client container on the stack's own network, the registry through the TLS proxy against the registry
directly. Results go to stdout and bench/results/bench-<time>.{md,json}.

scenarios:
  --scenario LIST        comma-separated, any of ${SCENARIOS.join(",")} (default: all of them)
                         large        push/pull of a big image, proxy vs direct (goal: proxy >= 0.95x)
                         small        push/pull of a 10-layer image of a few MB, images per second,
                                      with the htpasswd auth as deployed and against a registry without auth
                         concurrency  N clients pulling (and pushing) at once vs one client
                         render       wall time of render (bin/render.ts) per topology's example stack
  --quick                fewer repetitions and smaller large layers (explicit flags still win)

large:
  --reps N               measured repetitions; each is one push+pull per path (default ${DEFAULTS.reps}, quick ${QUICK.reps})
  --warmup N             unmeasured repetitions first, in every docker scenario (default ${DEFAULTS.warmup})
  --layers N             layers per image (default ${DEFAULTS.layers})
  --layer-mb N           random payload per layer, in 10^6 bytes (default ${DEFAULTS["layer-mb"]}, quick ${QUICK["layer-mb"]})
  --nginx-conf FILE      also measure the proxy with this nginx.conf (docker cp + nginx -s reload into the
                         bench's proxy container) in large and small; repeatable; the rendered config is
                         always measured too
small:
  --small-reps N         repetitions (default ${DEFAULTS["small-reps"]}, quick ${QUICK["small-reps"]})
  --small-layers N       layers per image (default ${DEFAULTS["small-layers"]})
  --small-layer-kb N     random payload per layer, in 10^3 bytes (default ${DEFAULTS["small-layer-kb"]})
concurrency:
  --concurrency-reps N   repetitions (default ${DEFAULTS["concurrency-reps"]}, quick ${QUICK["concurrency-reps"]})
  --clients N            clients at once (default ${DEFAULTS.clients})
  --concurrency-layers N layers of each client's image (default ${DEFAULTS["concurrency-layers"]})
  --concurrency-layer-mb N  payload per layer, in 10^6 bytes (default ${DEFAULTS["concurrency-layer-mb"]})
render:
  --render-reps N        repetitions per topology (default ${DEFAULTS["render-reps"]}, quick ${QUICK["render-reps"]})

all docker scenarios:
  --pin                  pin the client container to the last CPU and the stack's containers to the
                         others (docker update --cpuset-cpus), as if the client ran on another machine
  --storage KIND         filesystem (default) or s3: the registry stores in an S3-compatible server on
                         the bench network (registry-kit-test/s3:2, moto), through the s3 driver
  --s3-redirect          with --storage s3, in large: also measure direct and proxy with the registry
                         rendered with registry.storage.s3.redirect: true (blob GETs answered with a 307
                         to a presigned URL of the bucket); the registry is restarted with each config
  --keep                 leave the rk-bench stack running afterwards (a later run removes it)
  -h, --help             this text`;

/** Parses the benchmark's arguments; throws one line per problem, naming the flag, the value and what is allowed. */
export function parseBenchArgs(argv: string[]): BenchOptions {
    const numeric = Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, { type: "string" as const }]));
    const { values } = parseArgs({
        args: argv,
        strict: true,
        allowPositionals: false,
        options: {
            ...numeric,
            scenario: { type: "string", multiple: true },
            quick: { type: "boolean", default: false },
            "nginx-conf": { type: "string", multiple: true, default: [] },
            keep: { type: "boolean", default: false },
            pin: { type: "boolean", default: false },
            storage: { type: "string", default: "filesystem" },
            "s3-redirect": { type: "boolean", default: false },
            help: { type: "boolean", short: "h", default: false },
        },
    });
    const v = values as Record<string, string | string[] | boolean | undefined>;
    const quick = v.quick === true;
    const problems: string[] = [];
    const int = (flag: NumericFlag, min: number): number => {
        const given = v[flag] as string | undefined;
        if (given === undefined) return (quick ? QUICK[flag] : undefined) ?? DEFAULTS[flag];
        const n = Number(given);
        if (!/^\d+$/.test(given.trim()) || !Number.isSafeInteger(n) || n < min) {
            problems.push(`--${flag}: got "${given}"; allowed: an integer >= ${min}`);
            return DEFAULTS[flag];
        }
        return n;
    };
    const reps = int("reps", 1);
    const warmup = int("warmup", 0);
    const layers = int("layers", 1);
    const layerMb = int("layer-mb", 1);
    const smallReps = int("small-reps", 1);
    const smallLayers = int("small-layers", 1);
    const smallLayerKb = int("small-layer-kb", 1);
    const concurrencyReps = int("concurrency-reps", 1);
    const clients = int("clients", 2);
    const concurrencyLayers = int("concurrency-layers", 1);
    const concurrencyLayerMb = int("concurrency-layer-mb", 1);
    const renderReps = int("render-reps", 1);

    let scenarios: Scenario[] = [...SCENARIOS];
    const listed = ((v.scenario as string[] | undefined) ?? []).flatMap((s) => s.split(",")).map((s) => s.trim());
    if (listed.length > 0) {
        const unknown = listed.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
        for (const s of unknown) problems.push(`--scenario: got "${s}"; allowed: ${SCENARIOS.join(", ")} (comma-separated)`);
        scenarios = SCENARIOS.filter((s) => listed.includes(s));
    }
    const storage = v.storage as string;
    if (storage !== "filesystem" && storage !== "s3") problems.push(`--storage: got "${storage}"; allowed: filesystem, s3`);
    const nginxConfs = v["nginx-conf"] as string[];
    if (nginxConfs.length > 0 && !scenarios.includes("large") && !scenarios.includes("small"))
        problems.push(`--nginx-conf: given without the large or small scenario; allowed: with --scenario large and/or small (the variants are measured there)`);
    const s3Redirect = v["s3-redirect"] === true;
    if (s3Redirect && (storage !== "s3" || !scenarios.includes("large")))
        problems.push(`--s3-redirect: given without --storage s3 and the large scenario; allowed: with --storage s3 --scenario large`);
    if (problems.length > 0) throw new Error(problems.join("\n"));
    return {
        scenarios,
        quick,
        reps,
        warmup,
        layers,
        layerBytes: layerMb * MB,
        nginxConfs,
        smallReps,
        smallLayers,
        smallLayerBytes: smallLayerKb * KB,
        concurrencyReps,
        clients,
        concurrencyLayers,
        concurrencyLayerBytes: concurrencyLayerMb * MB,
        renderReps,
        pin: v.pin === true,
        storage: storage as "filesystem" | "s3",
        s3Redirect,
        keep: v.keep === true,
        help: v.help === true,
    };
}
