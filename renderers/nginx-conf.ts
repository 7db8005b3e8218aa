/**
 * nginx.conf for the TLS proxy in front of the registry, from templates/nginx.conf.mustache.
 * Pure: no Pulumi; the template is read once from the package.
 */
import { isCidr, isHostname } from "../primitives/network";
import { NGINX_AUTH_JS_PATH, NGINX_AUTH_SECRETS_PATH, VERDICT_CACHE_DIR } from "./nginx-auth";
import { PROXY_METRICS_PORT } from "./registry-alerts";
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
/** Where the proxy mounts the maintenance control volume (read-only); a `readonly` file there refuses writes. */
export const PROXY_MAINTENANCE_DIR = "/run/registry-kit-maintenance";

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
    /** A second virtual host for a web application (GitLab) on its own name. Default: none. */
    app?: NginxAppSite;
    /**
     * Garbage collection's read-only window: while MAINTENANCE_CONTROL_DIR/readonly exists, writes to
     * the registry (POST, PUT, PATCH, DELETE) get 503 in the registry's error format with this
     * Retry-After (seconds); reads pass. Default: none (no window).
     */
    readOnlyRetryAfterSeconds?: number;
    /**
     * A metrics server for Prometheus on PROXY_METRICS_PORT (the Docker network only, never published):
     * this text (registry-alerts.ts, proxyMetricsText) at `/metrics`. Default: none.
     */
    metricsText?: string;
    /** The catalog page: static files under CATALOG_ROOT served at this path (`/ui/`). Default: none (no page). */
    catalogPath?: string;
    /**
     * The catalog page on a host name of its own instead: a server for this name (same certificate, TLS
     * settings and allowlist) with the page at `/` and no Registry API; the page calls `catalogRegistryOrigin`,
     * which must then be in corsOrigins. Default: none (the page at catalogPath on the registry's name).
     */
    catalogHostname?: string;
    /** The registry's origin as the page on catalogHostname calls it (`https://host[:port]`). Required with catalogHostname. */
    catalogRegistryOrigin?: string;
    /**
     * Origins (`scheme://host[:port]`) whose pages may call the Registry API: CORS headers for them, and
     * preflights answered by the proxy (from allowed addresses). Default: [] (no CORS header at all).
     */
    corsOrigins?: string[];
    /**
     * How long nginx waits to connect to one registry address before it tries the next one the name
     * resolved to, in seconds. Default: none (nginx's 60 s).
     */
    upstreamConnectTimeoutSeconds?: number;
    /** Pull-through mirrors, each a server of its own with the registry's TLS settings and allowlist. Default: none. */
    mirrors?: NginxMirrorSite[];
    /**
     * htpasswd users checked at the proxy (renderers/nginx-auth.ts ships the njs module and the secret
     * include): each API request passes auth_request, whose verification at the registry is cached for
     * `verdictCacheSeconds` (0: no cache), then the user's permissions; the registry sees the proxy's
     * credential. Default: none (the registry checks the client's credentials itself).
     */
    basicAuth?: { verdictCacheSeconds: number };
    /** Log the `sub` claim of Bearer tokens (token auth) as `token_subject`. Default: false. */
    logTokenSubject?: boolean;
}

/** Where the proxy keeps the catalog page's files. */
export const CATALOG_ROOT = "/usr/share/registry-kit/catalog";
/** The header the catalog page sends: 401s to it carry no WWW-Authenticate (no browser dialog). */
export const CATALOG_MARKER_HEADER = "X-Registry-Kit-Catalog";

/** A mirror's server: on port 443 by its own name, or on a port of its own. */
export interface NginxMirrorSite {
    /** The mirror's name (a comment in the file). */
    name: string;
    /** The upstream's URL (a comment in the file). */
    upstreamUrl: string;
    /** `host:port` of the mirror's registry on the Docker network. */
    upstream: string;
    /** Its host name; on port 443 it must differ from the registry's. Default: the registry's host name. */
    hostname?: string;
    /** Port nginx listens on inside the container: 443 (by name, beside the registry) or MIRROR_HTTPS_PORT_BASE + n. */
    listenPort: number;
    /** Refuse writes (POST, PUT, PATCH, DELETE) with 405 before they reach the cache: mirrors without auth. Default: false. */
    refuseWrites?: boolean;
}

/** Inside the proxy container, a mirror on a host port of its own listens on this port plus its index. */
export const MIRROR_HTTPS_PORT_BASE = 10443;

