/**
 * nginx.conf for the TLS proxy in front of the registry, from templates/nginx.conf.mustache.
 * Pure: no Pulumi; the template is read once from the package.
 */
import { isCidr, isHostname } from "../stacks/schema";
import { renderTemplate } from "./template";

export const NGINX_CONFIG_PATH = "/etc/nginx/nginx.conf";
export const NGINX_CERT_PATH = "/etc/nginx/tls/server.crt";
export const NGINX_KEY_PATH = "/etc/nginx/tls/server.key";
export const ACME_WEBROOT = "/var/www/acme";
/** ACME mode: the certificate the watcher script installs (the bootstrap one until certbot has one). */
export const NGINX_ACTIVE_CERT_PATH = "/etc/nginx/tls/active/fullchain.pem";
export const NGINX_ACTIVE_KEY_PATH = "/etc/nginx/tls/active/privkey.pem";
export const NGINX_BOOTSTRAP_DIR = "/etc/nginx/tls/bootstrap";
export const LETSENCRYPT_DIR = "/etc/letsencrypt";

export interface NginxConfInput {
    /** Name in the certificate; the HTTPS server answers to it. */
    hostname: string;
    /** `host:port` of the registry on the Docker network. */
    upstream: string;
    /** Host port clients use for HTTPS, for the HTTP → HTTPS redirect. */
    publicHttpsPort: number;
    /** Addresses allowed to reach the registry; empty allows everyone. */
    allowCidrs: string[];
    /** Strict-Transport-Security max-age in seconds; 0 leaves the header out. */
    hstsMaxAge: number;
    /** Certificate chain and key files inside the container. Default: NGINX_CERT_PATH, NGINX_KEY_PATH. */
    certificatePath?: string;
    privateKeyPath?: string;
}

/** Renders nginx.conf; throws on a value that could break out of its directive. */
export function renderNginxConf(input: NginxConfInput): string {
    if (!isHostname(input.hostname)) throw new Error(`nginx: hostname ${JSON.stringify(input.hostname)} is not a DNS name or IP address`);
    if (!/^[a-z0-9.-]+:\d+$/i.test(input.upstream)) throw new Error(`nginx: upstream ${JSON.stringify(input.upstream)} is not host:port`);
    for (const c of input.allowCidrs) {
        if (!isCidr(c)) throw new Error(`nginx: allowCidrs entry ${JSON.stringify(c)} is not an IP address or CIDR block`);
    }
    if (!Number.isInteger(input.publicHttpsPort) || input.publicHttpsPort < 1 || input.publicHttpsPort > 65535) {
        throw new Error(`nginx: publicHttpsPort ${input.publicHttpsPort} is not a port from 1 to 65535`);
    }
    const view = {
        hostname: input.hostname,
        upstream: input.upstream,
        httpsPortSuffix: input.publicHttpsPort === 443 ? "" : `:${input.publicHttpsPort}`,
        allowCidrs: input.allowCidrs,
        hasAllowList: input.allowCidrs.length > 0,
        hstsMaxAge: input.hstsMaxAge > 0 ? String(input.hstsMaxAge) : "",
        acmeWebroot: ACME_WEBROOT,
        certificatePath: input.certificatePath ?? NGINX_CERT_PATH,
        privateKeyPath: input.privateKeyPath ?? NGINX_KEY_PATH,
    };
    return renderTemplate("nginx.conf", view);
}
