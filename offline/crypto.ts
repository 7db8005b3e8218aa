/**
 * Real keys and certificates for the offline engine, standing in for the tls provider: what
 * `render` writes and the end-to-end tests deploy is usable, not a placeholder.
 */
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(crypto.webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = crypto.webcrypto.CryptoKey;

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

/** tls.PrivateKey: ECDSA (P-256/P-384) or RSA, as PEM the way the tls provider writes it. */
export function generatePrivateKey(algorithm: string, ecdsaCurve = "P224", rsaBits = 2048): Record<string, string> {
    let key: crypto.KeyPairKeyObjectResult;
    if (algorithm === "ECDSA") {
        const namedCurve = { P256: "P-256", P384: "P-384", P521: "P-521" }[ecdsaCurve];
        if (!namedCurve) throw new Error(`offline tls: ECDSA curve ${ecdsaCurve} is not supported here`);
        key = crypto.generateKeyPairSync("ec", { namedCurve });
    } else if (algorithm === "RSA") {
        key = crypto.generateKeyPairSync("rsa", { modulusLength: rsaBits });
    } else {
        throw new Error(`offline tls: algorithm ${algorithm} is not supported here`);
    }
    return {
        algorithm,
        privateKeyPem: key.privateKey.export({ type: algorithm === "ECDSA" ? "sec1" : "pkcs1", format: "pem" }).toString(),
        privateKeyPemPkcs8: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        publicKeyPem: key.publicKey.export({ type: "spki", format: "pem" }).toString(),
    };
}

async function importKeys(privateKeyPem: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey } & { algorithm: typeof SIGN | typeof RSA }> {
    const priv = crypto.createPrivateKey(privateKeyPem);
    const pub = crypto.createPublicKey(priv);
    const isEc = priv.asymmetricKeyType === "ec";
    const curve = isEc ? { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" }[priv.asymmetricKeyDetails!.namedCurve!] : undefined;
    const alg = isEc ? { ...EC, namedCurve: curve! } : RSA;
    const subtle = crypto.webcrypto.subtle;
    const privateKey = await subtle.importKey("pkcs8", priv.export({ type: "pkcs8", format: "der" }), alg, true, ["sign"]);
    const publicKey = await subtle.importKey("spki", pub.export({ type: "spki", format: "der" }), alg, true, ["verify"]);
    return { privateKey: privateKey as unknown as CryptoKey, publicKey: publicKey as unknown as CryptoKey, algorithm: isEc ? SIGN : RSA };
}

interface Subject {
    commonName?: string;
    organization?: string;
}

function distinguishedName(subject: Subject | undefined): string {
    const parts: string[] = [];
    if (subject?.commonName) parts.push(`CN=${subject.commonName.replace(/([,+="\\<>;])/g, "\\$1")}`);
    if (subject?.organization) parts.push(`O=${subject.organization.replace(/([,+="\\<>;])/g, "\\$1")}`);
    return parts.join(", ");
}

function sanExtension(dnsNames: string[] = [], ipAddresses: string[] = []): x509.SubjectAlternativeNameExtension | undefined {
    const names = [...dnsNames.map((v) => ({ type: "dns" as const, value: v })), ...ipAddresses.map((v) => ({ type: "ip" as const, value: v }))];
    return names.length ? new x509.SubjectAlternativeNameExtension(names) : undefined;
}

const USAGE: Record<string, number> = {
    digital_signature: x509.KeyUsageFlags.digitalSignature,
    key_encipherment: x509.KeyUsageFlags.keyEncipherment,
    cert_signing: x509.KeyUsageFlags.keyCertSign,
    crl_signing: x509.KeyUsageFlags.cRLSign,
};
const EXTENDED: Record<string, string> = { server_auth: x509.ExtendedKeyUsage.serverAuth, client_auth: x509.ExtendedKeyUsage.clientAuth };

function usageExtensions(allowedUses: string[], isCa: boolean): x509.Extension[] {
    const flags = allowedUses.reduce((acc, u) => acc | (USAGE[u] ?? 0), 0);
    const ext: x509.Extension[] = [new x509.BasicConstraintsExtension(isCa, undefined, true)];
    if (flags) ext.push(new x509.KeyUsagesExtension(flags, true));
    const eku = allowedUses.map((u) => EXTENDED[u]).filter(Boolean);
    if (eku.length) ext.push(new x509.ExtendedKeyUsageExtension(eku));
    return ext;
}

function validity(hours: number): { notBefore: Date; notAfter: Date } {
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
    return { notBefore, notAfter: new Date(notBefore.getTime() + hours * 3600 * 1000) };
}

function serial(): string {
    const bytes = crypto.randomBytes(16);
    bytes[0] &= 0x7f;
    return bytes.toString("hex");
}

/** tls.SelfSignedCert. */
export async function selfSignedCert(inputs: {
    privateKeyPem: string;
    subject?: Subject;
    validityPeriodHours: number;
    isCaCertificate?: boolean;
    allowedUses: string[];
    dnsNames?: string[];
    ipAddresses?: string[];
}): Promise<Record<string, string>> {
    const keys = await importKeys(inputs.privateKeyPem);
    const { notBefore, notAfter } = validity(inputs.validityPeriodHours);
    const extensions = usageExtensions(inputs.allowedUses, !!inputs.isCaCertificate);
    extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
    const san = sanExtension(inputs.dnsNames, inputs.ipAddresses);
    if (san) extensions.push(san);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: distinguishedName(inputs.subject),
        notBefore,
        notAfter,
        keys,
        signingAlgorithm: keys.algorithm,
        extensions,
    });
    return { certPem: cert.toString("pem") + "\n", validityStartTime: notBefore.toISOString(), validityEndTime: notAfter.toISOString() };
}

