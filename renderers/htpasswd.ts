/**
 * htpasswd file content with bcrypt entries, deterministic for the same users, passwords and seed.
 * Pure: no Pulumi, no I/O. The registry accepts only bcrypt entries.
 */
import { createHmac } from "node:crypto";
import * as bcrypt from "bcryptjs";

export interface HtpasswdUser {
    name: string;
    password: string;
    /** This entry's bcrypt cost. Default: the file's. */
    cost?: number;
}

/**
 * The salt of one user's entry: HMAC-SHA256(seed, name) cut to bcrypt's 16 salt bytes. A stable seed
 * (kept in Pulumi state) gives stable entries, so an unchanged user list never causes a diff, while
 * each user still gets a salt of their own.
 */
export function bcryptSalt(seed: string, name: string, cost: number): string {
    const bytes = createHmac("sha256", seed).update(name).digest().subarray(0, 16);
    const rounds = String(cost).padStart(2, "0");
    return `$2y$${rounds}$${bcrypt.encodeBase64(Array.from(bytes), 16)}`;
}

/** One `name:hash` line per user, in the given order, newline-terminated. */
export function renderHtpasswd(users: HtpasswdUser[], seed: string, cost = 10): string {
    if (seed.length < 16) throw new Error("htpasswd: the salt seed must be at least 16 characters");
    return users
        .map((u) => {
            if (!u.name || u.name.includes(":")) throw new Error(`htpasswd: user name ${JSON.stringify(u.name)} must be non-empty and contain no ':'`);
            if (!u.password) throw new Error(`htpasswd: the password of user ${JSON.stringify(u.name)} is empty`);
            // $2y$ as htpasswd writes it; the registry (Go x/crypto/bcrypt) reads $2a$, $2b$ and $2y$.
            return `${u.name}:${bcrypt.hashSync(u.password, bcryptSalt(seed, u.name, u.cost ?? cost))}\n`;
        })
        .join("");
}

/**
 * The password the TLS proxy sends on for `name` toward the registry behind its check:
 * HMAC-SHA256(secret, name), hex (256 bits; bcrypt reads its first 72 bytes, all 64 of it). Only the
 * proxy (and Pulumi state) holds the secret.
 */
export function proxiedPassword(secret: string, name: string): string {
    return createHmac("sha256", secret).update(`registry-kit-proxy:${name}`).digest("hex");
}

/** bcrypt's minimum cost, for the derived passwords: 256 random bits need no stretching. */
export const PROXIED_BCRYPT_COST = 4;

/**
 * The registry's file behind the proxy's check: per user `<name>` with the derived password at cost 4
 * (what the proxy sends on), then `<name><suffix>` with the user's own password at `cost` (what the
 * proxy's verification asks about).
 */
export function renderProxiedHtpasswd(users: HtpasswdUser[], seed: string, cost: number, secret: string, suffix: string): string {
    return renderHtpasswd(
        users.flatMap((u) => [
            { name: u.name, password: proxiedPassword(secret, u.name), cost: PROXIED_BCRYPT_COST },
            { name: `${u.name}${suffix}`, password: u.password, cost },
        ]),
        seed,
        cost,
    );
}

/**
 * The proxy's verdict-cache key: HMAC-SHA256(secret, htpasswd content), hex. Any change of a user or
 * password changes the content and so the key, which makes every cached verdict unreachable.
 */
export function verdictCacheKey(secret: string, content: string): string {
    return createHmac("sha256", secret).update(content).digest("hex");
}
