/**
 * TlsProxy: the Nginx container that terminates TLS in front of the registry, with its config
 * rendered from templates/nginx.conf.mustache and an ACME webroot volume on port 80.
 */
import * as net from "node:net";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { X509Certificate } from "node:crypto";
import { proxyMetricsText } from "../renderers/registry-alerts";
import { containerLogging } from "../primitives/logging";
import { z } from "zod";
import {
    ACME_WEBROOT,
    APP_CERT_PATH,
    APP_HTTPS_PORT,
    APP_KEY_PATH,
    LETSENCRYPT_DIR,
    NGINX_ACTIVE_CERT_PATH,
    NGINX_ACTIVE_KEY_PATH,
    NGINX_BOOTSTRAP_DIR,
    NGINX_CERT_PATH,
    NGINX_CONFIG_PATH,
    NGINX_KEY_PATH,
    MIRROR_HTTPS_PORT_BASE,
    NginxAppSite,
    NginxMirrorSite,
    PROXY_MAINTENANCE_DIR,
    renderNginxConf,
} from "../renderers/nginx-conf";
import { CATALOG_UPLOAD_PATHS, catalogFiles } from "../renderers/catalog";
import { AccessRule, NGINX_AUTH_JS_PATH, NGINX_AUTH_SECRETS_PATH, renderAuthJs, renderAuthSecrets, renderTokenSubjectJs } from "../renderers/nginx-auth";
import { templateText } from "../renderers/template";
import { image } from "../primitives/images";
import { cidr, hostname, ipAddress, port } from "../primitives/network";
import { labels, serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { validateArgs } from "./validate";

/** ACME mode: serve the certificate certbot keeps on the proxy's letsencrypt volume. */
export interface TlsProxyAcmeArgs {
    /** certbot's `--cert-name`: the certificate is read from /etc/letsencrypt/live/<certName>/. Required. */
    certName: string;
    /** Seconds between checks for a new certificate, each followed by a graceful reload. Default: 30. */
    reloadCheckSeconds?: number;
    /** Keep the letsencrypt volume (account and certificates) on destroy. Default: true. */
    retainOnDelete?: boolean;
}

/** A second virtual host on the same proxy for a web application such as GitLab. */
export interface TlsProxyAppArgs {
    /** Its public name. Required. */
    hostname: pulumi.Input<string>;
    /** `host:port` of the application on the network. Required. */
    upstream: pulumi.Input<string>;
    /** Host port for its HTTPS; the same as the registry's shares port 443 by name (SNI). Default: the registry's httpsPort. */
    httpsPort?: pulumi.Input<number>;
    /** PEM certificate chain for its name. Default: the registry's (which must then name it too; ACME mode always uses the one certificate). */
    certificatePem?: pulumi.Input<string>;
    /** PEM private key of that certificate, made secret here. Default: the registry's. */
    privateKeyPem?: pulumi.Input<string>;
}

export interface TlsProxyArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
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
    /**
     * ACME mode: `certificatePem`/`privateKeyPem` only bootstrap the proxy until certbot's certificate
     * exists on the letsencrypt volume, which the proxy then serves and follows. Default: none.
     * Plain value: it decides which resources exist.
     */
    acme?: TlsProxyAcmeArgs;
    /** A second virtual host for a web application (GitLab). Default: none. Plain object: it decides the ports and files. */
    app?: TlsProxyAppArgs;
    /**
     * Garbage collection's read-only window: the maintenance job's control volume, mounted read-only;
     * while its `readonly` file exists, writes get 503 with Retry-After and reads pass. Default: none.
     * Plain object: it decides the mounts.
     */
    maintenance?: TlsProxyMaintenanceArgs;
    /** The catalog web page on the registry's host name. Default: none. Plain object: it decides the uploads. */
    catalog?: TlsProxyCatalogArgs;
    /**
     * Origins (`scheme://host[:port]`) whose pages may call the Registry API from a browser: CORS headers
     * and preflight answers for exactly these. Default: [] (no CORS headers).
     */
    corsOrigins?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Pull-through mirrors served beside the registry, with its certificate, TLS settings and allowlist: each on
     * its own host name (port 443 inside, `httpsPort` outside) or on a host port of its own. Default: [].
     * Plain list: it decides the ports.
     */
    mirrors?: TlsProxyMirrorArgs[];
    /**
     * Serve metrics for Prometheus on port 9113 of the Docker network (never published): that the proxy
     * is up, and the served certificate's expiry (not in ACME mode, where certbot replaces it). Default: false.
     * Plain value: it decides the config.
     */
    metrics?: boolean;
    /**
     * htpasswd users checked at the proxy: every Registry API request passes an auth_request whose check
     * of the client's credentials at the registry is cached (successes only, keyed by an HMAC of the
     * header), then the user's permissions; the registry behind sees the proxy's own credential.
     * Default: none (the registry checks each request's credentials itself). Plain object: it decides the config.
     */
    basicAuth?: TlsProxyBasicAuthArgs;
    /** Log the `sub` claim of Bearer tokens as `token_subject` in the access log (token auth). Default: false. */
    logTokenSubject?: boolean;
}

