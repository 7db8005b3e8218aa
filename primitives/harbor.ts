/**
 * Facts about Harbor that decide what registry-kit accepts: the release whose installer it renders for,
 * what Harbor's `prepare` and API refuse, and where its data may live. The bottom layer: imports only
 * other primitives.
 */
import { isLocalhostName, isLoopbackOrUnspecifiedAddress } from "./network";

/** The Harbor minor version whose installer template (harbor.yml.tmpl) templates/harbor.yml.mustache follows. */
export const HARBOR_SCHEMA_VERSION = "2.15.0";
/** The Harbor version installed unless one is pinned. */
export const HARBOR_DEFAULT_VERSION = "v2.15.0";
/** Drivers Harbor's `prepare` accepts under `storage_service` (make/photon/prepare/utils/configs.py). */
export const HARBOR_STORAGE_DRIVERS = ["filesystem", "azure", "gcs", "s3", "swift", "oss"] as const;
/** The drivers registry-kit renders (its Storage component's kinds). */
export const HARBOR_RENDERED_DRIVERS = ["filesystem", "s3"] as const;
/** Log levels Harbor's `prepare` accepts. */
export const HARBOR_LOG_LEVELS = ["debug", "info", "warning", "error", "fatal"] as const;
/** Components that may go through the HTTP proxy (the installer template's list). */
export const HARBOR_PROXY_COMPONENTS = ["core", "jobservice", "registry", "trivy"] as const;

/** `v2.15.1` → { major: 2, minor: 15, patch: 1 }, or undefined when it is not such a version. */
export function parseHarborVersion(version: string): { major: number; minor: number; patch: number } | undefined {
    const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
    return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Why Harbor would refuse this hostname, or undefined. Its prepare refuses 127.0.0.1; its installer says never localhost. */
export function harborHostnameProblem(hostname: string): string | undefined {
    const lower = hostname.toLowerCase().replace(/\.$/, "");
    if (isLocalhostName(lower)) return "localhost, which clients on other machines cannot reach (Harbor's installer refuses it)";
    if (lower === "reg.mydomain.com") return "the installer template's placeholder (Harbor's prepare refuses it)";
    if (isLoopbackOrUnspecifiedAddress(lower)) return "a loopback or unspecified address (Harbor's prepare refuses 127.0.0.1)";
    return undefined;
}

/** Why Harbor would refuse this password (src/server/v2.0/handler/user.go: 8 to 128 characters, an upper, a lower, a digit), or undefined. */
export function harborPasswordProblem(password: string): string | undefined {
    const missing: string[] = [];
    if (password.length < 8 || password.length > 128) missing.push("8 to 128 characters");
    if (!/[A-Z]/.test(password)) missing.push("an uppercase letter");
    if (!/[a-z]/.test(password)) missing.push("a lowercase letter");
    if (!/[0-9]/.test(password)) missing.push("a digit");
    return missing.length ? `Harbor's password rules: ${missing.join(", ")}` : undefined;
}

/**
 * Why `dataVolume` cannot be Harbor's data_volume next to `installDir`, or undefined. Upgrades move the
 * install directory aside (previous/, .staging/): data under it would move or be deleted with it.
 */
export function harborDataVolumeProblem(dataVolume: string, installDir: string): string | undefined {
    const norm = (p: string) => p.replace(/\/{2,}/g, "/").replace(/(.)\/+$/, "$1");
    const data = norm(dataVolume);
    const dir = norm(installDir);
    if (data.split("/").some((segment) => segment === "." || segment === "..")) return "an absolute path without '.' or '..' segments";
    if (data === "/") return "a directory of its own such as /data, not / (Harbor's containers take over what they find in data_volume)";
    const inside = (a: string, b: string) => a === b || a.startsWith(b === "/" ? "/" : `${b}/`);
    if (inside(data, dir)) return `a directory outside the install directory ${dir}: upgrades move ${dir}/harbor to ${dir}/previous and replace it`;
    if (inside(dir, data)) return `a directory that does not contain the install directory ${dir}: data_volume is Harbor's alone`;
    return undefined;
}

/**
 * Why `url` cannot be the installer URL, or undefined: an https://, http:// or file:// URL without
 * credentials, which would be printed in the command text, the preview and the logs.
 */
export function harborInstallerUrlProblem(url: string): string | undefined {
    if (!/^(https?|file):\/\/\S+$/.test(url)) return "an https://, http:// or file:// URL of the offline installer";
    if (/^[a-z]+:\/\/[^/?#]*@/i.test(url))
        return "a URL without user:password@ (it would show in the command text, the preview and logs); put the credentials in ~/.netrc of the SSH user on Harbor's host, which the download reads";
    return undefined;
}
