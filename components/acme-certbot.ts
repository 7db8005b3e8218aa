/**
 * AcmeCertbot: a certbot container that obtains the proxy's certificate over HTTP-01 (through the
 * proxy's `/.well-known/acme-challenge/` webroot on port 80), checks for renewal twice a day, and keeps
 * account and certificates on the proxy's letsencrypt volume. `pulumi up` waits for the first
 * certificate and fails with the likely cause when issuance fails.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerLogging } from "../primitives/logging";
import { z } from "zod";
import { ACME_WEBROOT, LETSENCRYPT_DIR } from "../renderers/nginx-conf";
import { templateText } from "../renderers/template";
import { image as imageRef } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { hostname, isHttpsUrl } from "../primitives/network";
import { acmeCurves, acmeKeyTypes } from "../primitives/tls";
import { serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { validateArgs } from "./validate";

export const ACME_SCRIPT_PATH = "/usr/local/bin/registry-kit-acme";
const CA_BUNDLE_PATH = "/etc/registry-kit/acme-ca.pem";

export interface AcmeCertbotArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** Docker network shared with the proxy. Required. */
    networkName: pulumi.Input<string>;
    /** Volume the proxy serves `/.well-known/acme-challenge/` from. Required. */
    webrootVolume: pulumi.Input<string>;
    /** Volume for /etc/letsencrypt, shared read-only with the proxy. Required. */
    letsencryptVolume: pulumi.Input<string>;
    /** Names for the certificate, the first one its subject. Required. */
    domains: pulumi.Input<pulumi.Input<string>[]>;
    /** https:// URL of the ACME directory. Required. */
    directoryUrl: pulumi.Input<string>;
    /** certbot's `--cert-name`. Default: registry-kit. */
    certName?: string;
    /** PEM CA bundle to trust a private directory's HTTPS certificate. Default: the system's CAs. */
    caBundle?: pulumi.Input<string>;
    /** ACME account contact. Default: none (`--register-unsafely-without-email`). */
    email?: pulumi.Input<string>;
    /** `ecdsa` or `rsa`. Default: ecdsa. */
    keyType?: pulumi.Input<string>;
    /** RSA key size. Default: 2048. */
    rsaKeySize?: pulumi.Input<number>;
    /** ECDSA curve. Default: secp256r1. */
    ellipticCurve?: pulumi.Input<string>;
    /** Certbot image (needs /bin/sh and python3 with cryptography, as certbot/certbot has). Default: certbot/certbot:v3.3.0. */
    image?: pulumi.Input<string>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** Hours between renewal checks. Default: 12. */
    renewIntervalHours?: pulumi.Input<number>;
    /** Seconds between issuance retries after a failure. Default: 900 (Let's Encrypt allows 5 failures an hour). */
    retrySeconds?: pulumi.Input<number>;
    /** How long `pulumi up` waits for the first certificate. Default: 300. */
    issueTimeoutSeconds?: pulumi.Input<number>;
    /**
     * DOCKER_HOST for the `docker exec` that waits for issuance; give the Docker provider's host. Default:
     * the environment's DOCKER_HOST or DOCKER_CONTEXT, else the local socket, as the provider does (the
     * CLI's current context is not used).
     */
    dockerHost?: pulumi.Input<string>;
}

/** `issuer=…`, `notAfter=…` lines of the wait command → values. */
export function parseCertificateInfo(stdout: string | undefined): { issuer: string; notAfter: string; serial: string } {
    const field = (key: string) =>
        (stdout ?? "")
            .split("\n")
            .find((l) => l.startsWith(`${key}=`))
            ?.slice(key.length + 1) ?? "";
    return { issuer: field("issuer"), notAfter: field("notAfter"), serial: field("serial") };
}

export class AcmeCertbot extends pulumi.ComponentResource {
    /** The certbot container. */
    public readonly container: docker.Container;
    /** Issuer of the certificate, as of the last `pulumi up` that waited for it. */
    public readonly issuer: pulumi.Output<string>;
    /** Expiry (UTC, ISO 8601) of the certificate, as of that `pulumi up`; certbot renews 30 days before. */
    public readonly notAfter: pulumi.Output<string>;

