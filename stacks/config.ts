/**
 * Stack configuration → validated, defaulted `Settings`, or one error that names every bad setting.
 */
import * as pulumi from "@pulumi/pulumi";
import { formatIssues, Settings, settingsInStackSchema, settingsSchema, withTopologyDefaults } from "./schema";

export const NAMESPACE = "registry-kit";

/** Thrown for bad configuration; Pulumi prints the message and stops before creating anything. */
export class ConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

/** Paths under `registry-kit:` whose values are secrets; `[*]` stands for every list element. */
const SECRET_PATHS = [
    "auth.adminPassword",
    "auth.users[*].password",
    "tls.privateKey",
    "registry.storage.s3.secretKey",
    "registry.storage.minio.rootPassword",
    "registry.redis.password",
    "gitlab.rootPassword",
    "gitlab.privateKey",
    "harbor.adminPassword",
    "harbor.databasePassword",
    "harbor.ssh.privateKey",
    "harbor.ssh.password",
];

/** Whether a secret path holds a value in `raw`. */
function hasValue(raw: unknown, path: string): boolean {
    const walk = (cur: unknown, parts: string[]): boolean => {
        if (parts.length === 0) return cur !== undefined && cur !== null;
        if (cur === null || typeof cur !== "object") return false;
        const [head, ...rest] = parts;
        if (head.endsWith("[*]")) {
            const list = (cur as Record<string, unknown>)[head.slice(0, -3)];
            return Array.isArray(list) && list.some((x) => walk(x, rest));
        }
        return walk((cur as Record<string, unknown>)[head], rest);
    };
    return walk(raw, path.split("."));
}

/**
 * Validates raw stack settings (`registry-kit:*` keys without the namespace, values parsed from JSON).
 * `secretKeys` lists the top-level keys Pulumi holds as secrets; a password or key set in plain
 * text is refused, since it would sit unencrypted in the stack file. `stack` (the stack's name) checks the names
 * registry-kit derives from it.
 */
export function parseSettings(raw: Record<string, unknown>, secretKeys: string[] = [], stack?: string): Settings {
    const result = settingsSchema.safeParse(withTopologyDefaults(raw), { reportInput: true });
    if (!result.success) {
        throw new ConfigError(`invalid stack configuration:\n${formatIssues(result.error.issues, raw, `${NAMESPACE}:`)}`);
    }
    const plain = SECRET_PATHS.filter((p) => !secretKeys.includes(p.split(".")[0]) && hasValue(raw, p)).map((p) => `${NAMESPACE}:${p}`);
    if (plain.length > 0) {
        throw new ConfigError(
            "invalid stack configuration:\n" +
                plain
                    .map((p) => `${p}: got a plain-text value; allowed: a secret (pulumi config set --secret --path '${p.replace("[*]", "[0]")}' ...)`)
                    .join("\n"),
        );
    }
    const inStack = settingsInStackSchema(stack).safeParse(result.data, { reportInput: true });
    if (!inStack.success) {
        throw new ConfigError(`invalid stack configuration:\n${formatIssues(inStack.error.issues, raw, `${NAMESPACE}:`)}`);
    }
    return result.data;
}

/** Reads every `registry-kit:` key of the current stack and validates it. */
export function loadSettings(): Settings {
    const all = pulumi.runtime.allConfig();
    const raw: Record<string, unknown> = {};
    const prefix = `${NAMESPACE}:`;
    for (const [key, value] of Object.entries(all)) {
        if (!key.startsWith(prefix)) continue;
        raw[key.slice(prefix.length)] = parseValue(value);
    }
    const secretKeys = Object.keys(all)
        .filter((k) => k.startsWith(prefix) && isConfigSecret(k))
        .map((k) => k.slice(prefix.length));
    return parseSettings(raw, secretKeys, pulumi.getStack());
}

/**
 * Whether Pulumi holds a key as a secret. The SDK marks this helper internal; without it (a future
 * SDK) every key counts as secret, so the plain-text check is skipped rather than wrong.
 */
function isConfigSecret(key: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return check ? check(key) : true;
}

/** Pulumi hands structured values over as JSON text, and numbers and booleans as strings. */
function parseValue(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}
