/**
 * `registry-kit:maintenance`: retention rules and scheduled garbage collection (small-team, gitlab).
 */
import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { image } from "../../primitives/images";
import { dockerName } from "../../primitives/names";
import { hostPortProblem } from "../../primitives/network";

/** Units of a retention age: Prometheus's grammar (`30d`, `4w`, `1d12h`), since days are what people mean. */
const AGE_UNITS: Record<string, number> = { y: 365 * 86400, w: 7 * 86400, d: 86400, h: 3600, m: 60, s: 1 };
const AGE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds in an age such as `30d` or `1w2d`; undefined when it is not one (or is zero). */
export function ageSeconds(text: string): number | undefined {
    const m = AGE.exec(text);
    if (!m || text === "") return undefined;
    const units = ["y", "w", "d", "h", "m", "s"];
    const seconds = units.reduce((sum, u, i) => sum + (m[i + 1] ? Number(m[i + 1]) * AGE_UNITS[u] : 0), 0);
    return seconds > 0 ? seconds : undefined;
}

/** Why a five-field cron schedule cannot be used, or undefined. */
export function scheduleProblem(expression: string, timeZone: string): string | undefined {
    const fields = expression.trim().split(/\s+/);
    if (fields.length !== 5) return `five fields (minute hour day-of-month month day-of-week), not ${fields.length}`;
    // The job's matcher understands numbers, `*`, ranges, steps and lists (no names, no `L`, `W`, `#`, `?`).
    if (!fields.every((f) => /^(?:\*|\d+(?:-\d+)?)(?:\/\d+)?(?:,(?:\*|\d+(?:-\d+)?)(?:\/\d+)?)*$/.test(f))) {
        return "numbers, '*', ranges (1-5), steps (*/15) and lists (1,15) in each field";
    }
    try {
        const next = CronExpressionParser.parse(expression, { tz: timeZone, currentDate: new Date("2026-01-01T00:00:00Z") })
            .next()
            .toDate();
        if (next.getTime() - Date.parse("2026-01-01T00:00:00Z") > 4 * 366 * 86400 * 1000) return "a schedule that fires at least once every four years";
    } catch (e) {
        return `a valid cron schedule (${(e as Error).message})`;
    }
    return undefined;
}

export function isTimeZone(name: string): boolean {
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: name });
        return /^[A-Za-z_+\-0-9/]+$/.test(name);
    } catch {
        return false;
    }
}

function regexProblem(source: string): string | undefined {
    try {
        new RegExp(source);
        return undefined;
    } catch (e) {
        return `a JavaScript regular expression (${(e as Error).message})`;
    }
}