    constructor(name: string, args: AcmeCertbotArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:certificates:AcmeCertbot", name, {}, opts);
        validateArgs("AcmeCertbot", name, args, {
            logging: containerLogging,
            domains: z.array(hostname).min(1, { message: "at least one DNS name" }),
            directoryUrl: z.string().refine(isHttpsUrl, { message: "an https:// URL of an ACME directory" }),
            certName: dockerName,
            email: z.email({ message: "an email address" }),
            keyType: z.enum(acmeKeyTypes),
            ellipticCurve: z.enum(acmeCurves),
            image: imageRef,
            containerName: dockerName,
        });
        const certName = args.certName ?? "registry-kit";
        const containerName = pulumi.output(args.containerName ?? name);
        const script = templateText("certbot-acme.sh");
        const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [{ file: ACME_SCRIPT_PATH, content: script, permissions: "0755" }];
        const envs: pulumi.Input<string>[] = [
            pulumi.interpolate`RK_DOMAINS=${pulumi.output(args.domains).apply((d) => d.join(","))}`,
            `RK_CERT_NAME=${certName}`,
            pulumi.interpolate`RK_SERVER=${args.directoryUrl}`,
            pulumi.interpolate`RK_EMAIL=${args.email ?? ""}`,
            pulumi.interpolate`RK_KEY_TYPE=${args.keyType ?? "ecdsa"}`,
            pulumi.interpolate`RK_RSA_KEY_SIZE=${args.rsaKeySize ?? 2048}`,
            pulumi.interpolate`RK_ELLIPTIC_CURVE=${args.ellipticCurve ?? "secp256r1"}`,
            `RK_WEBROOT=${ACME_WEBROOT}`,
            pulumi.interpolate`RK_RENEW_SECONDS=${pulumi.output(args.renewIntervalHours ?? 12).apply((h) => h * 3600)}`,
            pulumi.interpolate`RK_RETRY_SECONDS=${args.retrySeconds ?? 900}`,
        ];
        if (args.caBundle !== undefined) {
            uploads.push({ file: CA_BUNDLE_PATH, content: args.caBundle, permissions: "0644" });
            envs.push(`REQUESTS_CA_BUNDLE=${CA_BUNDLE_PATH}`);
        }

        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "certbot/certbot:v3.3.0", keepLocally: true }, { parent: this });
        this.container = new docker.Container(
            name,
            {
                name: containerName,
                image: remoteImage.imageId,
                entrypoints: ["/bin/sh"],
                command: [ACME_SCRIPT_PATH, "run"],
                envs,
                uploads,
                volumes: [
                    { volumeName: args.letsencryptVolume, containerPath: LETSENCRYPT_DIR },
                    { volumeName: args.webrootVolume, containerPath: ACME_WEBROOT },
                ],
                networksAdvanced: [{ name: args.networkName, aliases: ["certbot"] }],
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "certbot",
                    configText: script,
                    healthTest: ["sh", "-c", `test -s ${LETSENCRYPT_DIR}/live/${certName}/fullchain.pem`],
                    startPeriodSeconds: 300,
                    // A certbot run in progress finishes its current request.
                    stopGraceSeconds: 10,
                }),
            },
            // Children do not inherit the component's dependsOn: pass it on, so certbot starts only after
            // what it was told to wait for (the proxy that answers the challenge).
            { parent: this, deleteBeforeReplace: true, dependsOn: opts?.dependsOn },
        );

        // Waits for the first certificate (or an existing one) and reports why issuance failed. Runs when
        // the certbot container is (re)created, never on an unchanged `pulumi up`.
        const issued = new command.local.Command(
            `${name}-issued`,
            {
                // The Docker provider follows DOCKER_HOST or DOCKER_CONTEXT, never the CLI's current context
                // (`docker context use`): the CLI is held to the same engine.
                create: pulumi.interpolate`DOCKER_CONTEXT="\${DOCKER_CONTEXT:-default}" docker exec ${this.container.name} /bin/sh ${ACME_SCRIPT_PATH} wait ${args.issueTimeoutSeconds ?? 300}`,
                environment: args.dockerHost !== undefined ? { DOCKER_HOST: args.dockerHost } : undefined,
                triggers: [this.container.id],
            },
            { parent: this },
        );
        const info = issued.stdout.apply(parseCertificateInfo);
        this.issuer = info.issuer;
        this.notAfter = info.notAfter;
        this.registerOutputs({ issuer: this.issuer, notAfter: this.notAfter });
    }
}
