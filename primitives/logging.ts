/**
 * Docker log drivers and their options (`--log-driver`, `--log-opt`), checked in the grammar dockerd
 * applies when it creates a container, so a bad value fails at preview instead of at `docker create`.
 * The bottom layer: imports only zod.
 */
import { z } from "zod";

/** The drivers registry-kit accepts: rotating files on the host (json-file, local), or shipped by dockerd. */
export const LOG_DRIVERS = ["json-file", "local", "syslog", "journald", "gelf", "fluentd"] as const;
export type LogDriver = (typeof LOG_DRIVERS)[number];

/** json-file logs rotated at 10 MB × 3, so a busy registry never fills the host's disk. */
export const DEFAULT_ROTATION = { "max-size": "10m", "max-file": "3" } as const;

/** Options every driver takes (dockerd's own: delivery mode and ring buffer), and the attribute options. */
const COMMON = ["mode", "max-buffer-size"];
const ATTRIBUTES = ["labels", "labels-regex", "env", "env-regex"];

/** Options each driver knows (Docker's documentation of each driver). */
export const LOG_DRIVER_OPTIONS: Record<LogDriver, string[]> = {
    "json-file": [...COMMON, ...ATTRIBUTES, "max-size", "max-file", "compress"],
    local: [...COMMON, "max-size", "max-file", "compress"],
    syslog: [
        ...COMMON,
        ...ATTRIBUTES,
        "syslog-address",
        "syslog-facility",
        "syslog-format",
        "syslog-tls-ca-cert",
        "syslog-tls-cert",
        "syslog-tls-key",
        "syslog-tls-skip-verify",
        "tag",
    ],
    journald: [...COMMON, ...ATTRIBUTES, "tag"],
    gelf: [
        ...COMMON,
        ...ATTRIBUTES,
        "gelf-address",
        "gelf-compression-type",
        "gelf-compression-level",
        "gelf-tcp-max-reconnect",
        "gelf-tcp-reconnect-delay",
        "tag",
    ],
    fluentd: [
        ...COMMON,
        ...ATTRIBUTES,
        "fluentd-address",
        "fluentd-async",
        "fluentd-buffer-limit",
        "fluentd-retry-wait",
        "fluentd-max-retries",
        "fluentd-sub-second-precision",
        "fluentd-request-ack",
        "tag",
    ],
};

const SYSLOG_FACILITIES = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/** `host` or `host:port` with a DNS name, IPv4 or [IPv6] host; a port from 1 to 65535 when `portRequired` or given. */
function hostPortOk(text: string, portRequired: boolean): boolean {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:(\d{1,5}))?$/.exec(text);
    if (!m) return false;
    if (m[4] === undefined) return !portRequired;
    const port = Number(m[4]);
    return port >= 1 && port <= 65535;
}

const isSize = (v: string) => /^[1-9]\d*[kmg]?$/.test(v);
const isBool = (v: string) => v === "true" || v === "false";
const isCount = (v: string) => /^[1-9]\d*$/.test(v);

