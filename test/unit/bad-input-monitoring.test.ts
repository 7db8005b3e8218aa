/**
 * `registry-kit:monitoring` settings that cannot work fail at preview, one line per problem naming the
 * setting, the value (never a secret) and what is allowed: the volume exporter and its thresholds.
 */
import { describe, expect, it } from "vitest";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { volumeExporterEnabled } from "../../stacks/schema";

const base = { hostname: "registry.example.com" };
const failure = (monitoring: Record<string, unknown>, more: Record<string, unknown> = {}) => settingsFailure({ ...base, ...more, monitoring }, ["monitoring"]);
const lines = (msg: string) => msg.split("\n").slice(1);

describe("volume exporter settings", () => {
    it("thresholds out of range", () => {
        expect(lines(failure({ volumes: { nearlyFullPercent: 0, fullWithinHours: 1.5 } }))).toEqual([
            "registry-kit:monitoring.volumes.nearlyFullPercent: got 0; allowed: a percentage above 0 and below 100",
            "registry-kit:monitoring.volumes.fullWithinHours: got 1.5; allowed: whole hours from 1 to 8760",
        ]);
        expect(lines(failure({ volumes: { nearlyFullPercent: 100, fullWithinHours: 0 } }))).toEqual([
            "registry-kit:monitoring.volumes.nearlyFullPercent: got 100; allowed: a percentage above 0 and below 100",
            "registry-kit:monitoring.volumes.fullWithinHours: got 0; allowed: whole hours from 1 to 8760",
        ]);
        expect(lines(failure({ downFor: "90s5m" }))[0]).toMatch(/^registry-kit:monitoring.downFor: got "90s5m"; allowed: a Prometheus duration/);
    });

    it("turned on where there is no volume or no Prometheus", () => {
        const s3 = { registry: { storage: { type: "s3", s3: { bucket: "rk-unit-images", region: "eu-west-1" } } } };
        expect(lines(failure({ volumes: { enabled: true } }, s3))).toEqual([
            "registry-kit:monitoring.volumes.enabled: got true; allowed: false with registry.storage.type s3 (no registry volume to watch; the object store reports its own usage)",
        ]);
        expect(lines(failure({ enabled: false, volumes: { enabled: true } }))).toEqual([
            "registry-kit:monitoring.volumes.enabled: got true; allowed: false with monitoring.enabled false (Prometheus scrapes the exporter)",
        ]);
    });

    it("defaults: on with filesystem storage, off with S3 or without Prometheus", () => {
        expect(volumeExporterEnabled(parseSettings(base))).toBe(true);
        expect(volumeExporterEnabled(parseSettings({ ...base, monitoring: { enabled: false } }, ["monitoring"]))).toBe(false);
        expect(
            volumeExporterEnabled(parseSettings({ ...base, registry: { storage: { type: "s3", s3: { bucket: "rk-unit-images", region: "eu-west-1" } } } })),
        ).toBe(false);
        expect(volumeExporterEnabled(parseSettings({ ...base, monitoring: { volumes: { enabled: false } } }))).toBe(false);
    });
});