export interface TlsProxyBasicAuthArgs {
    /** The secret the users' passwords toward the registry are derived from (Htpasswd's `proxySecret`, with `proxied`), made secret here. Required. */
    proxySecret: pulumi.Input<string>;
    /** The verdict cache's HMAC key (Htpasswd's `verdictKey`), made secret here; a new key drops every cached verdict. Required. */
    verdictKey: pulumi.Input<string>;
    /** Seconds a successful check is remembered; 0 checks every request at the registry. Default: 60. */
    verdictCacheSeconds?: number;
    /** Per user name: `{ repositories, actions }` rules; a user not listed is refused (403) after a valid login. Required. */
    access: pulumi.Input<Record<string, AccessRule[]>>;
}

/** Refuses a basicAuth whose plain arguments are out of range (TlsProxy's and SwarmProxy's). */
export function validateBasicAuth(component: string, name: string, basicAuth: TlsProxyBasicAuthArgs | undefined): void {
    if (basicAuth) validateArgs(component, name, basicAuth, { verdictCacheSeconds: z.number().int().min(0, { message: "a number of seconds, 0 or more" }) });
}

/** The credential check's files: the njs module (its users' rules, no secret) and the include with its keys (a secret). */
export function basicAuthFiles(basicAuth: TlsProxyBasicAuthArgs): { authJs: pulumi.Output<string>; authSecrets: pulumi.Output<string> } {
    const authSecrets = pulumi
        .all([pulumi.secret(basicAuth.proxySecret), pulumi.secret(basicAuth.verdictKey)])
        .apply(([proxySecret, verdictKey]) => renderAuthSecrets({ proxySecret, verdictKey }));
    return { authJs: pulumi.output(basicAuth.access).apply((access) => renderAuthJs(access)), authSecrets: pulumi.secret(authSecrets) };
}

export interface TlsProxyCatalogArgs {
    /** Path of the page, starting and ending with `/`. Default: /ui/. */
    path?: string;
    /** Show delete buttons on the page (the registry decides whether a delete works). Default: false. */
    deleteEnabled?: pulumi.Input<boolean>;
    /** `host[:port]` in the page's `docker pull` commands. Default: hostname, with `:httpsPort` unless 443. */
    pullHost?: pulumi.Input<string>;
    /**
     * Serve the page on this host name of its own (port 443 inside, `httpsPort` outside; the certificate
     * must name it), at `/`, instead of at `path`; it calls the registry's host with CORS, so `corsOrigins`
     * must list its origin. Default: none (the page at `path` on `hostname`). Plain value: it decides the config.
     */
    hostname?: string;
}

export interface TlsProxyMirrorArgs {
    /** The mirror's name. Required. */
    name: string;
    /** The upstream's URL (a comment in nginx.conf). Required. */
    upstreamUrl: string;
    /** `host:port` of the mirror's registry on the network. Required. */
    upstream: pulumi.Input<string>;
    /** Its host name (the certificate must name it). Default: the registry's hostname (then httpsPort is required). */
    hostname?: string;
    /** A host port of its own. Default: the registry's httpsPort (then hostname is required). */
    httpsPort?: number;
    /** Refuse writes at the proxy (a mirror without auth). Default: false. */
    refuseWrites?: boolean;
}

