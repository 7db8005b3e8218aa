/**
 * The `gitlab:` section (topology gitlab): GitLab CE as the registry's token issuer, and GitLab's own rules.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { GITLAB_IMAGE, image } from "../../primitives/images";
import { isHostname } from "../../primitives/network";

/**
 * The registry image of the gitlab topology: Distribution 2.8 posts notifications as
 * `application/vnd.docker.distribution.events.v1+json`, the only type GitLab's events endpoint takes;
 * Distribution 3 posts `events.v2+json`.
 */
export const GITLAB_REGISTRY_IMAGE = "registry:2.8.3";

/** Default `iss` of GitLab's registry tokens; one setting feeds both sides. */
export const GITLAB_DEFAULT_ISSUER = "registry-kit-gitlab-issuer";

/**
 * Why GitLab would refuse this initial root password, or undefined. GitLab (15.7+) wants 8 to 128
 * characters and, below 64 characters, none of the words "gitlab" or "devops" nor the user's name,
 * username or email parts of four or more characters (root, Administrator); it also refuses about
 * 4500 known breached passwords, which are not checked here.
 */
export function gitlabPasswordProblem(password: string, rootEmail: string): string | undefined {
    if (password.length < 8) return "at least 8 characters";
    if (password.length > 128) return "at most 128 characters";
    if (password.length >= 64) return undefined;
    const lower = password.toLowerCase();
    const words = [
        "gitlab",
        "devops",
        "root",
        "administrator",
        ...rootEmail
            .toLowerCase()
            .split(/[^a-z0-9]+/)
            .filter((w) => w.length >= 4),
    ];
    const found = [...new Set(words)].find((w) => lower.includes(w));
    return found ? `no "${found}" in it (GitLab refuses passwords containing gitlab, devops or the root user's name, username or email parts)` : undefined;
}

/** gitlab.rb settings that registry-kit owns: an extra line must not set them a second way. */
export const GITLAB_OWNED_SETTINGS = [
    "external_url",
    "registry_external_url",
    "registry['enable']",
    "registry_enabled",
    "registry_host",
    "registry_port",
    "registry_api_url",
    "registry_issuer",
    "registry_key_path",
    "internal_key",
    "registry_notification_secret",
    "initial_root_password",
    "monitoring_whitelist",
];

export const gitlabSchema = z
    .strictObject({
        /** GitLab's URL, `https://<name>[:port]` (topology gitlab). Its port is published by the proxy. Required there. */
        externalUrl: z.string().optional(),
        /** GitLab CE image. Default: gitlab/gitlab-ce:19.4.1-ce.0. */
        image: image.default(GITLAB_IMAGE),
        /** Initial root password, a secret (used once, when GitLab first seeds its database). Default: generated (64 characters, kept in state). */
        rootPassword: z.string().optional(),
        /** Email of the root user. Default: `admin@<GitLab host name>`. */
        rootEmail: z.email({ message: "an email address such as admin@example.com" }).optional(),
        /** `iss` of the registry tokens GitLab signs; the registry is configured with the same value. Default: registry-kit-gitlab-issuer. */
        registryIssuer: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, { message: "letters, digits, '.', '_', ':' and '-', such as gitlab-issuer" })
            .default(GITLAB_DEFAULT_ISSUER),
        /**
         * Registry notifications to GitLab's events endpoint. Distribution 3 posts them as events.v2+json,
         * which GitLab refuses, so registry 3 needs false. Default: true.
         */
        notifications: z.boolean().default(true),
        /** Host port of GitLab's SSH (git over SSH); 0 leaves SSH unpublished. Default: 2222. */
        sshPort: z
            .number()
            .int()
            .min(0, { message: "0 (not published) or a port from 1 to 65535" })
            .max(65535, { message: "0 (not published) or a port from 1 to 65535" })
            .default(2222),
        /** Shared memory of the GitLab container in MiB (GitLab's documented minimum is 256). Default: 256. */
        shmSizeMb: z.number().int().min(256, { message: "at least 256 (GitLab's documented minimum)" }).default(256),
        /** How long `pulumi up` waits for GitLab to become healthy (its first start takes minutes). Default: 900. */
        startTimeoutSeconds: z.number().int().min(60).max(7200).default(900),
        /** Keep GitLab's config, logs and data volumes on destroy. Default: true. */
        retainOnDelete: z.boolean().default(true),
        /** PEM certificate chain for GitLab's host (tls.mode provided). Default: the registry's certificate. */
        certificate: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "a PEM certificate chain" }).optional(),
        /** PEM private key of that certificate, a secret (tls.mode provided). */
        privateKey: z.string().optional(),
        /** More gitlab.rb lines (Ruby), appended after registry-kit's; they may not touch the registry wiring. Default: none. */
        extraConfig: z.string().optional(),
    })
    .prefault({});

/** GitLab's public name and HTTPS port, from `gitlab.externalUrl`; undefined when it is not a usable https:// URL. */
export function gitlabEndpoint(externalUrl: string | undefined): { hostname: string; port: number; url: string } | undefined {
    if (externalUrl === undefined) return undefined;
    let u: URL;
    try {
        u = new URL(externalUrl);
    } catch {
        return undefined;
    }
    if (u.protocol !== "https:" || u.username || u.password || u.search || u.hash || (u.pathname !== "/" && u.pathname !== "")) return undefined;
    if (u.port === "0") return undefined;
    const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
    if (!isHostname(hostname)) return undefined;
    const port = u.port === "" ? 443 : Number(u.port);
    return { hostname, port, url: `https://${u.host}` };
}
