/**
 * Provided certificates are checked at preview: PEM that parses, a key that belongs to the certificate, the names
 * it must carry; a private key where a certificate goes is refused and never echoed, wherever it appears.
 */
import * as crypto from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { selfSignedCert } from "../../offline/crypto";
import { maskSecrets, wrapSecret } from "../../offline/engine";
import { uploadedFiles } from "../../offline/evaluate";
import { parseSettings } from "../../stacks/config";

const keyPem = () => crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const certFor = async (key: string, dnsNames: string[]) =>
    (await selfSignedCert({ privateKeyPem: key, validityPeriodHours: 24, allowedUses: ["server_auth"], dnsNames, subject: { commonName: dnsNames[0] } }))
        .certPem;

let key: string;
let cert: string;
let otherKey: string;
let gitlabKey: string;
let gitlabCert: string;
let bothNamesCert: string;
beforeAll(async () => {
    key = keyPem();
    cert = await certFor(key, ["registry.example.com"]);
    otherKey = keyPem();
    gitlabKey = keyPem();
    gitlabCert = await certFor(gitlabKey, ["gitlab.example.com"]);
    bothNamesCert = await certFor(key, ["registry.example.com", "*.example.com"]);
});

const base = { hostname: "registry.example.com" };
const provided = (tls: Record<string, unknown>) => ({ ...base, tls: { mode: "provided", ...tls } });
const failure = (raw: Record<string, unknown>) => settingsFailure(raw, ["tls", "gitlab", "auth"]);
const gitlab = (g: Record<string, unknown>, tls: Record<string, unknown>) => ({
    topology: "gitlab",
    ...base,
    tls: { mode: "provided", ...tls },
    gitlab: { externalUrl: "https://gitlab.example.com", ...g },
});

describe("tls.certificate and tls.privateKey (tls.mode provided)", () => {
    it("accepts a certificate, its key and a chain, for the hostname", () => {
        expect(parseSettings(provided({ certificate: cert, privateKey: key }), ["tls"]).tls.certificate).toBe(cert);
        expect(() => parseSettings(provided({ certificate: cert + bothNamesCert, privateKey: key }), ["tls"])).not.toThrow();
        // A wildcard name covers the hostname; an RSA PKCS#1 key parses too.
        expect(() => parseSettings(provided({ certificate: bothNamesCert, privateKey: key }), ["tls"])).not.toThrow();
    });

    it("refuses a certificate that is not PEM, truncated, or followed by junk", () => {
        expect(failure(provided({ certificate: "hello", privateKey: key }))).toContain(
            'registry-kit:tls.certificate: got "(PEM)"; allowed: a PEM certificate chain (-----BEGIN CERTIFICATE----- blocks, server certificate first)',
        );
        const truncated = cert.slice(0, cert.length - 40);
        expect(failure(provided({ certificate: truncated, privateKey: key }))).toContain(
            'registry-kit:tls.certificate: got "(PEM)"; allowed: a PEM certificate chain',
        );
        const corrupt = cert.replace(/\n[A-Za-z0-9+/]{10}/, "\nAAAAAAAAAA");
        expect(failure(provided({ certificate: corrupt, privateKey: key }))).toMatch(
            /registry-kit:tls\.certificate: got "\(PEM\)"; allowed: a PEM certificate chain .*parse/,
        );
        expect(failure(provided({ certificate: cert + "garbage", privateKey: key }))).toContain("registry-kit:tls.certificate:");
    });

    it("refuses a key that is not a key, or belongs to another certificate", () => {
        expect(failure(provided({ certificate: cert, privateKey: "not a key" }))).toContain(
            "registry-kit:tls.privateKey: got [secret]; allowed: an unencrypted PEM private key that parses (PKCS#8, PKCS#1 or SEC1)",
        );
        expect(failure(provided({ certificate: cert, privateKey: otherKey }))).toContain(
            "registry-kit:tls.privateKey: got [secret]; allowed: the private key of tls.certificate's first certificate (this one belongs to another certificate)",
        );
    });

    it("refuses a certificate that does not name the hostname", () => {
        expect(failure({ ...provided({ certificate: cert, privateKey: key }), hostname: "other.example.org" })).toContain(
            'registry-kit:tls.certificate: got "(PEM)"; allowed: a certificate that names other.example.org (this one names DNS:registry.example.com)',
        );
    });

    it("refuses a private key pasted where the certificate goes, and never echoes it", () => {
        const msg = failure(provided({ certificate: key, privateKey: key }));
        expect(msg).toContain("registry-kit:tls.certificate: got [secret]; allowed: a PEM certificate chain, not a private key");
        expect(msg).not.toContain(key.split("\n")[1]);
        // Where the schema echoes a value of its own accord, too.
        const gitlabMsg = failure(gitlab({ certificate: key, privateKey: gitlabKey }, { certificate: cert, privateKey: key }));
        expect(gitlabMsg).toContain("registry-kit:gitlab.certificate: got [secret]");
        expect(gitlabMsg).not.toContain(key.split("\n")[1]);
        const caMsg = failure({ ...base, tls: { mode: "acme", acme: { directory: "https://acme.internal/dir", caBundle: key } } });
        expect(caMsg).toContain("registry-kit:tls.acme.caBundle: got [secret]");
        expect(caMsg).not.toContain(key.split("\n")[1]);
    });
});

