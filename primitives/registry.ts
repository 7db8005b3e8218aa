/**
 * Facts about the Distribution registry that decide what registry-kit accepts: its config dialects and
 * log levels, which tag speaks which dialect, the releases that ignore a Redis password, and the
 * regions its s3 driver knows. The bottom layer: imports nothing of registry-kit's.
 */

/** The registry's config dialect: registry:2 (Distribution 2.8) or registry:3. */
export type RegistryDialect = "v2" | "v3";
export const dialects = ["v2", "v3"] as const;
export const logLevels = ["error", "warn", "info", "debug"] as const;

/** The tag of an image reference (`mirror:5000/registry:2.8@sha256:…` → `2.8`), or undefined. */
function imageTag(image: string): string | undefined {
    return image.split("@")[0].split("/").pop()!.split(":")[1];
}

/** `registry:2`, `registry:2.8.3`, `mirror/registry:2.8@sha256:…` speak v2; every other tag v3. */
export function inferDialect(image: string): RegistryDialect {
    const tag = imageTag(image);
    return tag !== undefined && /^v?2(\.|$|-)/.test(tag) ? "v2" : "v3";
}

/**
 * Distribution 3.0.0 (and its pre-releases) reads no REGISTRY_REDIS_PASSWORD; 3.1.0 does. `3.0` counts: it names
 * the 3.0 line, whose only release is 3.0.0. An untagged reference (a bare digest) cannot be told and passes.
 */
export function ignoresRedisPassword(image: string): boolean {
    const tag = imageTag(image);
    return tag !== undefined && /^v?3\.0(\.0(-[0-9A-Za-z.-]+)?)?$/.test(tag);
}
export const REDIS_PASSWORD_IMAGE_RULE =
    "Distribution 3.1.0 or later (such as registry:3) or 2.8 while the registry uses a Redis password: 3.0.0 ignores REGISTRY_REDIS_PASSWORD (fixed in 3.1.0)";

/**
 * The regions the registry's s3 driver accepts without `regionendpoint`: it builds them from the partitions of the
 * aws-sdk-go v1 it vendors (registry/storage/driver/s3-aws/s3.go, `init`: endpoints.DefaultPartitions()) and
 * panics at start ("invalid region provided") on any other. Distribution 2.8.3 vendors an SDK of 2019 (no
 * af-south-1 or later); 3.x vendors v1.55.5 (no ap-southeast-5 or later). Harbor's registry is the 2.8 line.
 */
export const S3_DRIVER_REGIONS: Record<"2.8" | "3", readonly string[]> = {
    "2.8": [
        ...["ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1"],
        ...["eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"],
        ...["cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1"],
    ],
    "3": [
        ...["af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1"],
        ...["ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1"],
        ...["eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "sa-east-1"],
        ...["us-east-1", "us-east-2", "us-west-1", "us-west-2", "cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1"],
        ...["us-iso-east-1", "us-iso-west-1", "us-isob-east-1"],
    ],
};

/** Why the s3 driver of this Distribution line would panic on the region without an endpoint, or undefined. */
export function s3RegionProblem(region: string, line: "2.8" | "3"): string | undefined {
    const known = S3_DRIVER_REGIONS[line];
    if (known.includes(region)) return undefined;
    const endpoint = `https://s3.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
    return `a region the s3 driver of Distribution ${line} knows (${known.join(", ")}), or this region with registry.storage.s3.regionEndpoint set (such as ${endpoint})`;
}

/** The actions Distribution sends notification events for (`ignore.actions` names them), 2.8 and 3.x alike. */
export const NOTIFICATION_ACTIONS = ["push", "pull", "mount", "delete"] as const;
export type NotificationAction = (typeof NOTIFICATION_ACTIONS)[number];

/**
 * A header value the registry's redacting entrypoint can mask (it masks `Name:[...]` up to the first
 * `]` in Go's form of a header map): one line without "]".
 */
export function maskableHeaderValue(value: string): boolean {
    return !/[\]\r\n]/.test(value);
}

/** An HTTP header name (RFC 9110 token). */
export function isHeaderName(name: string): boolean {
    return /^[!#$%&'*+.^_\x60|~0-9A-Za-z-]+$/.test(name);
}

/**
 * Per-user permissions at the proxy: what a request does to a repository, from its method and path
 * (GET/HEAD pull, POST/PUT/PATCH push, DELETE delete; GET /v2/_catalog lists every repository's name).
 */
export const accessActions = ["pull", "push", "delete", "catalog"] as const;
export type AccessAction = (typeof accessActions)[number];

/**
 * Behind the TLS proxy's check, the registry's htpasswd file names each user twice: `<user>` with a
 * password only the proxy can derive (cost 4), which the proxy sends on, so the registry still sees who
 * asks; and `<user>` + this suffix with the user's own password (at `auth.bcryptCost`), which the
 * proxy's verification asks about. No user name may end with it.
 */
export const REGISTRY_VERIFY_SUFFIX = "@registry-kit-verify";

/**
 * A repository pattern: `/`-separated components, each `**` (one or more whole components) or
 * Distribution's component grammar (lowercase letters and digits, separated by `.`, `_`, `__` or `-`)
 * in which `*` stands for any run of characters but `/`. `team/*` is team's direct repositories,
 * `team/**` everything under team, `**` every repository. Undefined when valid, else what is wrong.
 */
export function repositoryPatternProblem(pattern: string): string | undefined {
    if (pattern.length === 0 || pattern.length > 255) return "1 to 255 characters";
    for (const part of pattern.split("/")) {
        if (part === "**") continue;
        if (part.includes("**")) return "`**` only as a whole component (team/**)";
        // With each `*` read as a letter, the component must follow Distribution's grammar.
        if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(part.replace(/\*/g, "a"))) {
            return "components of lowercase letters and digits separated by `.`, `_`, `__` or `-`, `*` within a component, `**` as one";
        }
    }
    return undefined;
}
