/**
 * Groundwork for the gitlab topology, proven with the real registry 2.8: a registry configured by
 * tokenAuthSection accepts an RS256 token whose `kid` is libtrustKeyId of the signing key (as GitLab
 * signs them), and refuses another kid, another issuer and another audience.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { selfSignedCert } from "../../offline/crypto";
import { REGISTRY_DEBUG_LOOPBACK_PORT, registryConfig } from "../../renderers/registry-config";
import { libtrustKeyId, TOKEN_CERT_PATH, tokenAuthSection } from "../../renderers/token-auth";
import { docker, eventually, prepare, removeByPrefix, waitHealthy } from "./harness";

const PREFIX = "rk-token";
const PORT = 58500;
const ISSUER = "gitlab-issuer";
const work = fs.mkdtempSync(path.join(os.tmpdir(), "rk-token-"));
const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();

function token(claims: Record<string, unknown> = {}, kid = libtrustKeyId(publicPem)): string {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const body = {
        iss: ISSUER,
        sub: "root",
        aud: "container_registry",
        iat: now,
        nbf: now - 5,
        exp: now + 300,
        jti: crypto.randomUUID(),
        access: [{ type: "repository", name: "group/project", actions: ["pull", "push"] }],
        ...claims,
    };
    const signingInput = `${b64({ typ: "JWT", alg: "RS256", kid })}.${b64(body)}`;
    return `${signingInput}.${crypto.sign("RSA-SHA256", Buffer.from(signingInput), privateKey).toString("base64url")}`;
}

async function status(bearer: string): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${PORT}/v2/group/project/tags/list`, { headers: { Authorization: `Bearer ${bearer}` } });
    return res.status;
}

describe("registry token auth with a GitLab-style issuer key", () => {
    beforeAll(async () => {
        prepare(PREFIX, ["registry"]);
        const cert = await selfSignedCert({
            privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
            subject: { commonName: "gitlab-registry-token-issuer" },
            validityPeriodHours: 24,
            allowedUses: ["digital_signature"],
        });
        const config = registryConfig({
            dialect: "v2",
            storage: { kind: "filesystem", rootDirectory: "/var/lib/registry" },
            deleteEnabled: true,
            uploadPurging: { enabled: false, age: "168h", interval: "24h", dryrun: false },
            logLevel: "info",
            extraConfig: { auth: tokenAuthSection({ dialect: "v2", realm: "https://gitlab.example.com/jwt/auth", issuer: ISSUER }) },
        });
        fs.writeFileSync(path.join(work, "config.yml"), stringify(config));
        fs.mkdirSync(path.join(work, "auth"));
        fs.writeFileSync(path.join(work, "auth", path.basename(TOKEN_CERT_PATH)), cert.certPem);
        docker(
            "create",
            "--name",
            `${PREFIX}-registry`,
            "--dns",
            "127.0.0.1",
            "-p",
            `127.0.0.1:${PORT}:5000`,
            "--health-cmd",
            `wget -q -O /dev/null http://127.0.0.1:${REGISTRY_DEBUG_LOOPBACK_PORT}/debug/health`,
            "--health-interval",
            "2s",
            "registry-kit-test/registry:2",
            "/etc/docker/registry/config.yml",
        );
        docker("cp", path.join(work, "config.yml"), `${PREFIX}-registry:/etc/docker/registry/config.yml`);
        docker("cp", path.join(work, "auth"), `${PREFIX}-registry:${path.dirname(TOKEN_CERT_PATH)}`);
        docker("start", `${PREFIX}-registry`);
        await waitHealthy([`${PREFIX}-registry`]);
    });

    afterAll(() => {
        removeByPrefix(`${PREFIX}-`);
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("challenges for a token from the realm", async () => {
        const res = await eventually("the registry to answer", () => fetch(`http://127.0.0.1:${PORT}/v2/`));
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toBe('Bearer realm="https://gitlab.example.com/jwt/auth",service="container_registry"');
    });

    it("accepts a token signed with the issuer key under its libtrust kid", async () => {
        expect(await status(token())).toBe(404); // authorised; the repository does not exist yet
    });

    it("refuses another kid, another issuer, another audience, an expired token and another repository", async () => {
        const otherKid = libtrustKeyId(crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString());
        expect(await status(token({}, otherKid))).toBe(401);
        expect(await status(token({ iss: "someone-else" }))).toBe(401);
        expect(await status(token({ aud: "other-service" }))).toBe(401);
        expect(await status(token({ exp: Math.floor(Date.now() / 1000) - 60, nbf: Math.floor(Date.now() / 1000) - 120 }))).toBe(401);
        expect(await status(token({ access: [{ type: "repository", name: "group/other", actions: ["pull"] }] }))).toBe(401);
    });
});
