/**
 * Network values and their grammar: host names, ports, `host:port`, CIDR blocks, IP addresses, Docker
 * endpoints, URLs. The bottom layer: imports nothing of registry-kit's, only node builtins and zod.
 */
import * as net from "node:net";
import { z } from "zod";

/**
 * A DNS name (RFC 1123 labels) or an IP address. RFC 1123 2.1: a name's top-level label is never all digits, so a
 * dotted all-numeric name is an IPv4 address or nothing (`300.1.2.3` is neither).
 */
export function isHostname(value: string): boolean {
    if (net.isIP(value) !== 0) return true;
    if (value.length > 253) return false;
    const labels = value.split(".");
    if (/^\d+$/.test(labels[labels.length - 1])) return false;
    return labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

/** A TCP port as text: 1 to 65535. */
function isPortText(text: string): boolean {
    return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/** Why `host:port` (`[IPv6]:port` in brackets) is not one: "form", "host" or "port"; undefined when it is. */
export function hostPortProblem(value: string): "form" | "host" | "port" | undefined {
    const match = /^(?:\[([^\]]*)\]|([^:[\]]+)):(\d+)$/.exec(value);
    if (!match) return "form";
    const [, ipv6, host, port] = match;
    if (ipv6 !== undefined ? net.isIP(ipv6) !== 6 : !isHostname(host)) return "host";
    return isPortText(port) ? undefined : "port";
}

const DOCKER_ENDPOINT = "a Docker endpoint such as unix:///var/run/docker.sock or ssh://user@host";

/** Why the Docker provider could not reach this endpoint (scheme, host, port), or undefined. */
export function dockerHostProblem(value: string): string | undefined {
    if (!/^(unix|tcp|ssh|npipe):\/\/.+/.test(value)) return DOCKER_ENDPOINT;
    if (/^(unix|npipe):/.test(value)) return undefined;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `${DOCKER_ENDPOINT}:2222, with a host and a port from 1 to 65535`;
    }
    if (!isHostname(url.hostname.replace(/^\[(.*)\]$/, "$1"))) return `${DOCKER_ENDPOINT}, whose host is a DNS name or an IP address ([IPv6] in brackets)`;
    return url.port === "0" ? `${DOCKER_ENDPOINT}:2222, with a port from 1 to 65535` : undefined;
}

/** `10.0.0.0/8`, `192.168.1.7`, `2001:db8::/32`: an IPv4 or IPv6 address with an optional prefix. */
export function isCidr(value: string): boolean {
    const [addr, prefix, ...rest] = value.split("/");
    if (rest.length > 0) return false;
    const family = net.isIP(addr);
    if (family === 0) return false;
    if (prefix === undefined) return true;
    if (!/^\d{1,3}$/.test(prefix)) return false;
    return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** An http:// or https:// URL with a host (and no port 0). */
export function isHttpUrl(value: string): boolean {
    try {
        const u = new URL(value);
        return (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "" && u.port !== "0";
    } catch {
        return false;
    }
}

/** An https:// URL with a host (and no port 0). */
export function isHttpsUrl(value: string): boolean {
    try {
        const u = new URL(value);
        return u.protocol === "https:" && u.hostname !== "" && u.port !== "0";
    } catch {
        return false;
    }
}

/** Why no public CA would issue for this name, or undefined when one could. */
export function publicNameProblem(name: string): string | undefined {
    if (net.isIP(name) !== 0) return "an IP address";
    const lower = name.toLowerCase().replace(/\.$/, "");
    if (lower === "localhost" || lower.endsWith(".localhost")) return "a localhost name";
    if (!lower.includes(".")) return "a single-label name";
    if (/\.(test|example|invalid|local|internal|lan|home\.arpa)$/.test(lower)) return "a reserved or private domain";
    return undefined;
}

/** `localhost` or a name under it. */
export function isLocalhostName(lower: string): boolean {
    return lower === "localhost" || lower.endsWith(".localhost");
}

/** 127.0.0.0/8, ::1, or the unspecified 0.0.0.0 and ::. */
export function isLoopbackOrUnspecifiedAddress(lower: string): boolean {
    if (net.isIP(lower) === 4) return lower.startsWith("127.") || lower === "0.0.0.0";
    return net.isIP(lower) === 6 && (lower === "::1" || lower === "::");
}

/** A host (a URL's hostname: IPv6 in brackets) that means "this machine" wherever it is read. */
export function isLoopbackHost(host: string): boolean {
    const lower = host
        .toLowerCase()
        .replace(/\.$/, "")
        .replace(/^\[(.*)\]$/, "$1");
    return isLocalhostName(lower) || isLoopbackOrUnspecifiedAddress(lower);
}

/** The URL with any user:password@ replaced by ***@, for messages. */
export const redactUrlCredentials = (url: string): string => url.replace(/^([a-z]+:\/\/)[^/?#]*@/i, "$1***@");

/** The first host address of an IPv4 CIDR block: the gateway Docker gives a network on it. */
export function firstHostAddress(cidr: string): string {
    const [address] = cidr.split("/");
    const n = address.split(".").reduce((acc, part) => acc * 256 + Number(part), 0) + 1;
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** `user@example.com`: a plain mail address (dot-atom local part, a DNS name or [IP] after the @), as Go's net/mail takes it. */
export function isEmailAddress(value: string): boolean {
    const at = value.lastIndexOf("@");
    if (at <= 0 || value.length > 254) return false;
    const local = value.slice(0, at);
    const domain = value.slice(at + 1);
    const atom = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/;
    if (local.length > 64 || !local.split(".").every((p) => atom.test(p))) return false;
    const literal = /^\[(.*)\]$/.exec(domain);
    return literal ? net.isIP(literal[1]) !== 0 : domain.includes(".") && net.isIP(domain) === 0 && isHostname(domain);
}

export const hostname = z.string().refine(isHostname, { message: "a DNS name such as registry.example.com, or an IP address" });
export const port = z.number().int().min(1, { message: "an integer port from 1 to 65535" }).max(65535, { message: "an integer port from 1 to 65535" });
export const ipAddress = z.string().refine((v) => net.isIP(v) !== 0, { message: "an IP address such as 0.0.0.0 or 127.0.0.1" });
export const emailAddress = z.string().refine(isEmailAddress, { message: "a mail address such as alerts@example.com (no display name)" });
export const cidr = z.string().refine(isCidr, { message: "an IP address or CIDR block such as 10.0.0.0/8" });