/** What is wrong with one option of a driver, or undefined. Messages say what is allowed. */
export function logOptionProblem(driver: LogDriver, key: string, value: string): string | undefined {
    if (!LOG_DRIVER_OPTIONS[driver].includes(key)) return `an option of the ${driver} driver: ${LOG_DRIVER_OPTIONS[driver].join(", ")}`;
    switch (key) {
        case "mode":
            return ["blocking", "non-blocking"].includes(value) ? undefined : "blocking or non-blocking";
        case "max-buffer-size":
        case "max-size":
        case "fluentd-buffer-limit":
            return isSize(value) ? undefined : "a size such as 10m (a whole number, optionally k, m or g)";
        case "max-file":
            return isCount(value) ? undefined : "a whole number of files, 1 or more";
        case "compress":
        case "syslog-tls-skip-verify":
        case "fluentd-async":
        case "fluentd-sub-second-precision":
        case "fluentd-request-ack":
            return isBool(value) ? undefined : "true or false";
        case "syslog-address": {
            const m = /^(udp|tcp|tcp\+tls|unix|unixgram):\/\/(.*)$/.exec(value);
            if (!m) return "udp://host[:port], tcp://host[:port], tcp+tls://host[:port], unix:///path or unixgram:///path (port 514 when left out)";
            if (m[1].startsWith("unix")) return m[2].startsWith("/") ? undefined : `${m[1]}:///an/absolute/path`;
            return hostPortOk(m[2], false) ? undefined : `${m[1]}://host[:port] with a DNS name, IPv4 address or [IPv6] and a port from 1 to 65535`;
        }
        case "syslog-facility":
            return SYSLOG_FACILITIES.includes(value) ? undefined : `one of ${SYSLOG_FACILITIES.join(", ")}`;
        case "syslog-format":
            return ["rfc3164", "rfc5424", "rfc5424micro"].includes(value) ? undefined : "rfc3164, rfc5424 or rfc5424micro";
        case "gelf-address": {
            const m = /^(udp|tcp):\/\/(.*)$/.exec(value);
            return m && hostPortOk(m[2], true) ? undefined : "udp://host:port or tcp://host:port (the port is required)";
        }
        case "gelf-compression-type":
            return ["gzip", "zlib", "none"].includes(value) ? undefined : "gzip, zlib or none";
        case "gelf-compression-level":
            return /^(-1|[0-9])$/.test(value) ? undefined : "-1 to 9";
        case "gelf-tcp-max-reconnect":
        case "fluentd-max-retries":
            return /^\d+$/.test(value) ? undefined : "a whole number, 0 or more";
        case "gelf-tcp-reconnect-delay":
            return isCount(value) ? undefined : "a whole number of seconds, 1 or more";
        case "fluentd-retry-wait":
            return /^\d+(\.\d+)?(ms|s|m|h)$/.test(value) ? undefined : "a duration such as 1s or 500ms";
        case "fluentd-address": {
            if (value.startsWith("unix://")) return value.slice("unix://".length).startsWith("/") ? undefined : "unix:///an/absolute/path";
            const rest = value.replace(/^(tcp|tls):\/\//, "");
            return hostPortOk(rest, false) ? undefined : "host:port, tcp://host:port, tls://host:port or unix:///path";
        }
        default:
            return value.length > 0 && !/[\r\n]/.test(value) ? undefined : "a one-line value";
    }
}

/** A container's log configuration: the driver and its options. */
export const containerLogging = z
    .strictObject({
        driver: z.enum(LOG_DRIVERS).optional(),
        options: z.record(z.string(), z.string()).optional(),
    })
    .superRefine((l, ctx) => {
        const driver = l.driver ?? "json-file";
        for (const [key, value] of Object.entries(l.options ?? {})) {
            const problem = logOptionProblem(driver, key, value);
            if (problem) ctx.addIssue({ code: "custom", path: ["options", key], input: value, message: problem });
        }
        if (driver === "gelf" && l.options?.["gelf-address"] === undefined)
            ctx.addIssue({
                code: "custom",
                path: ["options", "gelf-address"],
                input: undefined,
                message: "udp://host:port or tcp://host:port: the gelf driver needs one",
            });
    });

/** The `logDriver` and `logOpts` of a container: json-file and local rotate by default (DEFAULT_ROTATION under the options given). */
export function logConfig(l: { driver?: LogDriver; options?: Record<string, string> } = {}): { logDriver: string; logOpts: Record<string, string> } {
    const driver = l.driver ?? "json-file";
    const rotates = driver === "json-file" || driver === "local";
    return { logDriver: driver, logOpts: rotates ? { ...DEFAULT_ROTATION, ...(l.options ?? {}) } : { ...(l.options ?? {}) } };
}