export interface TlsProxyMaintenanceArgs {
    /** The control volume the maintenance job writes its flag to. Required. */
    controlVolumeName: pulumi.Input<string>;
    /** Retry-After of refused writes, in seconds. Default: 300. */
    retryAfterSeconds?: pulumi.Input<number>;
}

/** The first certificate's notAfter in seconds, or undefined when the text is not a certificate (unknown at preview, a mock). */
function certificateExpiry(pem: string | undefined): number | undefined {
    if (pem === undefined) return undefined;
    try {
        return Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);
    } catch {
        return undefined;
    }
}

/** `host` or `host:port` as a URL writes it (IPv6 in brackets; no port when it is 443). */
function hostPortText(host: string, port: number): string {
    const h = host.includes(":") ? `[${host}]` : host;
    return port === 443 ? h : `${h}:${port}`;
}

export class TlsProxy extends pulumi.ComponentResource {
    /** The container. */
    public readonly container: docker.Container;
    /** The rendered nginx.conf (contains no secret). */
    public readonly nginxConf: pulumi.Output<string>;
    /** Name of the volume nginx serves `/.well-known/acme-challenge/` from. */
    public readonly acmeWebrootVolume: pulumi.Output<string>;
    /** ACME mode: the volume holding certbot's account and certificates (undefined otherwise). */
    public readonly letsencryptVolume: pulumi.Output<string> | undefined;