const glob = z.string().regex(/^[A-Za-z0-9._\-/*?]+$/, { message: "a glob of letters, digits, '.', '_', '-', '/', '*', '**' and '?'" });
const regex = z.string().superRefine((v, ctx) => {
    const problem = regexProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const retentionRuleSchema = z
    .strictObject({
        /** Name in logs. Default: rule-<n> (from 1). */
        name: z
            .string()
            .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: "1 to 64 letters, digits, '.', '_', '-'" })
            .optional(),
        /** Repositories the rule applies to: globs (`*` within a path segment, `**` across). */
        repositories: z.array(glob).min(1, { message: "at least one glob such as team/* or **" }).optional(),
        /** Or a regular expression (JavaScript's, matched against the whole name). */
        repositoryRegex: regex.optional(),
        /** Tags the rule considers: globs. Default: every tag. */
        tags: z.array(glob).min(1, { message: "at least one glob such as v* or *" }).optional(),
        /** Or a regular expression (whole tag). */
        tagRegex: regex.optional(),
        /** Keep the N most recently pushed of those tags. */
        keepMostRecent: z.number().int().min(0, { message: "a whole number, 0 or more" }).optional(),
        /** Keep those pushed within this age (30d, 4w, 12h). */
        keepPushedWithin: z
            .string()
            .refine((v) => ageSeconds(v) !== undefined, { message: "an age such as 30d, 4w, 1d12h (units y, w, d, h, m, s)" })
            .optional(),
        /** Keep all of those tags (a pattern rule: `tags: [v*, latest]`). */
        keepAll: z.literal(true, { message: "true (or leave it out)" }).optional(),
        /** Allow the rules to delete every tag of a matched repository. Default: false (such a repository is left alone). */
        allowDeletingAllTags: z.boolean().default(false),
    })
    .superRefine((r, ctx) => {
        if (r.repositories === undefined && r.repositoryRegex === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["repositories"],
                input: undefined,
                message: "a list of repository globs (or repositoryRegex): a rule must name its repositories",
            });
        }
        if (r.repositories !== undefined && r.repositoryRegex !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["repositoryRegex"],
                input: r.repositoryRegex,
                message: "nothing when repositories is set (one or the other)",
            });
        }
        if (r.tags !== undefined && r.tagRegex !== undefined) {
            ctx.addIssue({ code: "custom", path: ["tagRegex"], input: r.tagRegex, message: "nothing when tags is set (one or the other)" });
        }
        const keeps = (["keepMostRecent", "keepPushedWithin", "keepAll"] as const).filter((k) => r[k] !== undefined);
        if (keeps.length !== 1) {
            ctx.addIssue({
                code: "custom",
                path: [keeps[1] ?? "keepMostRecent"],
                input: keeps.length === 0 ? undefined : r[keeps[1]],
                message: "exactly one of keepMostRecent, keepPushedWithin, keepAll in each rule (write two rules for two conditions)",
            });
        }
        if (r.keepMostRecent === 0 && !r.allowDeletingAllTags) {
            ctx.addIssue({
                code: "custom",
                path: ["keepMostRecent"],
                input: 0,
                message: "1 or more, or 0 with allowDeletingAllTags: true (it deletes every tag the rule matches)",
            });
        }
    });

/** A registry as skopeo names it: host[:port], no scheme, no path. */
const registryHost = z.string().superRefine((v, ctx) => {
    const problem = hostPortProblem(v.includes(":") ? v : `${v}:443`);
    if (problem || /[/@]/.test(v))
        ctx.addIssue({
            code: "custom",
            message: "a registry as host or host:port, such as registry.example.com or 10.0.0.5:5000 (no scheme, no path, no credentials)",
        });
});
const repositoryName = z.string().regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, {
    message: "a repository name such as team/app (lowercase path components)",
});
const tagGlob = z.string().regex(/^[A-Za-z0-9_.*?-]{1,128}$/, { message: "a tag glob of letters, digits, '_', '.', '-', '*' and '?'" });

const replicationSchema = z
    .strictObject({
        /** Name in logs. Required. */
        name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: "1 to 63 lowercase letters, digits and '-'" }),
        /** `push`: from this registry to the other; `pull`: from the other into this one. Required. */
        direction: z.enum(["push", "pull"]),
        /** The other registry, host[:port]. Required. */
        registry: registryHost,
        /** Repositories to copy, by name (no globs: a registry need not list its catalog). Required. */
        repositories: z.array(repositoryName).min(1, { message: "at least one repository such as team/app" }),
        /** Tags to copy: globs. Default: every tag. */
        tags: z.array(tagGlob).min(1, { message: "at least one glob such as v* or *" }).default(["*"]),
        /** A prefix for the repositories at the destination, e.g. mirror/. Default: none (the same names). */
        destinationPrefix: z
            .string()
            .regex(/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)+$/, { message: "path components ending in '/', such as mirror/ or site-b/team/" })
            .default(""),
        /** User at the other registry. Default: none (anonymous). */
        username: z.string().min(1).optional(),
        /** Its password or token (a secret). Default: none. */
        password: z.string().min(1).optional(),
        /** Verify the other registry's TLS certificate. Default: true. */
        tlsVerify: z.boolean().default(true),
    })
    .superRefine((r, ctx) => {
        if ((r.username === undefined) !== (r.password === undefined)) {
            ctx.addIssue({
                code: "custom",
                path: [r.username === undefined ? "username" : "password"],
                input: undefined,
                message: "set together with the other: username and password",
            });
        }
    });