/** tls.CertRequest. */
export async function certRequest(inputs: {
    privateKeyPem: string;
    subject?: Subject;
    dnsNames?: string[];
    ipAddresses?: string[];
}): Promise<Record<string, string>> {
    const keys = await importKeys(inputs.privateKeyPem);
    const san = sanExtension(inputs.dnsNames, inputs.ipAddresses);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
        name: distinguishedName(inputs.subject),
        keys,
        signingAlgorithm: keys.algorithm,
        extensions: san ? [san] : [],
    });
    return { certRequestPem: csr.toString("pem") + "\n" };
}

/** tls.LocallySignedCert: the CSR's subject, key and SANs, signed by the CA. */
export async function locallySignedCert(inputs: {
    certRequestPem: string;
    caPrivateKeyPem: string;
    caCertPem: string;
    validityPeriodHours: number;
    allowedUses: string[];
    isCaCertificate?: boolean;
}): Promise<Record<string, string>> {
    const csr = new x509.Pkcs10CertificateRequest(inputs.certRequestPem);
    const ca = new x509.X509Certificate(inputs.caCertPem);
    const caKeys = await importKeys(inputs.caPrivateKeyPem);
    const { notBefore, notAfter } = validity(inputs.validityPeriodHours);
    const publicKey = await csr.publicKey.export();
    const extensions = usageExtensions(inputs.allowedUses, !!inputs.isCaCertificate);
    extensions.push(await x509.SubjectKeyIdentifierExtension.create(publicKey));
    extensions.push(await x509.AuthorityKeyIdentifierExtension.create(ca));
    const san = csr.getExtension("2.5.29.17"); // subjectAltName
    if (san) extensions.push(san);
    const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: csr.subject,
        issuer: ca.subject,
        notBefore,
        notAfter,
        publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: caKeys.algorithm,
        extensions,
    });
    return { certPem: cert.toString("pem") + "\n", validityStartTime: notBefore.toISOString(), validityEndTime: notAfter.toISOString() };
}

/** random.RandomPassword / RandomString: uniformly drawn characters from the configured classes. */
export function randomPassword(inputs: {
    length: number;
    special?: boolean;
    upper?: boolean;
    lower?: boolean;
    numeric?: boolean;
    overrideSpecial?: string;
    minUpper?: number;
    minLower?: number;
    minNumeric?: number;
    minSpecial?: number;
}): string {
    const classes = [
        { on: inputs.lower !== false, chars: "abcdefghijklmnopqrstuvwxyz", min: inputs.minLower ?? 0 },
        { on: inputs.upper !== false, chars: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min: inputs.minUpper ?? 0 },
        { on: inputs.numeric !== false, chars: "0123456789", min: inputs.minNumeric ?? 0 },
        { on: inputs.special !== false, chars: inputs.overrideSpecial ?? "!@#$%&*()-_=+[]{}<>:?", min: inputs.minSpecial ?? 0 },
    ];
    const pick = (chars: string) => chars[crypto.randomInt(chars.length)];
    // As the random provider does: the minimum of each class first, the rest from every enabled class, shuffled.
    const chars = classes.flatMap((c) => Array.from({ length: c.min }, () => pick(c.chars)));
    const alphabet = classes
        .filter((c) => c.on)
        .map((c) => c.chars)
        .join("");
    while (chars.length < inputs.length) chars.push(pick(alphabet));
    for (let i = chars.length - 1; i > 0; i--) {
        const j = crypto.randomInt(i + 1);
        [chars[i], chars[j]] = [chars[j], chars[i]];
    }
    return chars.join("");
}