    constructor(name: string, args: TlsProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:proxy:TlsProxy", name, {}, opts);
        validateArgs("TlsProxy", name, args, {
            logging: containerLogging,
            hostname,
            image,
            hostIp: ipAddress,
            httpsPort: port,
            httpPort: port,
            allowCidrs: z.array(cidr),
            hstsMaxAge: z.number().int().min(0, { message: "a number of seconds, 0 or more" }),
        });
        validateBasicAuth("TlsProxy", name, args.basicAuth);
        if (typeof args.httpsPort === "number" && args.httpsPort === args.httpPort) {
            throw new Error(`TlsProxy "${name}": invalid arguments:\nargs.httpPort: got ${args.httpPort}; allowed: a port other than args.httpsPort`);
        }
        const mirrors = args.mirrors ?? [];
        for (const m of mirrors) validateArgs("TlsProxy", name, m, { hostname, httpsPort: port });
        const mirrorSites = pulumi.all(mirrors.map((m) => m.upstream)).apply((upstreams) =>
            mirrors.map((m, i): NginxMirrorSite => ({
                name: m.name,
                upstreamUrl: m.upstreamUrl,
                upstream: upstreams[i],
                hostname: m.hostname,
                listenPort: m.httpsPort === undefined ? 443 : MIRROR_HTTPS_PORT_BASE + i,
                refuseWrites: m.refuseWrites ?? false,
            })),
        );
        const app = args.app;
        if (app) validateArgs("TlsProxy", name, app, { hostname, httpsPort: port });
        if (args.catalog) validateArgs("TlsProxy", name, args.catalog, { hostname });
        const httpsPort = pulumi.output(args.httpsPort ?? 443);
        const appPort = app ? pulumi.all([app.httpsPort, httpsPort]).apply(([a, r]) => a ?? r) : undefined;
        // The application listens on 443 beside the registry when it shares the public port, else on a port of its own.
        const appListenPort = appPort && pulumi.all([appPort, httpsPort]).apply(([a, r]) => (a === r ? 443 : APP_HTTPS_PORT));
        const ownAppCert = app?.certificatePem !== undefined && !args.acme;
        const httpPort = pulumi.output(args.httpPort ?? 80);
        const hostIp = pulumi.output(args.hostIp ?? "0.0.0.0");

        const certFiles = args.acme ? { certificatePath: NGINX_ACTIVE_CERT_PATH, privateKeyPath: NGINX_ACTIVE_KEY_PATH } : {};
        // Without a certificate of its own the application is served the registry's (in ACME mode, certbot's for both names).
        const appCertFiles = ownAppCert ? {} : { certificatePath: NGINX_CERT_PATH, privateKeyPath: NGINX_KEY_PATH, ...certFiles };
        const appSite: pulumi.Output<NginxAppSite | undefined> = app
            ? pulumi.all([app.hostname, app.upstream, appPort!, appListenPort!]).apply(([appHostname, appUpstream, publicHttpsPort, listenPort]) => ({
                  hostname: appHostname,
                  upstream: appUpstream,
                  publicHttpsPort,
                  listenPort,
                  ...appCertFiles,
              }))
            : pulumi.output(undefined);
        this.nginxConf = pulumi
            .all([
                args.hostname,
                args.upstream,
                httpsPort,
                args.allowCidrs ?? [],
                args.hstsMaxAge ?? 31536000,
                appSite,
                pulumi
                    .all([args.maintenance ? (args.maintenance.retryAfterSeconds ?? 300) : undefined, args.metrics ? args.certificatePem : undefined])
                    .apply(([retry, pem]) => ({ retry, pem })),
                pulumi.all([args.corsOrigins ?? [], mirrorSites]),
            ])
            .apply(
                ([hostname, upstream, publicHttpsPort, allowCidrs, hstsMaxAge, site, { retry: readOnlyRetryAfterSeconds, pem }, [corsOrigins, mirrorList]]) =>
                    renderNginxConf({
                        hostname,
                        upstream,
                        publicHttpsPort,
                        allowCidrs,
                        hstsMaxAge,
                        ...certFiles,
                        app: site,
                        readOnlyRetryAfterSeconds,
                        catalogPath: args.catalog && !args.catalog.hostname ? (args.catalog.path ?? "/ui/") : undefined,
                        catalogHostname: args.catalog?.hostname,
                        catalogRegistryOrigin: args.catalog?.hostname ? `https://${hostPortText(hostname, publicHttpsPort)}` : undefined,
                        corsOrigins,
                        mirrors: mirrorList.length > 0 ? mirrorList : undefined,
                        metricsText: args.metrics ? proxyMetricsText(args.acme ? undefined : certificateExpiry(pem)) : undefined,
                        basicAuth: args.basicAuth && { verdictCacheSeconds: args.basicAuth.verdictCacheSeconds ?? 60 },
                        logTokenSubject: args.logTokenSubject,
                    }),
            );
        const catalog = args.catalog;
        const pageFiles = catalog
            ? pulumi.all([catalog.pullHost, args.hostname, httpsPort, catalog.deleteEnabled ?? false]).apply(([pullHost, host, https, deleteEnabled]) =>
                  catalogFiles({
                      pullHost: pullHost ?? hostPortText(host, https),
                      deleteEnabled,
                      // On a name of its own the page calls the registry's origin; on a path, its own.
                      registry: catalog.hostname ? `https://${hostPortText(host, https)}` : "",
                  }),
              )
            : undefined;

        const webroot = new docker.Volume(`${name}-acme-webroot`, { name: `${name}-acme-webroot` }, { parent: this });
        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "nginx:1.27", keepLocally: true }, { parent: this });
        const certificatePem = pulumi.output(args.certificatePem);
        const privateKeyPem = pulumi.secret(args.privateKeyPem);
        const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [{ file: NGINX_CONFIG_PATH, content: this.nginxConf }];
        const volumes: pulumi.Input<docker.types.input.ContainerVolume>[] = [{ volumeName: webroot.name, containerPath: ACME_WEBROOT, readOnly: true }];
        if (pageFiles) {
            uploads.push(...CATALOG_UPLOAD_PATHS.map((file, i) => ({ file, content: pageFiles.apply((f) => f[i].content), permissions: "0644" })));
        }
        const authFiles = args.basicAuth && basicAuthFiles(args.basicAuth);
        const authJs = authFiles ? authFiles.authJs : args.logTokenSubject ? pulumi.output(renderTokenSubjectJs()) : undefined;
        if (authJs) uploads.push({ file: NGINX_AUTH_JS_PATH, content: authJs, permissions: "0644" });
        if (authFiles) uploads.push({ file: NGINX_AUTH_SECRETS_PATH, content: authFiles.authSecrets, permissions: "0600" });
        if (args.maintenance) {
            volumes.push({ volumeName: args.maintenance.controlVolumeName, containerPath: PROXY_MAINTENANCE_DIR, readOnly: true });
        }
        const envs: string[] = [];
        if (args.acme) {
            const letsencrypt = new docker.Volume(
                `${name}-letsencrypt`,
                { name: `${name}-letsencrypt`, labels: labels({ "registry-kit.role": "acme-certificates" }) },
                // The ACME account and certificates: losing them means re-issuing against rate limits.
                { parent: this, retainOnDelete: args.acme.retainOnDelete ?? true },
            );
            this.letsencryptVolume = letsencrypt.name;
            uploads.push(
                { file: `${NGINX_BOOTSTRAP_DIR}/fullchain.pem`, content: certificatePem, permissions: "0644" },
                { file: `${NGINX_BOOTSTRAP_DIR}/privkey.pem`, content: privateKeyPem, permissions: "0600" },
                { file: "/docker-entrypoint.d/40-registry-kit-acme-cert.sh", content: templateText("nginx-acme-cert.sh"), permissions: "0755" },
            );
            volumes.push({ volumeName: letsencrypt.name, containerPath: LETSENCRYPT_DIR, readOnly: true });
            envs.push(`RK_CERT_NAME=${args.acme.certName}`, `RK_RELOAD_CHECK_SECONDS=${args.acme.reloadCheckSeconds ?? 30}`);
        } else {
            uploads.push(
                { file: NGINX_CERT_PATH, content: certificatePem, permissions: "0644" },
                { file: NGINX_KEY_PATH, content: privateKeyPem, permissions: "0600" },
            );
        }

        if (app && ownAppCert) {
            uploads.push(
                { file: APP_CERT_PATH, content: pulumi.output(app.certificatePem!), permissions: "0644" },
                { file: APP_KEY_PATH, content: pulumi.secret(app.privateKeyPem!), permissions: "0600" },
            );
        }
        const ports = pulumi
            .all([httpsPort, httpPort, hostIp, appPort])
            .apply(([https, http, ip, appHttps]) => [
                { internal: 443, external: https, ip },
                { internal: 80, external: http, ip },
                ...(appHttps !== undefined && appHttps !== https ? [{ internal: APP_HTTPS_PORT, external: appHttps, ip }] : []),
                ...mirrors.flatMap((m, i) => (m.httpsPort === undefined ? [] : [{ internal: MIRROR_HTTPS_PORT_BASE + i, external: m.httpsPort, ip }])),
            ]);
        // The public names as aliases too: containers on the network reach the proxy by them.
        const aliases = pulumi.all([args.hostname, app?.hostname, args.catalog?.hostname]).apply((names) => {
            const own = names.filter((h): h is string => h !== undefined && net.isIP(h) === 0);
            const mirrorNames = mirrors.map((m) => m.hostname).filter((h): h is string => h !== undefined && net.isIP(h) === 0 && !own.includes(h));
            return ["proxy", ...own, ...mirrorNames];
        });

        this.container = new docker.Container(
            name,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                uploads,
                volumes,
                envs,
                // `pulumi up` goes on only once nginx answers: ACME's HTTP-01 challenge needs it.
                wait: true,
                waitTimeout: 60,
                ports,
                networksAdvanced: [{ name: args.networkName, aliases }],
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "tls-proxy",
                    // The page's files only when it is served: an unchanged stack keeps its hash.
                    configText: pulumi.concat(
                        this.nginxConf,
                        certificatePem,
                        app?.certificatePem ?? "",
                        pageFiles?.apply((f) => f.map((x) => x.content).join("")) ?? "",
                        authJs ?? "",
                    ),
                    healthTest: ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/healthz"],
                    startPeriodSeconds: 5,
                    // nginx's image stops it with SIGQUIT: a graceful shutdown that lets pushes and pulls in
                    // flight finish, for up to this long.
                    stopGraceSeconds: 60,
                }),
            },
            // Children do not inherit the component's dependsOn: pass it on.
            { parent: this, deleteBeforeReplace: true, dependsOn: opts?.dependsOn },
        );

        this.acmeWebrootVolume = webroot.name;
        this.registerOutputs({ nginxConf: this.nginxConf, acmeWebrootVolume: this.acmeWebrootVolume, letsencryptVolume: this.letsencryptVolume });
    }
}
