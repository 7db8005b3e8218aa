/**
 * Evaluates the Pulumi program offline: stack config in, declared resources, generated files and
 * stack outputs out. No Pulumi CLI, no Docker, no cloud.
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { NAMESPACE } from "../stacks/config";
import { looksLikePrivateKey } from "../primitives/tls";
import { OfflineEngine, ResourceRecord, StateEntry, isSecretWrapper, unwrapSecrets, wrapSecret } from "./engine";

export interface StackConfig {
    /** Config values keyed `registry-kit:name`, as in a stack file. */
    config: Record<string, unknown>;
    /** Top-level keys whose values are secrets. */
    secretKeys: string[];
}

/** A value Pulumi would decrypt; offline there is no passphrase, so it reads as this placeholder. */
export const UNDECRYPTED = "offline-placeholder-for-a-secure-value";

/** Reads a Pulumi stack file. `secure:` values cannot be decrypted offline and become placeholders. */
export function readStackFile(path: string): StackConfig {
    const doc = (parse(fs.readFileSync(path, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const secretKeys: string[] = [];
    const replaceSecure = (key: string, v: unknown): unknown => {
        if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
            if (!secretKeys.includes(key)) secretKeys.push(key);
            return UNDECRYPTED;
        }
        if (Array.isArray(v)) return v.map((x) => replaceSecure(key, x));
        if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceSecure(key, x)]));
        return v;
    };
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc.config ?? {})) config[key] = replaceSecure(key, value);
    return { config, secretKeys };
}

/** One file a container receives through `uploads`. */
export interface GeneratedFile {
    container: string;
    path: string;
    content: string;
    secret: boolean;
}

export interface Evaluation {
    resources: ResourceRecord[];
    files: GeneratedFile[];
    /** Stack outputs; secret ones keep Pulumi's secret wrapper. */
    outputs: Record<string, unknown>;
    /** Generated values to pass to the next evaluation for identical results. */
    state: Record<string, StateEntry>;
}

export interface EvaluateOptions {
    stack?: string;
    project?: string;
    /** Earlier evaluation's state: unchanged resources keep their generated values. */
    state?: Record<string, StateEntry>;
}

function read<T>(o: pulumi.Output<T>, timeoutMs = 30000): Promise<T> {
    return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("offline evaluation: an output never resolved")), timeoutMs);
        o.apply((v) => {
            clearTimeout(t);
            resolve(v);
            return v;
        });
    });
}

/**
 * Runs the program for the given config in this process. Pulumi's mocks are global to a process:
 * evaluate once per process (a CLI run, a test file).
 */
export async function evaluate(stackConfig: StackConfig, options: EvaluateOptions = {}): Promise<Evaluation> {
    const engine = new OfflineEngine(options.state, options.project ?? NAMESPACE, options.stack ?? "dev");
    await engine.install();
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(stackConfig.config)) flat[k] = typeof v === "string" ? v : JSON.stringify(v);
    pulumi.runtime.setAllConfig(flat, stackConfig.secretKeys);
    // Loaded after the mocks are in place, like the program itself.
    const { runTopology } = await import("../stacks");
    const { loadSettings } = await import("../stacks/config");
    const stackOutputs = runTopology(loadSettings());
    const outputs: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(stackOutputs)) {
        if (output === undefined) continue;
        const value = await read(output);
        outputs[key] = (await pulumi.isSecret(output)) ? wrapSecret(value) : value;
    }
    await engine.settle();
    // Registration order depends on when outputs resolve; a sorted list diffs cleanly between runs.
    const resources = [...engine.resources].sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
    const state = Object.fromEntries([...engine.state.entries()].sort(([a], [b]) => a.localeCompare(b)));
    return { resources, files: uploadedFiles(resources), outputs, state };
}

/** Every file uploaded into a container, with its secrecy. */
export function uploadedFiles(resources: ResourceRecord[]): GeneratedFile[] {
    const files: GeneratedFile[] = [];
    for (const r of resources.filter((x) => x.type === "docker:index/container:Container")) {
        const container = String(unwrapSecrets(r.inputs.name));
        const uploadsRaw = r.inputs.uploads;
        const wholeSecret = isSecretWrapper(uploadsRaw);
        const list = (wholeSecret ? (uploadsRaw as { value: unknown[] }).value : (uploadsRaw as unknown[] | undefined)) ?? [];
        for (const entry of list) {
            const e = (isSecretWrapper(entry) ? entry.value : entry) as Record<string, unknown>;
            const content = String(unwrapSecrets(e.content) ?? "");
            // A private key is a secret wherever it was put (a key pasted as a certificate, say).
            const secret = wholeSecret || isSecretWrapper(entry) || isSecretWrapper(e.content) || looksLikePrivateKey(content);
            files.push({ container, path: String(unwrapSecrets(e.file)), content, secret });
        }
    }
    return files;
}
