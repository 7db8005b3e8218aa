/**
 * ACME (HTTP-01) for Harbor's own proxy: the port-8080 server that answers the challenges, and the
 * environment of the certbot containers (templates/certbot-acme.sh with templates/harbor-acme-deploy.sh
 * as its deploy hook). Pure: no Pulumi, no I/O beyond reading the templates.
 */
import { ACME_WEBROOT } from "./nginx-conf";
import { templateText } from "./template";

/** Where Harbor's proxy container (`nginx`, common/config/nginx mounted at /etc/nginx) sees the challenge webroot. */
export const HARBOR_ACME_WEBROOT = "/etc/nginx/registry-kit-acme";
/** The deploy hook's path in the certbot container. */
export const HARBOR_ACME_HOOK = "/etc/registry-kit/bin/harbor-acme-deploy.sh";

/**
 * The challenge server for Harbor's port 80 (container port 8080). conf.d/*.server.conf is included before
 * Harbor's own port-8080 server (a catch-all without server_name that redirects to HTTPS), so this one is
 * nginx's default server for 8080 and answers every name: it redirects exactly as Harbor's does
 * (`https://$host:<https port>$request_uri`) and serves only /.well-known/acme-challenge/ from the webroot.
 */
export function renderHarborAcmeServerConf(hostname: string, httpsPort: number): string {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    return [
        "# registry-kit: ACME HTTP-01 challenges on Harbor's port 80 (written after every prepare, which empties conf.d).",
        "server {",
        "    listen 8080;",
        `    server_name ${host};`,
        "    location /.well-known/acme-challenge/ {",
        `        root ${HARBOR_ACME_WEBROOT};`,
        "    }",
        "    location / {",
        `        return 308 https://$host:${httpsPort}$request_uri;`,
        "    }",
        "}",
        "",
    ].join("\n");
}

export interface HarborAcmeEnvParams {
    domains: string[];
    certName: string;
    directoryUrl: string;
    email?: string;
    keyType: string;
    rsaKeySize: number;
    ellipticCurve: string;
    renewIntervalHours: number;
    retrySeconds: number;
}

/** `docker run --env-file` text for certbot-acme.sh: one KEY=value a line, values without newlines. */
export function harborAcmeEnv(p: HarborAcmeEnvParams): string {
    const env: [string, string | number][] = [
        ["RK_DOMAINS", p.domains.join(",")],
        ["RK_CERT_NAME", p.certName],
        ["RK_SERVER", p.directoryUrl],
        ["RK_EMAIL", p.email ?? ""],
        ["RK_KEY_TYPE", p.keyType],
        ["RK_RSA_KEY_SIZE", p.rsaKeySize],
        ["RK_ELLIPTIC_CURVE", p.ellipticCurve],
        ["RK_WEBROOT", ACME_WEBROOT],
        ["RK_RENEW_SECONDS", p.renewIntervalHours * 3600],
        ["RK_RETRY_SECONDS", p.retrySeconds],
        ["RK_DEPLOY_HOOK", `/bin/sh ${HARBOR_ACME_HOOK}`],
    ];
    for (const [k, v] of env) if (/[\r\n]/.test(String(v))) throw new Error(`harborAcmeEnv: ${k} must not contain a line break`);
    return env.map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** The scripts the certbot containers and the lifecycle run, by their file name on the host (installDir/acme/bin). */
export function harborAcmeScripts(): Record<string, string> {
    return {
        "certbot-acme.sh": templateText("certbot-acme.sh"),
        "harbor-acme-deploy.sh": templateText("harbor-acme-deploy.sh"),
        "harbor-acme.sh": templateText("harbor-acme.sh"),
    };
}
