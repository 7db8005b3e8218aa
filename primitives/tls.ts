/**
 * TLS values: PEM certificate chains and private keys as nginx loads them, certificate modes, ACME key
 * types and directories. The bottom layer: imports nothing of registry-kit's.
 */
import { createPrivateKey, KeyObject, X509Certificate } from "node:crypto";
import * as net from "node:net";
import { z } from "zod";

/** Whether a text holds a private key (PEM or OpenSSH): a secret wherever it appears, never echoed or written in the clear. */
export function looksLikePrivateKey(text: string): boolean {
    return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text);
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM chain as nginx loads it, or why it is not one. */
export function parseCertificateChain(pem: string): X509Certificate[] | string {
    if (looksLikePrivateKey(pem))
        return "a PEM certificate chain, not a private key (the key goes in its own setting, set with --secret; replace a key that sat in the stack file in plain text)";
    const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
    if (blocks.length === 0 || pem.replace(CERTIFICATE_BLOCK, "").trim() !== "") {
        return "a PEM certificate chain (-----BEGIN CERTIFICATE----- blocks, server certificate first) and nothing else: a block is missing its END line, or text stands outside the blocks";
    }
    const certificates: X509Certificate[] = [];
    for (const [i, block] of blocks.entries()) {
        try {
            certificates.push(new X509Certificate(block));
        } catch {
            return `a PEM certificate chain whose certificates parse (certificate ${i + 1} of ${blocks.length} does not: truncated or corrupt)`;
        }
    }
    return certificates;
}

/** The private key of a PEM text, or undefined when it is none (or encrypted: nginx would ask for a passphrase). */
export function parsePrivateKey(pem: string): KeyObject | undefined {
    try {
        return createPrivateKey(pem);
    } catch {
        return undefined;
    }
}

/** Whether a certificate is valid for a host name (wildcards as TLS clients match them) or IP address. */
export function certificateNames(certificate: X509Certificate, name: string): boolean {
    return net.isIP(name) !== 0 ? certificate.checkIP(name) !== undefined : certificate.checkHost(name) !== undefined;
}

export const tlsModes = ["self-signed", "provided", "acme"] as const;
export const acmeKeyTypes = ["ecdsa", "rsa"] as const;
export const acmeCurves = ["secp256r1", "secp384r1"] as const;
/** ACME directories by name; anything else must be an https:// URL. */
export const ACME_DIRECTORIES: Record<string, string> = {
    production: "https://acme-v02.api.letsencrypt.org/directory",
    staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
};
/** Days a private CA lives. */
export const caValidityDays = z
    .number()
    .int()
    .min(1, { message: "a whole number of days from 1 to 36500" })
    .max(36500, { message: "a whole number of days from 1 to 36500" });
