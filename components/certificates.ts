/**
 * Certificates: the TLS certificate and key the proxy serves, either self-signed (a private CA and a
 * server certificate made with @pulumi/tls, kept in state) or provided by the user.
 */
import * as net from "node:net";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { z } from "zod";
import { hostname } from "../primitives/network";
import { caValidityDays, tlsModes } from "../primitives/tls";
import { validateArgs } from "./validate";

export interface CertificatesArgs {
    /**
     * `self-signed`, `provided`, or `acme`: a self-signed certificate that only bootstraps the proxy
     * until certbot (AcmeCertbot) has the real one. Default: self-signed. Plain value: it decides which
     * resources exist.
     */
    mode?: "self-signed" | "provided" | "acme";
    /** DNS name or IP address the certificate is for. Required. */
    hostname: pulumi.Input<string>;
    /** More DNS names or IP addresses for the certificate (self-signed). Default: []. */
    extraSans?: pulumi.Input<pulumi.Input<string>[]>;
    /** Server certificate lifetime in days (self-signed). Default: 365. */
    validityDays?: pulumi.Input<number>;
    /**
     * Lifetime in days of the CA made here (self-signed, without `ca`); every change replaces the CA. Default: 3650
     * (87600 hours: what earlier releases derived from the default validityDays, so such a CA stays as it is).
     */
    caValidityDays?: pulumi.Input<number>;
    /** PEM certificate chain, server certificate first (provided mode). Required there. */
    certificatePem?: pulumi.Input<string>;
    /** PEM private key (provided mode), made secret here. Required there. */
    privateKeyPem?: pulumi.Input<string>;
    /** PEM of the CA clients should trust (provided mode, optional). Default: none. */
    caCertificatePem?: pulumi.Input<string>;
    /**
     * Sign the server certificate with this CA (another Certificates' `ca`) instead of making one, so
     * that clients trust one CA for several hosts (self-signed mode). Default: a CA of its own.
     */
    ca?: CertificateAuthority;
}

/** A private CA: its certificate, and its key (secret). */
export interface CertificateAuthority {
    certificatePem: pulumi.Input<string>;
    privateKeyPem: pulumi.Input<string>;
}

/** Splits SANs into DNS names and IP addresses, hostname first, without duplicates. */
export function splitSans(names: string[]): { dnsNames: string[]; ipAddresses: string[] } {
    const unique = [...new Set(names)];
    return { dnsNames: unique.filter((n) => net.isIP(n) === 0), ipAddresses: unique.filter((n) => net.isIP(n) !== 0) };
}

export class Certificates extends pulumi.ComponentResource {
    /** PEM chain the proxy serves. */
    public readonly certificatePem: pulumi.Output<string>;
    /** PEM private key of `certificatePem` (secret). */
    public readonly privateKeyPem: pulumi.Output<string>;
    /** PEM of the CA clients should trust: the private CA (self-signed), the given one (provided), or empty (acme: a public CA). */
    public readonly caCertificatePem: pulumi.Output<string>;
    /** Self-signed mode: the CA, to sign more hosts' certificates with (its key is secret). */
    public readonly ca: CertificateAuthority | undefined;

    constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:certificates:Certificates", name, {}, opts);
        validateArgs("Certificates", name, args, {
            mode: z.enum(tlsModes),
            hostname,
            extraSans: z.array(hostname),
            validityDays: z.number().int().min(1).max(3650),
            caValidityDays,
        });
        const mode = args.mode ?? "self-signed";
        if (mode === "provided") {
            if (args.certificatePem === undefined || args.privateKeyPem === undefined) {
                throw new Error(`Certificates ${name}: mode "provided" needs certificatePem and privateKeyPem`);
            }
            this.certificatePem = pulumi.output(args.certificatePem);
            this.privateKeyPem = pulumi.secret(args.privateKeyPem);
            this.caCertificatePem = pulumi.output(args.caCertificatePem ?? "");
            this.ca = undefined;
        } else if (mode === "self-signed" || mode === "acme") {
            const days = pulumi.output(args.validityDays ?? 365);
            const ca: { certPem: pulumi.Output<string>; keyPem: pulumi.Output<string> } = args.ca
                ? { certPem: pulumi.output(args.ca.certificatePem), keyPem: pulumi.secret(args.ca.privateKeyPem) }
                : this.newCa(name, args.hostname, pulumi.output(args.caValidityDays ?? 3650));
            const serverKey = new tls.PrivateKey(`${name}-server-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
            const sans = pulumi.all([args.hostname, args.extraSans ?? []]).apply(([h, extra]) => splitSans([h, ...extra]));
            const csr = new tls.CertRequest(
                `${name}-server-csr`,
                {
                    privateKeyPem: serverKey.privateKeyPem,
                    subject: { commonName: args.hostname, organization: "registry-kit" },
                    dnsNames: sans.dnsNames,
                    ipAddresses: sans.ipAddresses,
                },
                { parent: this },
            );
            const server = new tls.LocallySignedCert(
                `${name}-server`,
                {
                    certRequestPem: csr.certRequestPem,
                    caPrivateKeyPem: ca.keyPem,
                    caCertPem: ca.certPem,
                    validityPeriodHours: days.apply((d) => d * 24),
                    // `pulumi up` within 30 days of expiry issues a fresh certificate.
                    earlyRenewalHours: days.apply((d) => Math.min(30 * 24, Math.floor((d * 24) / 4))),
                    allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
                },
                { parent: this },
            );
            this.certificatePem = server.certPem;
            this.privateKeyPem = pulumi.secret(serverKey.privateKeyPem);
            this.caCertificatePem = mode === "acme" ? pulumi.output("") : ca.certPem;
            this.ca = mode === "acme" ? undefined : { certificatePem: ca.certPem, privateKeyPem: ca.keyPem };
        } else {
            throw new Error(`Certificates ${name}: mode ${JSON.stringify(mode)} is not one of "self-signed", "provided", "acme"`);
        }
        this.registerOutputs({
            certificatePem: this.certificatePem,
            privateKeyPem: this.privateKeyPem,
            caCertificatePem: this.caCertificatePem,
        });
    }

    /** A private ECDSA CA, its lifetime apart from the server certificates' so that their changes leave it alone. */
    private newCa(name: string, hostname: pulumi.Input<string>, days: pulumi.Output<number>) {
        const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent: this });
        const ca = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                isCaCertificate: true,
                subject: { commonName: pulumi.interpolate`registry-kit CA for ${hostname}`, organization: "registry-kit" },
                validityPeriodHours: days.apply((d) => d * 24),
                allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            },
            { parent: this },
        );
        return { certPem: ca.certPem, keyPem: pulumi.secret(caKey.privateKeyPem) };
    }
}
