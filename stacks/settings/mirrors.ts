/**
 * The `mirrors:` section: pull-through caches of other registries (Docker Hub, ghcr.io, quay.io, a private
 * registry), one Distribution container in proxy mode per upstream, behind the same TLS proxy.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { goDuration } from "../../primitives/durations";
import { dockerName } from "../../primitives/names";
import { hostname, port } from "../../primitives/network";

/** Hosts of Docker Hub's registry API: a mirror of it is what Docker's `registry-mirrors` accepts. */
export const DOCKER_HUB_HOSTS = ["registry-1.docker.io", "index.docker.io"];

/** Why `url` cannot be a mirror's upstream, or undefined; `allowHttp` accepts http://. */
export function upstreamUrlProblem(url: string, allowHttp: boolean): string | undefined {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        return "an https:// URL of a registry, such as https://registry-1.docker.io, https://ghcr.io or https://quay.io";
    }
    if (u.protocol !== "https:" && !(allowHttp && u.protocol === "http:")) {
        return u.protocol === "http:"
            ? "an https:// URL (or allowHttp: true for an upstream you reach over plain HTTP on a network you trust)"
            : "an https:// URL of a registry, such as https://registry-1.docker.io";
    }
    if (u.username || u.password) return "a URL without credentials (set username and password, the password with --secret)";
    if (u.hostname === "" || u.port === "0") return "an https:// URL with a host, such as https://ghcr.io";
    if ((u.pathname !== "/" && u.pathname !== "") || u.search || u.hash) {
        return "a URL with a host and optional port only (the registry API is at /v2/ of it), such as https://quay.io";
    }
    if (["docker.io", "hub.docker.com", "www.docker.com"].includes(u.hostname.toLowerCase())) {
        return "https://registry-1.docker.io for Docker Hub (its registry API; docker.io is the name clients write)";
    }
    return undefined;
}

export const mirrorSchema = z
    .strictObject({
        /** Name of the mirror: its container (`<prefix>-mirror-<name>`), volume, scrape target and outputs. Required. */
        name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, { message: "1 to 31 lower-case letters, digits and '-', starting with a letter or digit" }),
        /** The upstream registry: `https://registry-1.docker.io`, `https://ghcr.io`, `https://quay.io`, your own. Required. */
        upstream: z.string(),
        /** Accept an http:// upstream. Default: false. */
        allowHttp: z.boolean().default(false),
        /** Whether the upstream is Docker Hub (the mirror then appears in Docker's `registry-mirrors`). Default: true for registry-1.docker.io. */
        dockerHub: z.boolean().optional(),
        /** User name at the upstream. Default: none (anonymous pulls from the upstream). */
        username: z.string().min(1, { message: "a non-empty user name" }).optional(),
        /** Password or token at the upstream, a secret. Default: none. */
        password: z.string().min(1, { message: "a non-empty password or token" }).optional(),
        /** How long cached content is kept before it is fetched again (`proxy.ttl`, a Go duration). Default: 168h. */
        ttl: goDuration.default("168h"),
        /** Host name clients use for this mirror (on proxy.httpsPort, by SNI). Default: none (then httpsPort is required). */
        hostname: hostname.optional(),
        /** A host port of its own on the proxy (on `hostname`, or on the registry's host name). Default: none (then hostname is required). */
        httpsPort: port.optional(),
        /** Let anyone the proxy's allowlist admits pull without credentials (read-only). Default: false (the registry's htpasswd users). */
        anonymous: z.boolean().default(false),
        /** Docker volume of the cache (filesystem storage). Default: `<prefix>-mirror-<name>-data`. */
        volumeName: dockerName.optional(),
        /** Keep that volume on `pulumi destroy`. Default: true. */
        retainOnDelete: z.boolean().default(true),
    })
    .superRefine((m, ctx) => {
        const issue = (path: string, input: unknown, message: string) => ctx.addIssue({ code: "custom", path: [path], input, message });
        const problem = upstreamUrlProblem(m.upstream, m.allowHttp);
        if (problem) issue("upstream", m.upstream, problem);
        if ((m.username === undefined) !== (m.password === undefined)) {
            issue(m.username === undefined ? "username" : "password", undefined, "both username and password (set with --secret), or neither");
        }
        if (m.hostname === undefined && m.httpsPort === undefined) {
            issue("hostname", undefined, "a host name for the mirror (its own name on the proxy), or httpsPort (a port of its own): how clients reach it");
        }
    });

/** The mirrors: one pull-through cache per upstream. Default: []. */
export const mirrorsSchema = z.array(mirrorSchema).default([]);

export type MirrorSettings = z.output<typeof mirrorSchema>;

/** Whether a mirror's upstream is Docker Hub: its `dockerHub` setting, else its host. */
export function isDockerHubMirror(m: Pick<MirrorSettings, "upstream" | "dockerHub">): boolean {
    if (m.dockerHub !== undefined) return m.dockerHub;
    try {
        return DOCKER_HUB_HOSTS.includes(new URL(m.upstream).hostname.toLowerCase());
    } catch {
        return false;
    }
}