export type ReplicationSettings = z.output<typeof replicationSchema>;

export type RetentionRuleSettings = z.output<typeof retentionRuleSchema>;

export const maintenanceSchema = z
    .strictObject({
        /** Run retention and garbage collection on a schedule (a maintenance container and a GC worker). Default: false. */
        enabled: z.boolean().default(false),
        /** Node.js image of the maintenance job (Node 18 or later). Default: node:22-alpine. */
        image: image.default("node:22-alpine"),
        /** When runs start: a five-field cron schedule. Default: "0 3 * * 0" (Sundays at 03:00). */
        schedule: z.string().default("0 3 * * 0"),
        /** IANA time zone of the schedule. Default: UTC. */
        timezone: z.string().refine(isTimeZone, { message: "an IANA time zone such as UTC or Europe/Berlin" }).default("UTC"),
        /** Log the plan (and run GC with --dry-run) without deleting anything. Default: false. */
        dryRun: z.boolean().default(false),
        /** Images copied to or from other registries in every run, before retention. Default: []. */
        replication: z.array(replicationSchema).default([]),
        /** skopeo image of the sync worker (replication). Default: quay.io/skopeo/stable:v1.16.1. */
        syncImage: image.default("quay.io/skopeo/stable:v1.16.1"),
        /** Retention rules; a tag stays if any rule that matches its repository keeps it. Default: [] (deletes nothing). */
        retention: z.array(retentionRuleSchema).default([]),
        gc: z
            .strictObject({
                /** Run `registry garbage-collect` after retention, in a read-only window. Default: true. */
                enabled: z.boolean().default(true),
                /** Also delete manifests no tag references (needs Distribution 3.0.0 or later). Default: false. */
                deleteUntagged: z.boolean().default(false),
                /** How long uploads in flight may take to finish before GC is skipped for this run (seconds). Default: 600. */
                drainTimeoutSeconds: z
                    .number()
                    .int()
                    .min(1, { message: "a whole number of seconds, 1 or more" })
                    .max(86400, { message: "at most 86400" })
                    .default(600),
                /** Longest garbage collection before the run fails and writes are allowed again (seconds). Default: 7200. */
                timeoutSeconds: z.number().int().min(60, { message: "a whole number of seconds, 60 or more" }).default(7200),
                /** Retry-After sent with refused writes (seconds). Default: 300. */
                retryAfterSeconds: z.number().int().min(1, { message: "a whole number of seconds, 1 or more" }).default(300),
            })
            .prefault({}),
        backup: z
            .strictObject({
                /** Take a snapshot of the data volume in every run (filesystem storage). Default: false. */
                enabled: z.boolean().default(false),
                /** Docker volume the snapshots go to, kept on destroy. Default: <prefix>-registry-backup. */
                volumeName: dockerName.optional(),
                /** How many snapshots to keep (they share unchanged blobs through hard links). Default: 7. */
                keep: z.number().int().min(1, { message: "a whole number, 1 or more" }).max(1000, { message: "at most 1000" }).default(7),
            })
            .prefault({}),
    })
    .superRefine((m, ctx) => {
        const problem = scheduleProblem(m.schedule, isTimeZone(m.timezone) ? m.timezone : "UTC");
        if (problem) ctx.addIssue({ code: "custom", path: ["schedule"], input: m.schedule, message: problem });
        m.replication.forEach((r, i) => {
            if (m.replication.findIndex((x) => x.name === r.name) !== i) {
                ctx.addIssue({ code: "custom", path: ["replication", i, "name"], input: r.name, message: "a name no other replication entry has" });
            }
        });
    })
    .prefault({});

export type MaintenanceSettings = z.output<typeof maintenanceSchema>;
