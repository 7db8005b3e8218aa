/**
 * What clients paste to pull through the mirrors: Docker's daemon.json `registry-mirrors` (Docker Hub only, as
 * Docker allows), containerd's hosts.toml per upstream, and the `docker pull` form. Pure: no Pulumi, no I/O.
 */

export interface MirrorClientInput {
    name: string;
    /** The upstream's URL, such as https://registry-1.docker.io. */
    upstreamUrl: string;
    /** Whether the upstream is Docker Hub. */
    dockerHub: boolean;
    /** `host` or `host:port` at which clients reach the mirror (the port left out when 443). */
    host: string;
    /** Pulls need no credentials. */
    anonymous: boolean;
}

/** The name clients write for an upstream's images: `docker.io` for Docker Hub, else its host (and port). */
export function upstreamNamespace(m: Pick<MirrorClientInput, "upstreamUrl" | "dockerHub">): string {
    return m.dockerHub ? "docker.io" : new URL(m.upstreamUrl).host;
}

/** daemon.json's `registry-mirrors` entry (Docker Hub mirrors only), or undefined when there is none. */
export function dockerDaemonJson(mirrors: MirrorClientInput[]): string | undefined {
    const hub = mirrors.filter((m) => m.dockerHub);
    if (hub.length === 0) return undefined;
    return JSON.stringify({ "registry-mirrors": hub.map((m) => `https://${m.host}`) }, null, 2) + "\n";
}

/** Where containerd reads an upstream's hosts.toml (config_path /etc/containerd/certs.d). */
export const containerdHostsPath = (namespace: string) => `/etc/containerd/certs.d/${namespace}/hosts.toml`;

/**
 * containerd's hosts.toml per upstream namespace (path → text): `server` is the upstream, each mirror of it a
 * `[host."https://..."]` with pull and resolve; with `caPem` (a self-signed CA) each mirror names the CA file, which
 * is one of the files.
 */
export function containerdHostsFiles(mirrors: MirrorClientInput[], caPem: string | undefined): Record<string, string> {
    const files: Record<string, string> = {};
    const namespaces = [...new Set(mirrors.map(upstreamNamespace))];
    for (const ns of namespaces) {
        const path = containerdHostsPath(ns);
        const caPath = path.replace(/hosts\.toml$/, "registry-kit-ca.crt");
        const of = mirrors.filter((m) => upstreamNamespace(m) === ns);
        const server = of[0].dockerHub ? "https://registry-1.docker.io" : of[0].upstreamUrl.replace(/\/$/, "");
        const lines = [`# registry-kit: ${of.map((m) => `mirror ${m.name}`).join(", ")} of ${ns}`, `server = ${JSON.stringify(server)}`];
        for (const m of of) {
            lines.push("", `[host.${JSON.stringify(`https://${m.host}`)}]`, `  capabilities = ["pull", "resolve"]`);
            if (caPem) lines.push(`  ca = ${JSON.stringify(caPath)}`);
        }
        files[path] = lines.join("\n") + "\n";
        if (caPem) files[caPath] = caPem;
    }
    return files;
}

/** How to pull an upstream image through the mirror directly, with an example path. */
export function mirrorPullExample(m: MirrorClientInput): string {
    const example = m.dockerHub ? "library/alpine:latest" : "<path>:<tag>";
    const login = m.anonymous ? "" : `docker login ${m.host}   # the registry's users\n`;
    return `${login}docker pull ${m.host}/${example}   # = ${upstreamNamespace(m)}/${example}`;
}
