/**
 * Token authentication against an external issuer (GitLab's `/jwt/auth`): the libtrust key id GitLab
 * puts in a token's `kid`, the JWKS file registry:3 needs to match it, and the registry's `auth.token`
 * section in each dialect. Pure: no Pulumi, no I/O. Groundwork for the gitlab topology.
 */
import { createHash, createPublicKey } from "node:crypto";
import { RegistryDialect } from "../primitives/registry";

/** GitLab's registry service name, the `aud` of its tokens. */
export const GITLAB_REGISTRY_SERVICE = "container_registry";
export const TOKEN_CERT_PATH = "/auth/token-issuer.crt";
export const TOKEN_JWKS_PATH = "/auth/token-issuer.jwks.json";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Buffer): string {
    let bits = 0;
    let value = 0;
    let out = "";
    for (const byte of bytes) {
        value = (value << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            out += BASE32[(value >>> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
    return out;
}

/**
 * libtrust's key id: SHA-256 of the DER SubjectPublicKeyInfo, cut to 240 bits, base32 without padding,
 * in twelve colon-separated groups of four (`ABCD:EFGH:…`).
 */
export function libtrustKeyId(publicKeyPem: string): string {
    const der = createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
    const encoded = base32(createHash("sha256").update(der).digest().subarray(0, 30));
    return encoded.match(/.{4}/g)!.join(":");
}

/** A JWKS with the issuer's public key (PEM of the key or of its certificate) under GitLab's `kid`, as registry:3 reads it. */
export function issuerJwks(publicKeyPem: string): { keys: Record<string, unknown>[] } {
    const jwk = createPublicKey(publicKeyPem).export({ format: "jwk" }) as Record<string, unknown>;
    if (jwk.kty !== "RSA") throw new Error("token issuer key: GitLab signs with RS256, so the key must be RSA");
    return { keys: [{ kty: "RSA", use: "sig", alg: "RS256", kid: libtrustKeyId(publicKeyPem), n: jwk.n, e: jwk.e }] };
}

export interface TokenAuthInput {
    dialect: RegistryDialect;
    /** `https://<gitlab host>/jwt/auth`. */
    realm: string;
    /** The `iss` GitLab writes (gitlab_rails['registry_issuer']). */
    issuer: string;
    /** Default: container_registry. */
    service?: string;
}

/**
 * The registry's `auth.token`: registry 2 matches a token's `kid` against the certificate bundle;
 * registry 3 needs the JWKS as well.
 */
export function tokenAuthSection(input: TokenAuthInput): Record<string, unknown> {
    if (!/^https:\/\/[^/]+\/jwt\/auth$/.test(input.realm)) throw new Error(`token auth: realm ${JSON.stringify(input.realm)} is not https://<host>/jwt/auth`);
    return {
        token: {
            realm: input.realm,
            service: input.service ?? GITLAB_REGISTRY_SERVICE,
            issuer: input.issuer,
            rootcertbundle: TOKEN_CERT_PATH,
            ...(input.dialect === "v3" ? { jwks: TOKEN_JWKS_PATH } : {}),
        },
    };
}
