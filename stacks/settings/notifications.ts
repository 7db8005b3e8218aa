/**
 * The `notifications:` section: webhooks, Distribution's notification endpoints, one per receiver (CI
 * triggers, chat relays, webhook receivers). The secret and headers are secrets (set with --secret).
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { goDuration } from "../../primitives/durations";
import { isHttpUrl } from "../../primitives/network";
import { isHeaderName, maskableHeaderValue, NOTIFICATION_ACTIONS } from "../../primitives/registry";

const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MASKABLE = 'one line without "]" (the registry logs its endpoints\' headers; registry-kit masks each value up to its first "]")';

const actions = z.array(z.enum(NOTIFICATION_ACTIONS)).refine((l) => new Set(l).size === l.length, { message: "each action once" });

const endpoint = z.strictObject({
    /** Endpoint name in the registry's logs and metrics. Required. */
    name: z.string().regex(ENDPOINT_NAME, { message: "a simple name: letters, digits, '.', '_', '-', starting with a letter or digit" }),
    /** URL the registry posts events to. Required. */
    url: z
        .string()
        .refine(isHttpUrl, { message: "an http:// or https:// URL" })
        .refine((u) => !/^https?:\/\/[^/@\s]*@/.test(u), {
            message: "a URL without user:password@ (the registry logs the URL; put credentials in secret or headers)",
        }),
    /** Value of the Authorization header (e.g. `Bearer …`), set with --secret. Default: none (no Authorization header). */
    secret: z.string().min(1).refine(maskableHeaderValue, { message: MASKABLE }).optional(),
    /** More headers sent with every event, name → value, set with --secret. Default: none. */
    headers: z
        .record(z.string(), z.string().refine(maskableHeaderValue, { message: MASKABLE }))
        .superRefine((h, ctx) => {
            for (const name of Object.keys(h)) {
                if (!isHeaderName(name) || name.toLowerCase() === "authorization")
                    ctx.addIssue({
                        code: "custom",
                        path: [name],
                        input: "[secret]",
                        message: `a header name (RFC 9110 token) other than Authorization (use secret for that); got the name ${JSON.stringify(name)}`,
                    });
            }
        })
        .optional(),
    /** HTTP timeout of one delivery (Go duration). Default: 500ms. */
    timeout: goDuration.default("500ms"),
    /** Failed deliveries in a row before the endpoint backs off. Default: 5. */
    threshold: z.number().int().min(1).max(1000).default(5),
    /** How long the endpoint backs off before it tries again (Go duration). Default: 1s. */
    backoff: goDuration.default("1s"),
    /** Actions whose events are sent, of push, pull, mount, delete (the others become `ignore.actions`). Default: all four. */
    events: actions.refine((l) => l.length > 0, { message: "at least one action (to send nothing, remove the endpoint)" }).optional(),
    /** Target media types whose events are not sent (Distribution's `ignoredmediatypes`). Default: none. */
    ignoredMediaTypes: z.array(z.string().min(1)).optional(),
    /** Events not sent, as Distribution's `ignore`: by target media type and by action. Default: none. */
    ignore: z
        .strictObject({
            /** Target media types (`ignore.mediatypes`). Default: none. */
            mediaTypes: z.array(z.string().min(1)).optional(),
            /** Actions (`ignore.actions`), of push, pull, mount, delete. Default: none. */
            actions: actions.optional(),
        })
        .optional(),
});

export const notificationsSchema = z
    .strictObject({
        /**
         * Endpoints the registry notifies of pushes, pulls, mounts and deletes. Distribution cannot
         * filter by repository: a receiver filters on the event's `target.repository`. Default: none.
         */
        endpoints: z.array(endpoint).default([]),
    })
    .superRefine((n, ctx) => {
        const seen = new Set<string>();
        n.endpoints.forEach((e, i) => {
            if (seen.has(e.name)) ctx.addIssue({ code: "custom", path: ["endpoints", i, "name"], input: e.name, message: "a name no other endpoint has" });
            seen.add(e.name);
            const both = (e.events ?? []).filter((a) => e.ignore?.actions?.includes(a));
            if (both.length > 0)
                ctx.addIssue({
                    code: "custom",
                    path: ["endpoints", i, "ignore", "actions"],
                    input: both.join(", "),
                    message: "no action that events lists (events sends it, ignore.actions drops it)",
                });
        });
    })
    .prefault({});
