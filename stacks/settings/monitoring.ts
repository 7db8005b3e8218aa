/**
 * The `monitoring:` section: the Prometheus container, the volume exporter and the optional Alertmanager.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { prometheusDuration } from "../../primitives/durations";
import { image } from "../../primitives/images";
import { emailAddress, hostPortProblem, ipAddress, isHttpUrl, port } from "../../primitives/network";

const RECEIVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const webhook = z
    .strictObject({
        /** URL Alertmanager posts alerts to (secret: webhook URLs often carry a token). Required. */
        url: z
            .string()
            .refine(isHttpUrl, { message: "an http:// or https:// URL" })
            .refine((u) => !/^https?:\/\/[^/@\s]*@/.test(u), { message: "a URL without user:password@ (use basicAuth)" }),
        /** Sent as `Authorization: Bearer <token>` (secret). Default: none. */
        bearerToken: z.string().min(1).optional(),
        /** HTTP basic auth (the password is secret). Default: none. */
        basicAuth: z
            .strictObject({
                /** User name. Required. */
                username: z.string().min(1),
                /** Password (secret). Required. */
                password: z.string().min(1),
            })
            .optional(),
        /** Also notify when the alert is resolved. Default: true. */
        sendResolved: z.boolean().default(true),
    })
    .superRefine((w, ctx) => {
        if (w.bearerToken && w.basicAuth)
            ctx.addIssue({ code: "custom", path: ["bearerToken"], input: undefined, message: "either bearerToken or basicAuth, not both" });
    });

const email = z.strictObject({
    /** The SMTP server, `host:port`. Required. */
    smarthost: z.string().refine((v) => hostPortProblem(v) === undefined, { message: "host:port of the SMTP server, e.g. smtp.example.com:587" }),
    /** The sender address. Required. */
    from: emailAddress,
    /** The recipients. Required, at least one. */
    to: z.array(emailAddress).min(1, { message: "at least one recipient" }),
    /** SMTP AUTH user name. Default: none (no authentication). */
    authUsername: z.string().min(1).optional(),
    /** SMTP AUTH password (secret). Default: none. */
    authPassword: z.string().min(1).optional(),
    /** Refuse to send without STARTTLS. Default: true. */
    requireTls: z.boolean().default(true),
    /** Also notify when the alert is resolved. Default: false. */
    sendResolved: z.boolean().default(false),
});

const receiver = z
    .strictObject({
        /** Receiver name in Alertmanager's config and UI. Required. */
        name: z.string().regex(RECEIVER_NAME, { message: "a simple name: letters, digits, '.', '_', '-', starting with a letter or digit" }),
        /** A webhook to post alerts to. Default: none. */
        webhook: webhook.optional(),
        /** Mail to send alerts as. Default: none. */
        email: email.optional(),
        /** Only alerts of these severities reach this receiver. Default: all (critical and warning). */
        severities: z
            .array(z.enum(["critical", "warning"]))
            .min(1)
            .optional(),
    })
    .superRefine((r, ctx) => {
        // The value is looked up at the path (none here): the receiver itself may hold secrets.
        if (!r.webhook && !r.email) ctx.addIssue({ code: "custom", path: ["webhook"], input: undefined, message: "a webhook or an email (or both)" });
        if (r.email?.authPassword && !r.email.authUsername)
            ctx.addIssue({ code: "custom", path: ["email", "authUsername"], input: undefined, message: "authUsername with authPassword" });
    });

export const alertmanagerSchema = z
    .strictObject({
        /** Run an Alertmanager container that Prometheus sends firing alerts to. Default: false. */
        enabled: z.boolean().default(false),
        /** Alertmanager image. Default: prom/alertmanager:v0.27.0. */
        image: image.default("prom/alertmanager:v0.27.0"),
        /** Host address its UI and API are published on. Default: 127.0.0.1. */
        hostIp: ipAddress.default("127.0.0.1"),
        /** Host port of its UI and API. Default: 9093. */
        port: port.default(9093),
        /** Where alerts go; each gets every alert (or those of its severities). Required when enabled, at least one. */
        receivers: z.array(receiver).default([]),
        /** Alerts with equal values of these labels are sent together. Default: [alertname, job]. */
        groupBy: z.array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { message: "a label name" })).default(["alertname", "job"]),
        /** Wait before the first notification of a new group (Prometheus duration). Default: 30s. */
        groupWait: prometheusDuration.default("30s"),
        /** Wait before notifying of new alerts in a group already notified (Prometheus duration). Default: 5m. */
        groupInterval: prometheusDuration.default("5m"),
        /** Wait before sending a still-firing alert again (Prometheus duration). Default: 4h. */
        repeatInterval: prometheusDuration.default("4h"),
    })
    .superRefine((a, ctx) => {
        if (a.enabled && a.receivers.length === 0)
            ctx.addIssue({ code: "custom", path: ["receivers"], input: a.receivers, message: "at least one receiver when alertmanager.enabled is true" });
        const seen = new Set<string>();
        a.receivers.forEach((r, i) => {
            if (seen.has(r.name)) ctx.addIssue({ code: "custom", path: ["receivers", i, "name"], input: r.name, message: "a name no other receiver has" });
            seen.add(r.name);
        });
    })
    .prefault({});

export const monitoringSchema = z
    .strictObject({
        /** Run a Prometheus container. Default: true. */
        enabled: z.boolean().default(true),
        /** Prometheus image. Default: prom/prometheus:v2.55.1. */
        image: image.default("prom/prometheus:v2.55.1"),
        /** Host address Prometheus is published on. Default: 127.0.0.1. */
        hostIp: ipAddress.default("127.0.0.1"),
        /** Host port of Prometheus. Default: 9090. */
        port: port.default(9090),
        /** How long to keep samples. Default: 15d. */
        retentionTime: prometheusDuration.default("15d"),
        /** Cap on the TSDB size, e.g. 10GB; empty for none. Default: none. */
        retentionSize: z
            .string()
            .regex(/^\d+(B|KB|MB|GB|TB|PB)$/, { message: "a size such as 512MB or 10GB" })
            .optional(),
        /** Scrape interval. Default: 30s. */
        scrapeInterval: prometheusDuration.default("30s"),
        /** How long a registry or the proxy fails its scrapes before RegistryDown / RegistryProxyDown fire. Default: 2m. */
        downFor: prometheusDuration.default("2m"),
        /** The volume exporter (node exporter, filesystem collector only) and the volume alerts. */
        volumes: z
            .strictObject({
                /** Run it. Default: true with filesystem storage (small-team, gitlab), false otherwise. */
                enabled: z.boolean().optional(),
                /** Node exporter image. Default: prom/node-exporter:v1.8.2. */
                image: image.default("prom/node-exporter:v1.8.2"),
                /** RegistryVolumeNearlyFull fires (after 10m) when less than this percent of a volume's filesystem is available. Default: 10. */
                nearlyFullPercent: z
                    .number()
                    .gt(0, { message: "a percentage above 0 and below 100" })
                    .lt(100, { message: "a percentage above 0 and below 100" })
                    .default(10),
                /** RegistryVolumeFillingUp fires (after 1h) when the last 6 hours' trend fills a volume within this many hours. Default: 24. */
                fullWithinHours: z
                    .number()
                    .int({ message: "whole hours from 1 to 8760" })
                    .min(1, { message: "whole hours from 1 to 8760" })
                    .max(8760, { message: "whole hours from 1 to 8760" })
                    .default(24),
            })
            .prefault({}),
        /** Alertmanager and its receivers. */
        alertmanager: alertmanagerSchema,
    })
    .prefault({});