/** A web application's virtual host: TLS, HTTP → HTTPS, WebSockets, X-Forwarded-Proto https. */
export interface NginxAppSite {
    /** Its public name; must differ from the registry's unless the port does. */
    hostname: string;
    /** `host:port` of the application on the Docker network. */
    upstream: string;
    /** Port nginx listens on inside the container: 443 when it shares the registry's public port, APP_HTTPS_PORT otherwise. */
    listenPort: number;
    /** Host port clients use, for redirects. */
    publicHttpsPort: number;
    /** Default: APP_CERT_PATH, APP_KEY_PATH. */
    certificatePath?: string;
    privateKeyPath?: string;
}

/** The application's certificate files, and its HTTPS port inside the container when it has a port of its own. */
export const APP_CERT_PATH = "/etc/nginx/tls/app.crt";
export const APP_KEY_PATH = "/etc/nginx/tls/app.key";
export const APP_HTTPS_PORT = 8443;

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
    const app = input.app;
    if (app) {
        if (!isHostname(app.hostname)) throw new Error(`nginx: app hostname ${JSON.stringify(app.hostname)} is not a DNS name or IP address`);
        if (!/^[a-z0-9.-]+:\d+$/i.test(app.upstream)) throw new Error(`nginx: app upstream ${JSON.stringify(app.upstream)} is not host:port`);
        if (app.listenPort === 443 && app.hostname.toLowerCase() === input.hostname.toLowerCase()) {
            throw new Error(`nginx: the app and the registry both answer to ${app.hostname} on port 443`);
        }
    }
    const retryAfter = input.readOnlyRetryAfterSeconds;
    if (retryAfter !== undefined && (!Number.isInteger(retryAfter) || retryAfter < 1)) {
        throw new Error(`nginx: readOnlyRetryAfterSeconds ${retryAfter} is not a whole number of seconds, 1 or more`);
    }
    const catalogPath = input.catalogPath;
    if (catalogPath !== undefined && (!/^\/(?:[A-Za-z0-9._~-]+\/)+$/.test(catalogPath) || catalogPath.startsWith("/v2/"))) {
        throw new Error(`nginx: catalogPath ${JSON.stringify(catalogPath)} is not a path such as /ui/ outside /v2/`);
    }
    const origins = input.corsOrigins ?? [];
    for (const o of origins) {
        if (!/^https?:\/\/[a-z0-9.\-[\]:]+$/.test(o)) throw new Error(`nginx: corsOrigins entry ${JSON.stringify(o)} is not an origin (scheme://host[:port])`);
    }
    const pageHost = input.catalogHostname;
    if (pageHost !== undefined) {
        if (!isHostname(pageHost)) throw new Error(`nginx: catalogHostname ${JSON.stringify(pageHost)} is not a DNS name or IP address`);
        if (catalogPath !== undefined) throw new Error("nginx: the catalog page at a path or on a host name of its own, not both");
        if (pageHost.toLowerCase() === input.hostname.toLowerCase()) throw new Error(`nginx: the catalog page and the registry both answer to ${pageHost}`);
        const registryOrigin = input.catalogRegistryOrigin;
        if (registryOrigin === undefined || !/^https:\/\/[a-z0-9.\-[\]:]+$/.test(registryOrigin))
            throw new Error(`nginx: catalogRegistryOrigin ${JSON.stringify(registryOrigin)} is not an https origin`);
    }
    const mirrors = input.mirrors ?? [];
    const served = new Set([`${input.hostname.toLowerCase()}:443`, ...(pageHost ? [`${pageHost.toLowerCase()}:443`] : [])]);
    for (const m of mirrors) {
        if (m.hostname !== undefined && !isHostname(m.hostname))
            throw new Error(`nginx: mirror hostname ${JSON.stringify(m.hostname)} is not a DNS name or IP address`);
        if (!/^[a-z0-9.-]+:\d+$/i.test(m.upstream)) throw new Error(`nginx: mirror upstream ${JSON.stringify(m.upstream)} is not host:port`);
        if (!/^[a-z0-9-]+$/.test(m.name) || /[\s{};'"]/.test(m.upstreamUrl))
            throw new Error(`nginx: mirror ${JSON.stringify(m.name)} has a name or URL that is not one word`);
        const key = `${(m.hostname ?? input.hostname).toLowerCase()}:${m.listenPort}`;
        if (served.has(key)) throw new Error(`nginx: two servers answer to ${key}`);
        served.add(key);
    }
    const basicAuth = input.basicAuth;
    if (basicAuth && (!Number.isInteger(basicAuth.verdictCacheSeconds) || basicAuth.verdictCacheSeconds < 0)) {
        throw new Error(`nginx: verdictCacheSeconds ${basicAuth.verdictCacheSeconds} is not a whole number of seconds, 0 or more`);
    }
    const ui = catalogPath !== undefined || origins.length > 0;
    // The Basic challenge: the registry's own (proxied), or in basicAuth the one its verification answered.
    const challenge = (ui || basicAuth !== undefined) && {
        source: basicAuth ? "$registry_kit_challenge" : "$upstream_http_www_authenticate",
    };
    const verdict = basicAuth !== undefined && { cacheSeconds: basicAuth.verdictCacheSeconds > 0 ? String(basicAuth.verdictCacheSeconds) : "" };
    const readOnly = retryAfter !== undefined && { flag: `${PROXY_MAINTENANCE_DIR}/readonly`, retryAfter: String(retryAfter) };
    const page = catalogPath !== undefined && { path: catalogPath, root: CATALOG_ROOT, connectSrc: "'self'" };
    const cors = origins.length > 0 && { origins, sourceDefault: input.allowCidrs.length > 0 ? "0" : "1" };
    // The catalog page and CORS belong to the registry's server only (a site's false stops mustache's lookup).
    const registrySite = {
        listen: "443 ssl default_server",
        serverName: input.hostname,
        upstream: input.upstream,
        readOnly,
        refuseWrites: false,
        mirror: false,
        ui,
        challenge,
        verdict,
        page,
        cors,
        pageOnly: false,
    };
    // The page on its own name: a server with the page at / and nothing else; it calls the registry's origin.
    const pageSites = pageHost
        ? [
              {
                  listen: "443 ssl",
                  serverName: pageHost,
                  upstream: input.upstream,
                  readOnly: false,
                  refuseWrites: false,
                  mirror: false,
                  ui: false,
                  page: { path: "/", root: CATALOG_ROOT, connectSrc: `'self' ${input.catalogRegistryOrigin}` },
                  cors: false,
                  pageOnly: true,
              },
          ]
        : [];
    const mirrorSites = mirrors.map((m) => ({
        listen: m.listenPort === 443 ? "443 ssl" : `${m.listenPort} ssl default_server`,
        serverName: m.hostname ?? input.hostname,
        upstream: m.upstream,
        readOnly: false,
        refuseWrites: m.refuseWrites ?? false,
        mirror: { name: m.name, upstream: m.upstreamUrl },
        ui: false,
        challenge: false,
        verdict: false,
        page: false,
        cors: false,
        pageOnly: false,
    }));
    if (input.metricsText !== undefined && !/^[A-Za-z0-9_ #.\n-]+$/.test(input.metricsText))
        throw new Error("nginx: metricsText holds characters nginx would read as syntax");
    const view = {
        metrics: input.metricsText !== undefined && { port: String(PROXY_METRICS_PORT), text: input.metricsText.replace(/\n/g, "\\n") },
        ui,
        challenge,
        njs: (basicAuth !== undefined || input.logTokenSubject === true) && { jsPath: NGINX_AUTH_JS_PATH },
        tokenSubject: input.logTokenSubject === true,
        basicAuth: basicAuth && {
            secretsPath: NGINX_AUTH_SECRETS_PATH,
            cacheSeconds: basicAuth.verdictCacheSeconds > 0 ? String(basicAuth.verdictCacheSeconds) : "",
            cacheDir: VERDICT_CACHE_DIR,
        },
        cors,
        readOnly,
        sites: [registrySite, ...pageSites, ...mirrorSites],
        anonymousMirrors: mirrors.some((m) => m.refuseWrites),
        hostname: input.hostname,
        upstream: input.upstream,
        httpsPortSuffix: input.publicHttpsPort === 443 ? "" : `:${input.publicHttpsPort}`,
        allowCidrs: input.allowCidrs,
        hasAllowList: input.allowCidrs.length > 0,
        hstsMaxAge: input.hstsMaxAge > 0 ? String(input.hstsMaxAge) : "",
        upstreamConnectTimeout: input.upstreamConnectTimeoutSeconds === undefined ? "" : `${input.upstreamConnectTimeoutSeconds}s`,
        acmeWebroot: ACME_WEBROOT,
        certificatePath: input.certificatePath ?? NGINX_CERT_PATH,
        privateKeyPath: input.privateKeyPath ?? NGINX_KEY_PATH,
        app: app && {
            hostname: app.hostname,
            upstream: app.upstream,
            listenPort: String(app.listenPort),
            httpsPortSuffix: app.publicHttpsPort === 443 ? "" : `:${app.publicHttpsPort}`,
            acmeWebroot: ACME_WEBROOT,
            hstsMaxAge: input.hstsMaxAge > 0 ? String(input.hstsMaxAge) : "",
            certificatePath: app.certificatePath ?? APP_CERT_PATH,
            privateKeyPath: app.privateKeyPath ?? APP_KEY_PATH,
        },
    };
    return renderTemplate("nginx.conf", view);
}
