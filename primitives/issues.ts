/**
 * Readable messages for zod issues: one line per problem naming the setting (or argument), the bad value
 * (never a secret) and what is allowed. The bottom layer: imports only other primitives and zod.
 */
import { z } from "zod";
import { redactUrlCredentials } from "./network";
import { looksLikePrivateKey } from "./tls";

/** Setting paths whose values are secrets: never echoed in an error message. */
const secretLeaves = ["password", "adminPassword", "privateKey", "secretKey", "rootPassword", "databasePassword", "secret", "bearerToken", "authPassword"];
/** Settings whose every value below is secret (a notification endpoint's headers, an alert webhook: its URL often holds a token). */
const secretBranches = ["headers", "webhook"];

/**
 * One readable line per problem: the setting, the bad value (unless secret) and what is allowed. `root` is the
 * schema the issues came from (it names the keys allowed where an unknown one stands).
 */
export function formatIssues(issues: z.core.$ZodIssue[], input: unknown, prefix: string, root: z.ZodType): string {
    return issues
        .map((issue) => {
            const path = issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
            const setting = `${prefix}${path}`;
            if (issue.code === "unrecognized_keys") {
                return issue.keys
                    .map((k) => `${setting}${path ? "." : ""}${k}: unknown setting; allowed here: ${knownKeys(root, issue.path)} (a typo?)`)
                    .join("\n");
            }
            const leaf = String(issue.path[issue.path.length - 1] ?? "");
            // Custom checks carry the value they judged (a default may not be in the raw input).
            const judged = (issue as { input?: unknown }).input;
            const value = issue.code === "custom" && judged !== undefined ? judged : lookup(input, issue.path as PropertyKey[]);
            const secret = secretLeaves.includes(leaf) || issue.path.some((p) => secretBranches.includes(String(p)));
            return `${setting}: got ${describeValue(value, secret)}; allowed: ${describeAllowed(issue)}`;
        })
        .join("\n");
}

/** Primitives are shown; objects and lists are not, since they may hold secrets. */
export function describeValue(value: unknown, secret: boolean): string {
    if (value === undefined) return "nothing";
    if (secret || (typeof value === "string" && looksLikePrivateKey(value))) return "[secret]";
    if (typeof value === "string") return JSON.stringify(redactUrlCredentials(value));
    if (Array.isArray(value)) return "a list";
    if (value !== null && typeof value === "object") return "an object";
    return JSON.stringify(value);
}

/** The keys the schema knows at a path, for the unknown-key message. */
function knownKeys(root: z.ZodType, path: PropertyKey[]): string {
    let shape: z.ZodType = root;
    for (const key of path) {
        shape = unwrap(shape);
        if (shape instanceof z.ZodObject) shape = shape.shape[key as string];
        else if (shape instanceof z.ZodArray) shape = shape.element as z.ZodType;
        else return "see the configuration reference";
    }
    shape = unwrap(shape);
    return shape instanceof z.ZodObject ? Object.keys(shape.shape).join(", ") : "see the configuration reference";
}

function unwrap(t: z.ZodType): z.ZodType {
    let cur: any = t;
    while (cur && cur._zod?.def?.innerType) cur = cur._zod.def.innerType;
    if (cur && cur._zod?.def?.type === "pipe") cur = cur._zod.def.in;
    return cur;
}

function describeAllowed(issue: z.core.$ZodIssue): string {
    switch (issue.code) {
        case "invalid_value":
            return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        case "invalid_type":
            return issue.message.startsWith("Invalid input") ? `a value of type ${issue.expected}` : issue.message;
        default:
            return issue.message;
    }
}

function lookup(value: unknown, path: PropertyKey[]): unknown {
    let cur: unknown = value;
    for (const key of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<PropertyKey, unknown>)[key];
    }
    return cur;
}
