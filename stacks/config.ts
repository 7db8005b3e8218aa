/**
 * Stack configuration → validated, defaulted `Settings`, or one error that names every bad setting.
 */
import * as pulumi from "@pulumi/pulumi";
import { formatIssues, Settings, settingsInStackSchema, settingsSchema, withTopologyDefaults } from "./schema";

export const NAMESPACE = "registry-kit";

/**
 * Thrown for bad configuration. A `pulumi.RunError`: Pulumi's language host prints its message alone
 * (no stack trace, no "unhandled exception") and stops before creating anything.
 */
export class ConfigError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

/** Letters and digits of a namespace, lower case: `registry_kit`, `RegistryKit` and `registrykit` all give `registrykit`. */
const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Levenshtein distance, for spotting a namespace one or two keystrokes from ours. */
function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const cur = [i];
        for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
    }
    return prev[b.length];
}

/**
 * Config keys (all namespaces, `ns:key`) whose namespace is a misspelling of ours (`registrykit:`,
 * `registry_kit:`, `regsitry-kit:`): Pulumi would keep them and registry-kit would never read them.
 */
export function misspeltNamespaceProblems(keys: string[]): string[] {
    return keys
        .filter((k) => k.includes(":"))
        .map((k) => [k, k.slice(0, k.indexOf(":"))] as const)
        .filter(([, ns]) => ns !== NAMESPACE && editDistance(squash(ns), squash(NAMESPACE)) <= 2)
        .map(([k, ns]) => {
            const fixed = `${NAMESPACE}:${k.slice(ns.length + 1)}`;
            return `${k}: unknown namespace "${ns}", never read; allowed: ${fixed} (pulumi config rm '${k}', then set '${fixed}')`;
        });
}

/** A top-level key holding a path (`proxy.httpsPort`, `auth.users[0].name`): set without `--path`. */
const isPathKey = (key: string) => /[.[]/.test(key);

function pathKeyProblems(raw: Record<string, unknown>, secretKeys: string[]): string[] {
    return Object.keys(raw)
        .filter(isPathKey)
        .map((k) => {
            const shown = secretKeys.includes(k) ? "[secret]" : JSON.stringify(raw[k]);
            const key = `${NAMESPACE}:${k}`;
            return `${key}: got ${shown} under a literal key with a dot (set without --path); allowed: the nested setting (pulumi config rm '${key}', then pulumi config set --path '${key}' VALUE)`;
        });
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
    "maintenance.replication[*].password",
    "mirrors[*].password",
    "notifications.endpoints[*].secret",
    "notifications.endpoints[*].headers",
    "monitoring.alertmanager.receivers[*].webhook.url",
    "monitoring.alertmanager.receivers[*].webhook.bearerToken",
    "monitoring.alertmanager.receivers[*].webhook.basicAuth.password",
    "monitoring.alertmanager.receivers[*].email.authPassword",
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
 * text is refused, since it would sit unencrypted in the stack file. `keyProblems` are problems found
 * with the config keys themselves (a misspelt namespace), reported with the others in one error;
 * `stack` (the stack's name) checks the names registry-kit derives from it.
 */
export function parseSettings(raw: Record<string, unknown>, secretKeys: string[] = [], o: { stack?: string; keyProblems?: string[] } = {}): Settings {
    const problems = [...(o.keyProblems ?? []), ...pathKeyProblems(raw, secretKeys)];
    const settings = Object.fromEntries(Object.entries(raw).filter(([k]) => !isPathKey(k)));
    const result = settingsSchema.safeParse(withTopologyDefaults(settings), { reportInput: true });
    if (!result.success) problems.push(formatIssues(result.error.issues, settings, `${NAMESPACE}:`));
    if (problems.length > 0 || !result.success) {
        throw new ConfigError(`invalid stack configuration:\n${problems.join("\n")}`);
    }
    const plain = SECRET_PATHS.filter((p) => !secretKeys.includes(p.split(/[.[]/)[0]) && hasValue(raw, p)).map((p) => `${NAMESPACE}:${p}`);
    if (plain.length > 0) {
        throw new ConfigError(
            "invalid stack configuration:\n" +
                plain
                    .map((p) => `${p}: got a plain-text value; allowed: a secret (pulumi config set --secret --path '${p.replace("[*]", "[0]")}' ...)`)
                    .join("\n"),
        );
    }
    const inStack = settingsInStackSchema(o.stack).safeParse(result.data, { reportInput: true });
    if (!inStack.success) {
        throw new ConfigError(`invalid stack configuration:\n${formatIssues(inStack.error.issues, settings, `${NAMESPACE}:`)}`);
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
    return parseSettings(raw, secretKeys, { stack: pulumi.getStack(), keyProblems: misspeltNamespaceProblems(Object.keys(all)) });
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
