/**
 * Validation of component args that are plain values, when the component is constructed: a library
 * user's bad argument fails at preview with the argument's name, before any resource is registered.
 * Outputs are checked later by the renderers, once their values are known.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { formatIssues } from "../primitives/issues";

function isPlain(v: unknown): boolean {
    if (pulumi.Output.isInstance(v) || v instanceof Promise) return false;
    if (Array.isArray(v)) return v.every(isPlain);
    if (v !== null && typeof v === "object") return Object.values(v).every(isPlain);
    return true;
}

/** Throws one error naming every plain argument that `shape` rejects. */
export function validateArgs(component: string, name: string, args: object, shape: Record<string, z.ZodType>): void {
    const plain: Record<string, unknown> = {};
    const checks: Record<string, z.ZodType> = {};
    for (const [key, schema] of Object.entries(shape)) {
        const value = (args as Record<string, unknown>)[key];
        if (value === undefined || !isPlain(value)) continue;
        plain[key] = value;
        checks[key] = schema;
    }
    const schema = z.object(checks);
    const result = schema.safeParse(plain);
    if (!result.success) {
        throw new Error(`${component} "${name}": invalid arguments:\n${formatIssues(result.error.issues, plain, "args.", schema)}`);
    }
}
