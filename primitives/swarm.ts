/**
 * Docker Swarm's grammar for service placement and rolling updates: constraints (`node.labels.zone==a`),
 * spread preferences, update orders and failure actions. The bottom layer: imports nothing of
 * registry-kit's.
 */
import { z } from "zod";

/** The node attributes a constraint may name besides labels (Docker's service create reference). */
export const CONSTRAINT_ATTRIBUTES = ["node.id", "node.hostname", "node.role", "node.platform.os", "node.platform.arch"] as const;

/** The rule a constraint must follow, as a message says it. */
export const CONSTRAINT_RULE =
    "a Swarm constraint `<attribute>==<value>` or `<attribute>!=<value>` where the attribute is node.id, node.hostname, node.role (manager or worker), node.platform.os, node.platform.arch, node.labels.<name> or engine.labels.<name>";

/** Why `text` is not a placement constraint Swarm accepts, or undefined when it is one. */
export function constraintProblem(text: string): string | undefined {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*(==|!=)\s*(\S(?:.*\S)?)\s*$/.exec(text);
    if (!m) return CONSTRAINT_RULE;
    const [, key, , value] = m;
    const label = /^(node|engine)\.labels\.[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(key);
    if (!label && !(CONSTRAINT_ATTRIBUTES as readonly string[]).includes(key)) return CONSTRAINT_RULE;
    if (key === "node.role" && value !== "manager" && value !== "worker") return "node.role==manager, node.role==worker or their != forms";
    return undefined;
}

export const placementConstraint = z.string().superRefine((v, ctx) => {
    const problem = constraintProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Whether the constraint puts every task on one node: `node.hostname==x`, `node.id==x` or a label equality. */
export function pinsNode(constraint: string): boolean {
    return /^\s*(node\.hostname|node\.id|node\.labels\.[^=!\s]+)\s*==/.test(constraint);
}

/** A spread preference's descriptor: `node.id`, `node.labels.<name>` or `engine.labels.<name>`. */
export const spreadDescriptor = z.string().regex(/^(node\.id|(node|engine)\.labels\.[A-Za-z0-9_][A-Za-z0-9_.-]*)$/, {
    message: "node.id, node.labels.<name> or engine.labels.<name>",
});

export const updateOrders = ["start-first", "stop-first"] as const;
export const updateFailureActions = ["rollback", "pause", "continue"] as const;
export const rollbackFailureActions = ["pause", "continue"] as const;
export const publishModes = ["host", "ingress"] as const;
