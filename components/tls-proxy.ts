/**
 * TlsProxy: the Nginx container that terminates TLS in front of the registry, with its config
 * rendered from templates/nginx.conf.mustache and an ACME webroot volume on port 80.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ACME_WEBROOT, NGINX_CERT_PATH, NGINX_CONFIG_PATH, NGINX_KEY_PATH, renderNginxConf } from "../renderers/nginx-conf";
import { cidr, hostname, image, ipAddress, port } from "../stacks/schema";
import { serviceContainerArgs } from "./docker-common";
import { validateArgs } from "./validate";

export interface TlsProxyArgs {
    /** Docker network shared with the registry. Required. */
    networkName: pulumi.Input<string>;
    /** Name clients use; the HTTPS server answers to it. Required. */
    hostname: pulumi.Input<string>;
    /** `host:port` of the registry on the network. Required. */
    upstream: pulumi.Input<string>;
    /** PEM certificate chain to serve. Required. */
    certificatePem: pulumi.Input<string>;
    /** PEM private key of the certificate (secret). Required. */
    privateKeyPem: pulumi.Input<string>;
    /** Nginx image. Default: nginx:1.27. */
    image?: pulumi.Input<string>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** Host address the ports are published on. Default: 0.0.0.0. */
    hostIp?: pulumi.Input<string>;
    /** Host port for HTTPS. Default: 443. */
    httpsPort?: pulumi.Input<number>;
    /** Host port for HTTP (redirects and ACME challenges). Default: 80. */
    httpPort?: pulumi.Input<number>;
    /** Source addresses or CIDR blocks allowed to use the registry; empty allows all. Default: []. */
    allowCidrs?: pulumi.Input<pulumi.Input<string>[]>;
    /** Strict-Transport-Security max-age in seconds, 0 for none. Default: 31536000 (one year). */
    hstsMaxAge?: pulumi.Input<number>;
}

export class TlsProxy extends pulumi.ComponentResource {
    /** The container. */
    public readonly container: docker.Container;
    /** The rendered nginx.conf (contains no secret). */
    public readonly nginxConf: pulumi.Output<string>;
    /** Name of the volume nginx serves `/.well-known/acme-challenge/` from. */
    public readonly acmeWebrootVolume: pulumi.Output<string>;

    constructor(name: string, args: TlsProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:proxy:TlsProxy", name, {}, opts);
        validateArgs("TlsProxy", name, args, {
            hostname,
            image,
            hostIp: ipAddress,
            httpsPort: port,
            httpPort: port,
            allowCidrs: z.array(cidr),
            hstsMaxAge: z.number().int().min(0, { message: "a number of seconds, 0 or more" }),
        });
        if (typeof args.httpsPort === "number" && args.httpsPort === args.httpPort) {
            throw new Error(`TlsProxy "${name}": invalid arguments:\nargs.httpPort: got ${args.httpPort}; allowed: a port other than args.httpsPort`);
        }
        const httpsPort = pulumi.output(args.httpsPort ?? 443);
        const httpPort = pulumi.output(args.httpPort ?? 80);
        const hostIp = pulumi.output(args.hostIp ?? "0.0.0.0");

        this.nginxConf = pulumi
            .all([args.hostname, args.upstream, httpsPort, args.allowCidrs ?? [], args.hstsMaxAge ?? 31536000])
            .apply(([hostname, upstream, publicHttpsPort, allowCidrs, hstsMaxAge]) =>
                renderNginxConf({ hostname, upstream, publicHttpsPort, allowCidrs, hstsMaxAge }),
            );

        const webroot = new docker.Volume(`${name}-acme-webroot`, { name: `${name}-acme-webroot` }, { parent: this });
        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "nginx:1.27", keepLocally: true }, { parent: this });
        const certificatePem = pulumi.output(args.certificatePem);

        this.container = new docker.Container(
            name,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                uploads: [
                    { file: NGINX_CONFIG_PATH, content: this.nginxConf },
                    { file: NGINX_CERT_PATH, content: certificatePem, permissions: "0644" },
                    { file: NGINX_KEY_PATH, content: pulumi.secret(args.privateKeyPem), permissions: "0600" },
                ],
                volumes: [{ volumeName: webroot.name, containerPath: ACME_WEBROOT, readOnly: true }],
                ports: [
                    { internal: 443, external: httpsPort, ip: hostIp },
                    { internal: 80, external: httpPort, ip: hostIp },
                ],
                networksAdvanced: [{ name: args.networkName, aliases: ["proxy"] }],
                ...serviceContainerArgs("tls-proxy", pulumi.concat(this.nginxConf, certificatePem), ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/healthz"], "5s"),
            },
            { parent: this, deleteBeforeReplace: true },
        );

        this.acmeWebrootVolume = webroot.name;
        this.registerOutputs({ nginxConf: this.nginxConf, acmeWebrootVolume: this.acmeWebrootVolume });
    }
}