describe("alertmanager settings", () => {
    const TOKEN = "tok-do-not-print-5c1";
    const am = (alertmanager: Record<string, unknown>) => ({ alertmanager: { enabled: true, ...alertmanager } });
    const hook = (webhook: Record<string, unknown>) => ({ name: "chat", webhook: { url: "https://hooks.example.com/x", ...webhook } });

    it("no receiver, a receiver with nothing to send to, a name twice", () => {
        expect(lines(failure(am({})))).toEqual([
            "registry-kit:monitoring.alertmanager.receivers: got a list; allowed: at least one receiver when alertmanager.enabled is true",
        ]);
        expect(lines(failure(am({ receivers: [{ name: "x" }, hook({}), hook({})] })))).toEqual([
            "registry-kit:monitoring.alertmanager.receivers[0].webhook: got nothing; allowed: a webhook or an email (or both)",
            'registry-kit:monitoring.alertmanager.receivers[2].name: got "chat"; allowed: a name no other receiver has',
        ]);
    });

    it("a webhook URL that is not http(s) or carries credentials, without echoing the URL; a token and basic auth both", () => {
        const msg = failure(
            am({ receivers: [hook({ url: `ftp://hooks.example.com/${TOKEN}` }), { ...hook({ url: `https://bot:${TOKEN}@hooks.example.com/` }), name: "b" }] }),
        );
        expect(lines(msg)).toEqual([
            "registry-kit:monitoring.alertmanager.receivers[0].webhook.url: got [secret]; allowed: an http:// or https:// URL",
            "registry-kit:monitoring.alertmanager.receivers[1].webhook.url: got [secret]; allowed: a URL without user:password@ (use basicAuth)",
        ]);
        expect(msg).not.toContain(TOKEN);
        const both = failure(am({ receivers: [hook({ bearerToken: TOKEN, basicAuth: { username: "u", password: TOKEN } })] }));
        expect(lines(both)).toEqual([
            "registry-kit:monitoring.alertmanager.receivers[0].webhook.bearerToken: got [secret]; allowed: either bearerToken or basicAuth, not both",
        ]);
        expect(both).not.toContain(TOKEN);
    });

    it("mail: addresses, the smarthost's form, a password without a user", () => {
        const msg = failure(
            am({
                receivers: [
                    {
                        name: "mail",
                        email: { smarthost: "smtp.example.com", from: "Registry <r@example.com>", to: ["ops@example", "ok@example.com"], authPassword: TOKEN },
                    },
                ],
            }),
        );
        expect(lines(msg)).toEqual([
            'registry-kit:monitoring.alertmanager.receivers[0].email.smarthost: got "smtp.example.com"; allowed: host:port of the SMTP server, e.g. smtp.example.com:587',
            'registry-kit:monitoring.alertmanager.receivers[0].email.from: got "Registry <r@example.com>"; allowed: a mail address such as alerts@example.com (no display name)',
            'registry-kit:monitoring.alertmanager.receivers[0].email.to[0]: got "ops@example"; allowed: a mail address such as alerts@example.com (no display name)',
            "registry-kit:monitoring.alertmanager.receivers[0].email.authUsername: got nothing; allowed: authUsername with authPassword",
        ]);
        expect(msg).not.toContain(TOKEN);
    });

    it("durations in Alertmanager's grammar (Prometheus's, not Go's), label names, the port against Prometheus's", () => {
        const msg = failure(am({ receivers: [hook({})], groupWait: "1.5s", repeatInterval: "4h30s1m", groupBy: ["alert-name"] }));
        expect(lines(msg)).toEqual([
            'registry-kit:monitoring.alertmanager.groupBy[0]: got "alert-name"; allowed: a label name',
            'registry-kit:monitoring.alertmanager.groupWait: got "1.5s"; allowed: a Prometheus duration such as 30s, 15d or 1h30m (whole numbers; units y, w, d, h, m, s, ms, largest first, each once; no decimals)',
            'registry-kit:monitoring.alertmanager.repeatInterval: got "4h30s1m"; allowed: a Prometheus duration such as 30s, 15d or 1h30m (whole numbers; units y, w, d, h, m, s, ms, largest first, each once; no decimals)',
        ]);
        expect(lines(failure(am({ receivers: [hook({})], port: 9090 })))).toEqual([
            "registry-kit:monitoring.alertmanager.port: got 9090; allowed: a host port not already used by registry-kit:monitoring.port (127.0.0.1:9090)",
        ]);
    });

    it("secrets in plain text, and where there is no Prometheus or with Harbor", () => {
        const plain = settingsFailure({ ...base, monitoring: am({ receivers: [hook({ bearerToken: TOKEN })] }) }, []);
        expect(lines(plain)).toEqual([
            "registry-kit:monitoring.alertmanager.receivers[*].webhook.url: got a plain-text value; allowed: a secret (pulumi config set --secret --path 'registry-kit:monitoring.alertmanager.receivers[0].webhook.url' ...)",
            "registry-kit:monitoring.alertmanager.receivers[*].webhook.bearerToken: got a plain-text value; allowed: a secret (pulumi config set --secret --path 'registry-kit:monitoring.alertmanager.receivers[0].webhook.bearerToken' ...)",
        ]);
        expect(plain).not.toContain(TOKEN);
        expect(lines(failure({ enabled: false, ...am({ receivers: [hook({})] }) }))).toEqual([
            "registry-kit:monitoring.alertmanager.enabled: got true; allowed: false with monitoring.enabled false (Prometheus sends the alerts)",
        ]);
    });
});
