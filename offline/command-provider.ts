/**
 * What `pulumi up` does to a resource whose inputs went from one evaluation to the next, by the rules of the
 * pinned provider. Only @pulumi/command is modelled here (other providers have ForceNew sets of their own).
 *
 * @pulumi/command 1.2.1 (provider/pkg/provider/common/inputs.go, `ResourceInputs`): `triggers` is the only input
 * tagged `provider:"replaceOnChanges"`; `connection` (remote/command.go, `CommandInputs`) is tagged `secret` only,
 * and so are create, update, delete, stdin, environment and logging: a change of any of them is an update, which
 * runs `update` (or `create`) with the new inputs, on the new connection. The SDK registers the same rule as the
 * resource option `replaceOnChanges: ["triggers[*]"]` (remote/command.js, local/command.js), which the offline
 * engine records. A change of type or name is a new resource: create the new one, delete the old one.
 */
import { stableJson } from "./engine";

export type Step = "same" | "update" | "replace";

/** What the step needs of a resource: as the offline engine records it, or as render's manifest.json lists it. */
export interface PlannedResource {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    options: { replaceOnChanges?: string[] };
}

/** Inputs of @pulumi/command 1.2.1 whose change replaces the resource. */
export const COMMAND_REPLACE_ON_CHANGES = ["triggers"];

export function commandStep(olds: PlannedResource, news: PlannedResource): Step {
    if (!olds.type.startsWith("command:") || !news.type.startsWith("command:")) throw new Error(`offline diff: ${news.type} is not modelled`);
    if (olds.type !== news.type || olds.name !== news.name) return "replace";
    const keys = new Set([...Object.keys(olds.inputs), ...Object.keys(news.inputs)]);
    const changed = [...keys].filter((k) => stableJson(olds.inputs[k] ?? null) !== stableJson(news.inputs[k] ?? null));
    if (changed.length === 0) return "same";
    const replacing = new Set([...COMMAND_REPLACE_ON_CHANGES, ...(news.options.replaceOnChanges ?? []).map((p) => p.split(/[.[]/)[0])]);
    return changed.some((k) => replacing.has(k)) ? "replace" : "update";
}
