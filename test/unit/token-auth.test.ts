/**
 * Token-auth groundwork for the gitlab topology: libtrust key ids, the JWKS, the registry section.
 */
import * as crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { issuerJwks, libtrustKeyId, tokenAuthSection } from "../../renderers/token-auth";

const { publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = publicKey.export({ type: "spki", format: "pem" }).toString();

describe("libtrust key id", () => {
    it("is twelve groups of four base32 characters from the first 240 bits of SHA-256(SPKI DER)", () => {
        const kid = libtrustKeyId(pem);
        expect(kid).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
        // Recomputed independently: base32 of the 30-byte prefix, via a bit string.
        const digest = crypto
            .createHash("sha256")
            .update(publicKey.export({ type: "spki", format: "der" }))
            .digest()
            .subarray(0, 30);
        const bitString = [...digest].map((b) => b.toString(2).padStart(8, "0")).join("");
        const chars = bitString
            .match(/.{5}/g)!
            .map((b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[parseInt(b, 2)])
            .join("");
        expect(kid.replace(/:/g, "")).toBe(chars);
        expect(libtrustKeyId(pem)).toBe(kid);
    });
});

describe("JWKS and auth.token", () => {
    it("publishes the RSA key under the libtrust kid, and verifies a token signed by the private key's pair", () => {
        const jwks = issuerJwks(pem);
        expect(jwks.keys).toHaveLength(1);
        expect(jwks.keys[0]).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256", kid: libtrustKeyId(pem) });
        const roundTrip = crypto.createPublicKey({ key: jwks.keys[0] as crypto.JsonWebKey, format: "jwk" });
        expect(roundTrip.export({ type: "spki", format: "pem" })).toBe(pem);
        const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
        expect(() => issuerJwks(ec)).toThrow(/must be RSA/);
    });

    it("writes the token section per dialect", () => {
        const base = { realm: "https://gitlab.example.com/jwt/auth", issuer: "gitlab-issuer" };
        expect(tokenAuthSection({ ...base, dialect: "v2" })).toEqual({
            token: { realm: base.realm, service: "container_registry", issuer: "gitlab-issuer", rootcertbundle: "/auth/token-issuer.crt" },
        });
        expect((tokenAuthSection({ ...base, dialect: "v3" }) as any).token.jwks).toBe("/auth/token-issuer.jwks.json");
        expect(() => tokenAuthSection({ ...base, realm: "http://gitlab.example.com/jwt/auth", dialect: "v3" })).toThrow(/realm/);
    });
});
