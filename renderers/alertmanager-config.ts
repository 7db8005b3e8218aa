/**
 * alertmanager.yml as a typed object: the receivers a user lists (webhooks, mail) and one route that
 * gives every alert to every receiver (or to those taking its severity). Pure: no Pulumi, no I/O. The
 * text holds receivers' URLs, tokens and passwords: callers keep it secret.
 */
import { stringify } from "yaml";

export const ALERTMANAGER_CONFIG_PATH = "/etc/alertmanager/alertmanager.yml";
export const ALERTMANAGER_DATA_DIR = "/alertmanager";
export const ALERTMANAGER_PORT = 9093;
/** The root route's receiver, which sends nothing: an alert no receiver takes (by severity) ends there. */
export const UNROUTED_RECEIVER = "registry-kit-unrouted";

export interface AlertBasicAuthInput {
    username: string;
    password: string;
}

export interface AlertWebhookInput {
    url: string;
    /** Sent as `Authorization: Bearer <token>`. */
    bearerToken?: string;
    basicAuth?: AlertBasicAuthInput;
    sendResolved: boolean;
}

export interface AlertEmailInput {
    /** `host:port` of the SMTP server. */
    smarthost: string;
    from: string;
    to: string[];
    authUsername?: string;
    authPassword?: string;
    requireTls: boolean;
    sendResolved: boolean;
}

export interface AlertReceiverInput {
    name: string;
    webhook?: AlertWebhookInput;
    email?: AlertEmailInput;
    /** Only alerts with these `severity` labels. Default: all. */
    severities?: string[];
}

export interface AlertmanagerConfigInput {
    receivers: AlertReceiverInput[];
    groupBy: string[];
    /** Prometheus durations. */
    groupWait: string;
    groupInterval: string;
    repeatInterval: string;
}

function webhookConfig(w: AlertWebhookInput): Record<string, unknown> {
    const auth = w.bearerToken
        ? { authorization: { type: "Bearer", credentials: w.bearerToken } }
        : w.basicAuth
          ? { basic_auth: { username: w.basicAuth.username, password: w.basicAuth.password } }
          : undefined;
    return { url: w.url, send_resolved: w.sendResolved, ...(auth ? { http_config: auth } : {}) };
}

function emailConfig(e: AlertEmailInput): Record<string, unknown> {
    return {
        to: e.to.join(", "),
        from: e.from,
        smarthost: e.smarthost,
        require_tls: e.requireTls,
        send_resolved: e.sendResolved,
        ...(e.authUsername ? { auth_username: e.authUsername } : {}),
        ...(e.authPassword ? { auth_password: e.authPassword } : {}),
    };
}

export function alertmanagerConfig(input: AlertmanagerConfigInput): Record<string, unknown> {
    if (input.receivers.length === 0) throw new Error("alertmanager config: at least one receiver");
    return {
        route: {
            receiver: UNROUTED_RECEIVER,
            group_by: [...input.groupBy],
            group_wait: input.groupWait,
            group_interval: input.groupInterval,
            repeat_interval: input.repeatInterval,
            routes: input.receivers.map((r) => ({
                receiver: r.name,
                ...(r.severities && r.severities.length ? { matchers: [`severity=~"${r.severities.join("|")}"`] } : {}),
                continue: true,
            })),
        },
        receivers: [
            { name: UNROUTED_RECEIVER },
            ...input.receivers.map((r) => ({
                name: r.name,
                ...(r.webhook ? { webhook_configs: [webhookConfig(r.webhook)] } : {}),
                ...(r.email ? { email_configs: [emailConfig(r.email)] } : {}),
            })),
        ],
    };
}

export function renderAlertmanagerConfig(input: AlertmanagerConfigInput): string {
    return stringify(alertmanagerConfig(input), { lineWidth: 0 });
}
