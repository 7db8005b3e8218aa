/**
 * The `docker.swarm:` section: how the small-team services are placed, published and rolled on a
 * Docker Swarm cluster (with `docker.mode: swarm`).
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { goDuration, parseGoDuration } from "../../primitives/durations";
import { placementConstraint, publishModes, rollbackFailureActions, spreadDescriptor, updateFailureActions, updateOrders } from "../../primitives/swarm";

/** A rolling update (Swarm's `--update-*` flags); `order` has a per-service default. */
const updateSchema = (defaults: { order?: (typeof updateOrders)[number] }) =>
    z
        .strictObject({
            /** start-first (the new task starts before the old one stops) or stop-first. Default: per service. */
            order: defaults.order ? z.enum(updateOrders).default(defaults.order) : z.enum(updateOrders).optional(),
            /** Tasks updated at once. Default: 1. */
            parallelism: z.number().int().min(1, { message: "1 or more tasks at once" }).default(1),
            /** Pause between batches, a Go duration. Default: 5s. */
            delay: goDuration.default("5s"),
            /** How long each new task is watched for failure, a Go duration. Default: 15s. */
            monitor: goDuration.default("15s"),
            /** What a failed update does: rollback, pause or continue. Default: rollback. */
            failureAction: z.enum(updateFailureActions).default("rollback"),
        })
        .prefault({});

/** Where a service's tasks may run. */
const placementFields = {
    /** Swarm constraints, all of which a node must meet (`node.labels.zone==a`, `node.role==manager`, `node.hostname==h1`). Default: []. */
    constraints: z.array(placementConstraint).default([]),
};

export const swarmSchema = z
    .strictObject({
        /** Nodes of the swarm that may run registry-kit's tasks: the preview checks count host-mode proxies and per-node limits against it. Default: 1. */
        nodes: z.number().int().min(1, { message: "1 or more nodes" }).max(64, { message: "at most 64 nodes" }).default(1),
        registry: z
            .strictObject({
                ...placementFields,
                /** Spread preference: tasks are spread evenly over the values of this node attribute. Default: node.id (one replica per node where possible). */
                spread: spreadDescriptor.default("node.id"),
                /** Most replicas on one node; 0 is no limit. Default: 0. */
                maxReplicasPerNode: z.number().int().min(0, { message: "0 (no limit) or more" }).default(0),
                /**
                 * Rolling update. Default order start-first: with shared S3 storage and one `http.secret` a new
                 * replica serves the same data and upload sessions, so it can start before the old one drains.
                 */
                update: updateSchema({ order: "start-first" }),
            })
            .prefault({}),
        proxy: z
            .strictObject({
                ...placementFields,
                /**
                 * host: each task publishes the ports on its node and sees the clients' own addresses (allowlists and
                 * access logs work); ingress: the routing mesh publishes them on every node and replaces client
                 * addresses with its own. Default: host.
                 */
                publishMode: z.enum(publishModes).default("host"),
                /** Proxy tasks; in host mode at most one per node. Default: 1. */
                replicas: z.number().int().min(1, { message: "1 or more replicas" }).max(64, { message: "at most 64 replicas" }).default(1),
                /** Rolling update. Default order: stop-first in host mode (the new task needs the ports the old one holds), start-first in ingress mode. */
                update: updateSchema({}),
            })
            .prefault({}),
        prometheus: z.strictObject({ ...placementFields }).prefault({}),
        redis: z.strictObject({ ...placementFields }).prefault({}),
        /**
         * How often every service's health check runs, a Go duration from 1s to 5m. A new task counts as running
         * (for rolling updates, scaling and replacements) from its first healthy check, one interval after it
         * starts; three failed checks in a row mark it unhealthy and Swarm replaces it. Default: 10s.
         */
        healthInterval: z
            .string()
            .refine(
                (v) => {
                    const ns = parseGoDuration(v);
                    return ns !== undefined && ns >= 1_000_000_000n && ns <= 300_000_000_000n;
                },
                { message: "a Go duration from 1s to 5m, such as 2s, 30s or 1m" },
            )
            .default("10s"),
        /** How long each service update or rollback waits before it gives up (converge timeout), a Go duration. Default: 5m. */
        convergeTimeout: goDuration.default("5m"),
        /** Rollback of a failed update: pause or continue on a failed rollback. Default: pause. */
        rollbackFailureAction: z.enum(rollbackFailureActions).default("pause"),
    })
    .prefault({});
