/**
 * The `catalog:` section: the web page listing repositories and tags, served by the TLS proxy, and
 * CORS on the Registry API for pages hosted elsewhere.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { hostname } from "../../primitives/network";

/** Paths the proxy already serves itself: the page cannot live under them. */
const RESERVED_PATHS = ["/v2/", "/.well-known/", "/healthz/"];

/** Why `value` cannot be the page's path, or undefined. */
export function catalogPathProblem(value: string): string | undefined {
    if (!/^\/(?:[A-Za-z0-9._~-]+\/)+$/.test(value) || value.split("/").some((s) => s === "." || s === "..")) {
        return "a path such as /ui/: starts and ends with '/', segments of letters, digits, '.', '_', '~', '-' (no '.' or '..')";
    }
    const clash = RESERVED_PATHS.find((p) => value.toLowerCase().startsWith(p));
    return clash ? `a path outside ${clash} (the proxy serves that itself)` : undefined;
}

/** Why `value` is not an origin as a browser sends it in `Origin` (`scheme://host[:port]`), or undefined. */
export function originProblem(value: string): string | undefined {
    const form = "an origin as a browser sends it: http:// or https://, a host, an optional port, no path, lower case (such as https://team.pages.example.com)";
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return form;
    }
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== value) return form;
    return undefined;
}

const origin = z.string().superRefine((v, ctx) => {
    const problem = originProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const catalogSchema = z
    .strictObject({
        /** Serve the catalog page at `path` on the registry's hostname (same TLS, same allowlist). Default: false. */
        enabled: z.boolean().default(false),
        /** Where the page lives on the registry's host. Default: /ui/. */
        path: z
            .string()
            .superRefine((v, ctx) => {
                const problem = catalogPathProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .default("/ui/"),
        /**
         * Origins of pages hosted elsewhere (a Git host's pages) that may call the Registry API from a
         * browser: CORS headers and preflight answers for exactly these. Default: [] (no CORS headers).
         */
        allowedOrigins: z.array(origin).default([]),
        /**
         * Serve the page on a host name of its own (same proxy, certificate, TLS settings and allowlist),
         * at `/`, instead of at `path` on the registry's host; the registry's host then allows its origin
         * by CORS. The self-signed certificate names it; ACME requests it too. Default: none.
         */
        hostName: hostname.optional(),
        /**
         * Show delete buttons on the page (the registry must allow deletes: registry.deleteEnabled).
         * htpasswd has no permissions: any signed-in user may then delete. Default: false.
         */
        delete: z.boolean().default(false),
    })
    .superRefine((c, ctx) => {
        c.allowedOrigins.forEach((o, i) => {
            if (c.allowedOrigins.indexOf(o) < i) ctx.addIssue({ code: "custom", path: ["allowedOrigins", i], input: o, message: "an origin not listed twice" });
        });
    })
    .prefault({});

export type CatalogSettings = z.output<typeof catalogSchema>;
