/**
 * `registry-kit:notifications` (webhooks) and `registry-kit:docker.logging` (log drivers) settings that
 * cannot work fail at preview, one line per problem naming the setting, the value (never a secret) and
 * what is allowed; good ones render the registry's endpoints and the containers' log configuration.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { settingsFailure } from "../settings-failure";
import { parseSettings } from "../../stacks/config";
import { notificationEndpoint } from "../../components/registry";
import { notificationEndpointsYaml } from "../../renderers/registry-config";
import { logConfig } from "../../primitives/logging";

const base = { hostname: "registry.example.com" };
const SECRET = "Bearer hunter2-do-not-print";
const hook = (more: Record<string, unknown> = {}) => ({ name: "ci", url: "https://ci.example.com/hook", secret: SECRET, ...more });
const failure = (endpoints: unknown[], more: Record<string, unknown> = {}) =>
    settingsFailure({ ...base, ...more, notifications: { endpoints } }, ["notifications", "auth", "gitlab"]);
const logFailure = (logging: unknown, more: Record<string, unknown> = {}) => settingsFailure({ ...base, ...more, docker: { logging } }, []);
const line = (setting: string, rest: string) => `invalid stack configuration:\nregistry-kit:${setting}: ${rest}`;

describe("notification endpoints that fail at preview", () => {
    it("a URL that is not http(s), or that carries credentials the registry would log", () => {
        expect(failure([hook({ url: "ftp://ci.example.com/hook" })])).toBe(
            line("notifications.endpoints[0].url", 'got "ftp://ci.example.com/hook"; allowed: an http:// or https:// URL'),
        );
        const withUserinfo = failure([hook({ url: "https://bot:pw1234@ci.example.com/hook" })]);
        expect(withUserinfo).toBe(
            line(
                "notifications.endpoints[0].url",
                'got "https://***@ci.example.com/hook"; allowed: a URL without user:password@ (the registry logs the URL; put credentials in secret or headers)',
            ),
        );
        expect(withUserinfo).not.toContain("pw1234");
    });

    it("a secret or header value the redacting entrypoint could not mask, without echoing it", () => {
        const msg = failure([hook({ secret: "abc]def", headers: { "X-Token": "tok]en", "Bad Name": "v" } })]);
        expect(msg.split("\n").slice(1)).toEqual([
            'registry-kit:notifications.endpoints[0].secret: got [secret]; allowed: one line without "]" (the registry logs its endpoints\' headers; registry-kit masks each value up to its first "]")',
            'registry-kit:notifications.endpoints[0].headers.X-Token: got [secret]; allowed: one line without "]" (the registry logs its endpoints\' headers; registry-kit masks each value up to its first "]")',
            'registry-kit:notifications.endpoints[0].headers.Bad Name: got [secret]; allowed: a header name (RFC 9110 token) other than Authorization (use secret for that); got the name "Bad Name"',
        ]);
        expect(msg).not.toMatch(/def|tok\]en/);
        expect(failure([hook({ headers: { authorization: "x" } })])).toContain("other than Authorization");
    });

    it("durations, threshold, actions, duplicate names", () => {
        expect(
            failure([hook({ timeout: "5 seconds", threshold: 0, events: ["push", "tag"] })])
                .split("\n")
                .slice(1),
        ).toEqual([
            'registry-kit:notifications.endpoints[0].timeout: got "5 seconds"; allowed: a Go duration such as 30s, 24h or 1h30m (units ns, us, ms, s, m, h; decimals such as 1.5h allowed; no d, w or y)',
            "registry-kit:notifications.endpoints[0].threshold: got 0; allowed: Too small: expected number to be >=1",
            'registry-kit:notifications.endpoints[0].events[1]: got "tag"; allowed: one of "push", "pull", "mount", "delete"',
        ]);
        expect(failure([hook({ events: [] })])).toBe(
            line("notifications.endpoints[0].events", "got a list; allowed: at least one action (to send nothing, remove the endpoint)"),
        );
        expect(failure([hook({ events: ["push"], ignore: { actions: ["push"] } })])).toBe(
            line("notifications.endpoints[0].ignore.actions", 'got "push"; allowed: no action that events lists (events sends it, ignore.actions drops it)'),
        );
        expect(failure([hook({ events: ["push"] })], { registry: { image: "registry:2.8.3" } })).toBe(
            line(
                "notifications.endpoints[0].events",
                'got "push"; allowed: nothing with a Distribution 2 registry (registry:2.8.3), which reads ignore.actions and ignore.mediatypes but never applies them; ignoredMediaTypes works on 2 and 3, action filters need a registry 3 image (or a receiver that filters on the event\'s action)',
            ),
        );
        expect(failure([hook({ ignore: { mediaTypes: ["x/y"] } })], { registry: { image: "registry:2" } })).toContain(
            "notifications.endpoints[0].ignore: got an object; allowed: nothing with a Distribution 2 registry",
        );
        expect(failure([hook(), hook()])).toBe(line("notifications.endpoints[1].name", 'got "ci"; allowed: a name no other endpoint has'));
        expect(failure([hook({ filter: "team/*" })])).toContain("notifications.endpoints[0].filter: unknown setting; allowed here: name, url, secret, headers");
    });

    it("a secret in plain text, GitLab's own endpoint name, and Harbor", () => {
        const plain = settingsFailure({ ...base, notifications: { endpoints: [hook()] } }, []);
        expect(plain).toContain(
            "registry-kit:notifications.endpoints[*].secret: got a plain-text value; allowed: a secret (pulumi config set --secret --path 'registry-kit:notifications.endpoints[0].secret' ...)",
        );
        expect(plain).not.toContain("hunter2");
        const plainHeaders = settingsFailure(
            { ...base, notifications: { endpoints: [{ name: "ci", url: "https://ci.example.com/h", headers: { "X-Token": "t0k" } }] } },
            [],
        );
        expect(plainHeaders).toContain("registry-kit:notifications.endpoints[*].headers: got a plain-text value");
        expect(plainHeaders).not.toContain("t0k");
        const gitlab = { topology: "gitlab", gitlab: { externalUrl: "https://gitlab.example.com" } };
        expect(failure([hook({ name: "gitlab" })], gitlab)).toContain(
            `registry-kit:notifications.endpoints[0].name: got "gitlab"; allowed: a name other than "gitlab", which names GitLab's own endpoint (gitlab.notifications)`,
        );
        expect(failure([hook()], { topology: "harbor" })).toContain(
            'registry-kit:notifications.endpoints: got "1 endpoint(s)"; allowed: none with topology harbor (Harbor runs its own registry; use Harbor\'s webhooks)',
        );
    });
});

describe("notification endpoints that work", () => {
    it("render today's endpoint byte for byte when only name, url and secret are set", () => {
        const s = parseSettings({ ...base, notifications: { endpoints: [hook()] } }, ["notifications"]);
        const yaml = notificationEndpointsYaml(s.notifications.endpoints.map(notificationEndpoint));
        expect(yaml).toBe(
            `[ { name: ci, url: https://ci.example.com/hook, headers: { Authorization: [ ${SECRET} ] }, timeout: 500ms, threshold: 5, backoff: 1s } ]`,
        );
    });

    it("map events to ignore.actions and pass Distribution's own keys", () => {
        const s = parseSettings(
            {
                ...base,
                notifications: {
                    endpoints: [
                        hook({
                            headers: { "X-Hook-Token": "t0k" },
                            timeout: "2s",
                            threshold: 3,
                            backoff: "30s",
                            events: ["push", "delete"],
                            ignoredMediaTypes: ["application/octet-stream"],
                            ignore: { mediaTypes: ["application/vnd.oci.image.config.v1+json"] },
                        }),
                        { name: "audit", url: "http://audit:8080/events" },
                    ],
                },
            },
            ["notifications"],
        );
        expect(parse(notificationEndpointsYaml(s.notifications.endpoints.map(notificationEndpoint)))).toEqual([
            {
                name: "ci",
                url: "https://ci.example.com/hook",
                headers: { Authorization: [SECRET], "X-Hook-Token": ["t0k"] },
                timeout: "2s",
                threshold: 3,
                backoff: "30s",
                ignoredmediatypes: ["application/octet-stream"],
                ignore: { mediatypes: ["application/vnd.oci.image.config.v1+json"], actions: ["pull", "mount"] },
            },
            { name: "audit", url: "http://audit:8080/events", headers: {}, timeout: "500ms", threshold: 5, backoff: "1s" },
        ]);
    });
});

describe("log drivers that fail at preview", () => {
    it("an address in the wrong grammar, an option the driver does not know, a missing gelf address", () => {
        expect(logFailure({ driver: "syslog", options: { "syslog-address": "127.0.0.1:514" } })).toBe(
            line(
                "docker.logging.options.syslog-address",
                'got "127.0.0.1:514"; allowed: udp://host[:port], tcp://host[:port], tcp+tls://host[:port], unix:///path or unixgram:///path (port 514 when left out)',
            ),
        );
        expect(logFailure({ driver: "syslog", options: { "syslog-address": "udp://127.0.0.1:70000" } })).toContain(
            "udp://host[:port] with a DNS name, IPv4 address or [IPv6] and a port from 1 to 65535",
        );
        expect(logFailure({ driver: "syslog", options: { "max-size": "10m" } })).toContain(
            'docker.logging.options.max-size: got "10m"; allowed: an option of the syslog driver: mode, max-buffer-size, labels',
        );
        expect(logFailure({ driver: "gelf" })).toBe(
            line("docker.logging.options.gelf-address", "got nothing; allowed: udp://host:port or tcp://host:port: the gelf driver needs one"),
        );
        expect(logFailure({ driver: "gelf", options: { "gelf-address": "udp://graylog" } })).toContain("the port is required");
        expect(logFailure({ driver: "json-file", options: { "max-size": "ten" } })).toContain("a size such as 10m");
        expect(logFailure({ driver: "splunk" })).toBe(
            line("docker.logging.driver", 'got "splunk"; allowed: one of "json-file", "local", "syslog", "journald", "gelf", "fluentd"'),
        );
        expect(logFailure({ driver: "journald" }, { topology: "harbor" })).toContain(
            'registry-kit:docker.logging: got "journald"; allowed: nothing with topology harbor',
        );
    });

    it("accepts each driver's usual options, and rotates json-file by default", () => {
        for (const logging of [
            { driver: "syslog", options: { "syslog-address": "udp://127.0.0.1:26514", "syslog-format": "rfc5424", tag: "{{.Name}}" } },
            { driver: "syslog", options: { "syslog-address": "unixgram:///dev/log" } },
            { driver: "gelf", options: { "gelf-address": "tcp://[2001:db8::1]:12201" } },
            { driver: "fluentd", options: { "fluentd-address": "fluentd.internal:24224", "fluentd-async": "true" } },
            { driver: "journald" },
        ]) {
            expect(parseSettings({ ...base, docker: { logging } }).docker.logging).toEqual(logging);
        }
        expect(logConfig()).toEqual({ logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } });
        expect(logConfig({ driver: "json-file", options: { "max-size": "50m" } })).toEqual({
            logDriver: "json-file",
            logOpts: { "max-size": "50m", "max-file": "3" },
        });
        expect(logConfig({ driver: "syslog", options: { "syslog-address": "udp://h" } })).toEqual({
            logDriver: "syslog",
            logOpts: { "syslog-address": "udp://h" },
        });
    });
});
