/**
 * TokenSigningKey: the RSA key pair a token issuer (GitLab) signs registry tokens with, and the
 * certificate the registry verifies them against (Registry derives registry 3's JWKS from it). Both sides take their halves from this
 * one object, so they cannot disagree.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { z } from "zod";
import { libtrustKeyId } from "../renderers/token-auth";
import { validateArgs } from "./validate";

export interface TokenSigningKeyArgs {
    /** RSA key size in bits. Default: 4096 (as GitLab generates its own). */
    rsaBits?: number;
    /** Common name of the certificate. Default: `registry token issuer`. */
    commonName?: pulumi.Input<string>;
    /** Certificate lifetime in days; the registry matches keys by id, but keep it valid. Default: 3650. */
    validityDays?: pulumi.Input<number>;
}

export class TokenSigningKey extends pulumi.ComponentResource {
    /** PEM private key (PKCS#1, as omnibus writes its own), for the issuer (secret). */
    public readonly privateKeyPem: pulumi.Output<string>;
    /** Self-signed certificate of the key, the registry's `auth.token.rootcertbundle`. */
    public readonly certificatePem: pulumi.Output<string>;
    /** The libtrust key id GitLab puts in each token's `kid`. */
    public readonly keyId: pulumi.Output<string>;

    constructor(name: string, args: TokenSigningKeyArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:auth:TokenSigningKey", name, {}, opts);
        validateArgs("TokenSigningKey", name, args, {
            rsaBits: z.number().refine((n) => [2048, 3072, 4096].includes(n), { message: "2048, 3072 or 4096" }),
            validityDays: z.number().int().min(1).max(36500),
        });
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "RSA", rsaBits: args.rsaBits ?? 4096 }, { parent: this });
        const cert = new tls.SelfSignedCert(
            `${name}-cert`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: args.commonName ?? "registry token issuer", organization: "registry-kit" },
                validityPeriodHours: pulumi.output(args.validityDays ?? 3650).apply((d) => d * 24),
                allowedUses: ["digital_signature"],
            },
            { parent: this },
        );
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.certificatePem = cert.certPem;
        this.keyId = key.publicKeyPem.apply(libtrustKeyId);
        this.registerOutputs({ certificatePem: this.certificatePem, keyId: this.keyId });
    }
}