describe("gitlab.certificate", () => {
    it("accepts GitLab's own certificate, or the registry's when it names both hosts", () => {
        expect(() =>
            parseSettings(gitlab({ certificate: gitlabCert, privateKey: gitlabKey }, { certificate: cert, privateKey: key }), ["tls", "gitlab"]),
        ).not.toThrow();
        expect(() => parseSettings(gitlab({}, { certificate: bothNamesCert, privateKey: key }), ["tls", "gitlab"])).not.toThrow();
    });

    it("refuses one that does not name GitLab's host, is not PEM, or whose key does not match", () => {
        expect(failure(gitlab({ certificate: cert, privateKey: key }, { certificate: cert, privateKey: key }))).toContain(
            'registry-kit:gitlab.certificate: got "(PEM)"; allowed: a certificate that names gitlab.example.com (this one names DNS:registry.example.com)',
        );
        expect(failure(gitlab({}, { certificate: cert, privateKey: key }))).toContain(
            'registry-kit:tls.certificate: got "(PEM)"; allowed: a certificate that names gitlab.example.com too (gitlab.certificate is not set, so GitLab serves this one; this one names DNS:registry.example.com)',
        );
        expect(failure(gitlab({ certificate: gitlabCert, privateKey: key }, { certificate: cert, privateKey: key }))).toContain(
            "registry-kit:gitlab.privateKey: got [secret]; allowed: the private key of gitlab.certificate's first certificate",
        );
        expect(
            failure(
                gitlab(
                    { certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", privateKey: gitlabKey },
                    { certificate: cert, privateKey: key },
                ),
            ),
        ).toContain('registry-kit:gitlab.certificate: got "(PEM)"; allowed: a PEM certificate chain');
    });
});

describe("render treats anything that looks like a private key as a secret", () => {
    it("masks a key-looking string in manifest values and marks such a file secret", () => {
        const pasted = keyPem();
        expect(maskSecrets({ certificatePem: pasted, other: "plain" }, "[m]")).toEqual({ certificatePem: "[m]", other: "plain" });
        const files = uploadedFiles([
            {
                urn: "u",
                type: "docker:index/container:Container",
                name: "c",
                custom: true,
                inputs: {
                    name: "c",
                    uploads: [
                        { file: "/tls/server.crt", content: pasted },
                        { file: "/ok", content: "fine" },
                        { file: "/s", content: wrapSecret("x") },
                    ],
                },
                outputs: {},
                options: { retainOnDelete: false, deleteBeforeReplace: false, additionalSecretOutputs: [], replaceOnChanges: [], dependsOn: [] },
            },
        ]);
        expect(files.map((f) => [f.path, f.secret])).toEqual([
            ["/tls/server.crt", true],
            ["/ok", false],
            ["/s", true],
        ]);
    });
});
