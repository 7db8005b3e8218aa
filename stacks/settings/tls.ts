/**
 * The `tls:` section: certificate mode (self-signed, provided, acme) and the ACME settings.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { image } from "../../primitives/images";
import { hostname, isHttpsUrl } from "../../primitives/network";
import { ACME_DIRECTORIES, acmeCurves, acmeKeyTypes, caValidityDays, tlsModes } from "../../primitives/tls";

const acmeSchema = z
    .strictObject({
        /** `production` (Let's Encrypt), `staging`, or the https:// URL of any ACME directory. Default: production. */
        directory: z
            .string()
            .refine((v) => v in ACME_DIRECTORIES || isHttpsUrl(v), { message: '"production", "staging" or an https:// URL of an ACME directory' })
            .default("production"),
        /** PEM CA bundle to trust a custom directory's HTTPS certificate. Default: the system's CAs. */
        caBundle: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "PEM certificates" }).optional(),
        /** Contact address for the ACME account (expiry notices). Default: none. */
        email: z.email({ message: "an email address such as ops@example.com" }).optional(),
        /** Key type of the certificate. Default: ecdsa. */
        keyType: z.enum(acmeKeyTypes).default("ecdsa"),
        /** RSA key size (keyType rsa). Default: 2048. */
        rsaKeySize: z
            .number()
            .refine((n) => [2048, 3072, 4096].includes(n), { message: "2048, 3072 or 4096" })
            .default(2048),
        /** Curve (keyType ecdsa). Default: secp256r1. */
        ellipticCurve: z.enum(acmeCurves).default("secp256r1"),
        /** Certbot image. Default: certbot/certbot:v3.3.0. */
        image: image.default("certbot/certbot:v3.3.0"),
        /** Hours between renewal checks; certbot renews 30 days before expiry. Default: 12 (twice a day). */
        renewIntervalHours: z.number().int().min(1).max(24).default(12),
        /** Seconds between the proxy's checks for a new certificate (then a graceful reload). Default: 30. */
        reloadCheckSeconds: z.number().int().min(1).max(3600).default(30),
        /** How long `pulumi up` waits for the first certificate. Default: 300. */
        issueTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
    })
    .prefault({});

export const tlsSchema = z
    .strictObject({
        /** self-signed (a CA and a server certificate made by Pulumi), provided, or acme (certbot). Default: self-signed. */
        mode: z.enum(tlsModes).default("self-signed"),
        /** More DNS names or IP addresses for the certificate. Default: []. */
        extraSans: z.array(hostname).default([]),
        /** Server certificate lifetime in days (self-signed). Default: 365. */
        validityDays: z.number().int().min(1).max(3650).default(365),
        /**
         * Lifetime in days of the private CA (self-signed), its own setting: a change replaces the CA, which every client
         * then trusts anew. At least validityDays. Default: 3650 (87600 hours, the CA lifetime of releases that derived it
         * as ten times validityDays, with validityDays 365).
         */
        caValidityDays: caValidityDays.default(3650),
        /** PEM certificate chain (provided mode). */
        certificate: z.string().optional(),
        /** PEM private key (provided mode), a secret. */
        privateKey: z.string().optional(),
        /** ACME settings (acme mode). */
        acme: acmeSchema,
    })
    .prefault({});
