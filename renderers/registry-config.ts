/**
 * Distribution's config.yml as a typed object, and the differences between the v2 and v3 dialects.
 * Pure: no Pulumi, no I/O.
 */
import { stringify } from "yaml";
import { isHeaderName, maskableHeaderValue, NotificationAction, RegistryDialect } from "../primitives/registry";

export { NOTIFICATION_ACTIONS, NotificationAction } from "../primitives/registry";
import { tokenAuthSection } from "./token-auth";

/** Everything that differs between registry:2 and registry:3 lives here. */
export const DIALECTS: Record<
    RegistryDialect,
    {
        configPath: string;
        /** The s3 driver's extra keys: v2 still has the v4auth switch, v3 only signs with V4. */
        s3Extra: Record<string, unknown>;
        /** The redis section for one address. */
        redis: (address: string) => Record<string, unknown>;
        /** Whether `proxy.ttl` exists (Distribution 3.0); 2.8 keeps cached content 168h and ignores the key. */
        proxyTtl: boolean;
    }
> = {
    v2: {
        configPath: "/etc/docker/registry/config.yml",
        s3Extra: { v4auth: true },
        redis: (address) => ({
            addr: address,
            db: 0,
            dialtimeout: "10s",
            readtimeout: "10s",
            writetimeout: "10s",
            pool: { maxidle: 16, maxactive: 64, idletimeout: "300s" },
        }),
        proxyTtl: false,
    },
    v3: {
        configPath: "/etc/distribution/config.yml",
        s3Extra: {},
        redis: (address) => ({
            addrs: [address],
            db: 0,
            dialtimeout: "10s",
            readtimeout: "10s",
            writetimeout: "10s",
            maxidleconns: 16,
            poolsize: 64,
            connmaxidletime: "300s",
        }),
        proxyTtl: true,
    },
};

/** Where the registry keeps blobs and manifests. Credentials are not here: they go in secret env vars. */
export type StorageDriver =
    | { kind: "filesystem"; rootDirectory: string }
    | {
          kind: "s3";
          bucket: string;
          region: string;
          /** S3-compatible endpoint URL; undefined for AWS. */
          regionEndpoint?: string;
          forcePathStyle: boolean;
          encrypt: boolean;
          secure: boolean;
          chunkSize: number;
          rootDirectory: string;
          /**
           * Answer blob GETs and HEADs with a 307 to a presigned URL of the bucket (`storage.redirect.disable:
           * false`): clients then fetch blob bytes from the S3 endpoint, past the registry and the proxy.
           * Default: false (blobs are served through the registry and the proxy).
           */
          redirect?: boolean;
      };

export const REGISTRY_PORT = 5000;
/** The port Prometheus scrapes on the network: the metrics gate in front of the debug server. */
export const REGISTRY_DEBUG_PORT = 5001;
/**
 * The registry's own debug server, on the container's loopback only: besides `/metrics` and
 * `/debug/health` it serves `/debug/pprof/` and `/debug/vars` (profiles, heap, configuration details),
 * which nothing on the network should reach.
 */
export const REGISTRY_DEBUG_LOOPBACK_PORT = 5002;
export const REGISTRY_DATA_DIR = "/var/lib/registry";
export const HTPASSWD_PATH = "/auth/htpasswd";

export interface RegistryConfigInput {
    dialect: RegistryDialect;
    storage: StorageDriver;
    /** `host:port` of Redis for the blob-descriptor cache (its password goes in REGISTRY_REDIS_PASSWORD). Default: in-memory cache. */
    redisAddress?: string;
    /**
     * Without Redis: cache blob descriptors in memory (true), or not at all (false, for registries
     * that are garbage-collected: nothing could clear a stale in-memory entry but a restart). Default: true.
     */
    inMemoryCache?: boolean;
    deleteEnabled: boolean;
    uploadPurging: { enabled: boolean; age: string; interval: string; dryrun: boolean };
    logLevel: string;
    /** Path of the htpasswd file inside the container; undefined turns auth off. */
    htpasswdPath?: string;
    /** Token auth against an issuer such as GitLab (instead of htpasswd). Default: none. */
    tokenAuth?: { realm: string; issuer: string; service?: string };
    /** Whether notification endpoints are set (through NOTIFICATIONS_ENV, which keeps their secret out of this file). Default: false. */
    notifications?: boolean;
    /**
     * Pull-through cache of `remoteUrl` (proxy mode: pushes and deletes refused); the upstream's username and
     * password go in REGISTRY_PROXY_USERNAME and REGISTRY_PROXY_PASSWORD, never here. Default: none.
     */
    proxy?: { remoteUrl: string; ttl: string };
    /** Raw configuration merged last, over everything generated. */
    extraConfig?: Record<string, unknown>;
    /**
     * Where the debug server (`/metrics`, `/debug/health`, and `/debug/pprof/`, `/debug/vars`) listens.
     * Default: the container's loopback (REGISTRY_DEBUG_LOOPBACK_PORT), behind the metrics gate.
     */
    debugAddress?: string;
}

/** The registry configuration as data. `http.secret` is not here: it is passed as a secret env var. */
export function registryConfig(input: RegistryConfigInput): Record<string, unknown> {
    const config: Record<string, unknown> = {
        version: 0.1,
        // The access log is Combined Log Format whatever the formatter; the proxy logs every request as JSON.
        log: { level: input.logLevel, formatter: "json", fields: { service: "registry" }, accesslog: { disabled: true } },
        storage: {
            ...storageSection(input.storage, input.dialect),
            delete: { enabled: input.deleteEnabled },
            ...(input.redisAddress || input.inMemoryCache !== false ? { cache: { blobdescriptor: input.redisAddress ? "redis" : "inmemory" } } : {}),
            maintenance: {
                uploadpurging: {
                    enabled: input.uploadPurging.enabled,
                    age: input.uploadPurging.age,
                    interval: input.uploadPurging.interval,
                    dryrun: input.uploadPurging.dryrun,
                },
                readonly: { enabled: false },
            },
        },
        http: {
            addr: `:${REGISTRY_PORT}`,
            headers: { "X-Content-Type-Options": ["nosniff"] },
            debug: { addr: input.debugAddress ?? `127.0.0.1:${REGISTRY_DEBUG_LOOPBACK_PORT}`, prometheus: { enabled: true, path: "/metrics" } },
            draintimeout: "60s",
        },
        health: { storagedriver: { enabled: true, interval: "10s", threshold: 3 } },
    };
    if (input.redisAddress) {
        config.redis = DIALECTS[input.dialect].redis(input.redisAddress);
    }
    if (input.htpasswdPath && input.tokenAuth) throw new Error("registry config: htpasswd and token auth are exclusive");
    if (input.htpasswdPath) {
        config.auth = { htpasswd: { realm: "registry-kit", path: input.htpasswdPath } };
    }
    if (input.tokenAuth) {
        config.auth = tokenAuthSection({ dialect: input.dialect, ...input.tokenAuth });
    }
    if (input.proxy) {
        config.proxy = { remoteurl: input.proxy.remoteUrl, ...(DIALECTS[input.dialect].proxyTtl ? { ttl: input.proxy.ttl } : {}) };
    }
    if (input.notifications) {
        // Tag events name the tag (GitLab's registry view needs it); the endpoints come from NOTIFICATIONS_ENV.
        config.notifications = { events: { includereferences: true } };
    }
    return deepMerge(config, input.extraConfig ?? {});
}

function storageSection(storage: StorageDriver, dialect: RegistryDialect): Record<string, unknown> {
    if (storage.kind === "filesystem") return { filesystem: { rootdirectory: storage.rootDirectory } };
    const s3: Record<string, unknown> = {
        region: storage.region,
        ...(storage.regionEndpoint ? { regionendpoint: storage.regionEndpoint } : {}),
        forcepathstyle: storage.forcePathStyle,
        bucket: storage.bucket,
        encrypt: storage.encrypt,
        secure: storage.secure,
        chunksize: storage.chunkSize,
        rootdirectory: storage.rootDirectory,
        ...DIALECTS[dialect].s3Extra,
    };
    // By default clients fetch blobs through the proxy, never by a redirect to the bucket (whose endpoint
    // they may not reach). With `redirect` the registry answers a blob GET or HEAD with a 307 to a URL
    // presigned for that one object (the s3 driver's URLFor; 20 minutes in Distribution 2.8).
    return { s3, redirect: { disable: storage.redirect !== true } };
}

/** The YAML text of `registryConfig`, stable for the same input. */
export function renderRegistryConfig(input: RegistryConfigInput): string {
    return stringify(registryConfig(input), { sortMapEntries: false, lineWidth: 0 });
}

/** Objects merge key by key; anything else (lists included) in `over` replaces what is in `base`. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) {
        const current = out[key];
        out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
    }
    return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * A registry notification endpoint, with Distribution's per-endpoint settings (2.8 and 3.x read the
 * same keys: `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`, `ignore.mediatypes`,
 * `ignore.actions`). `secret`, sent verbatim as the Authorization header, and `headers` are secret.
 */
export interface NotificationEndpoint {
    name: string;
    url: string;
    /** Value of the Authorization header. Default: none (no Authorization header). */
    secret?: string;
    /** More headers sent with every event, values secret. Default: none. */
    headers?: Record<string, string>;
    /** HTTP timeout of one delivery (Go duration). Default: 500ms. */
    timeout?: string;
    /** Failures in a row before the endpoint backs off. Default: 5. */
    threshold?: number;
    /** How long it backs off before it retries (Go duration). Default: 1s. */
    backoff?: string;
    /** Target media types whose events are not sent (`ignoredmediatypes`). Default: none. */
    ignoredMediaTypes?: string[];
    /** Events not sent: by target media type (`ignore.mediatypes`) and by action (`ignore.actions`). Default: none. */
    ignore?: { mediaTypes?: string[]; actions?: NotificationAction[] };
}

/**
 * The registry reads `notifications.endpoints` from this environment variable (YAML), so the secret
 * header stays out of config.yml, which is printed and diffed.
 */
export const NOTIFICATIONS_ENV = "REGISTRY_NOTIFICATIONS_ENDPOINTS";

/**
 * The registry logs each notification endpoint with its headers at info level, on 2.8 and 3.x alike
 * (`headers=map[Authorization:[<secret>]]`). With notifications on, the registry runs under this
 * script: its output passes through awk, which masks every Authorization header value, and `exec`
 * keeps the registry the container's main process (signals, exit code). Arguments: the config path.
 */
export const REDACTING_ENTRYPOINT = redactingEntrypoint(
    String.raw`{ gsub(/Authorization:\[[^]]*\]/, "Authorization:[redacted]"); print > "/dev/stderr"; fflush() }`,
);

/**
 * REDACTING_ENTRYPOINT for endpoints with more headers than Authorization: every `Name:[value]` in a
 * line (Go's form of a header, `map[Name:[value] ...]`) keeps its name and loses its value. It masks
 * the same pattern elsewhere in a line too, which costs nothing secret.
 */
export const REDACTING_ENTRYPOINT_ALL_HEADERS = redactingEntrypoint(
    [
        '{ out = ""; s = $0',
        String.raw`  while (match(s, /[A-Za-z0-9_-]+:\[[^]]*\]/)) { m = substr(s, RSTART, RLENGTH); out = out substr(s, 1, RSTART - 1) substr(m, 1, index(m, ":")) "[redacted]"; s = substr(s, RSTART + RLENGTH) }`,
        '  print out s > "/dev/stderr"; fflush() }',
    ].join("\n"),
);

function redactingEntrypoint(awkProgram: string): string[] {
    return [
        "/bin/sh",
        "-c",
        [
            "set -e",
            "fifo=/tmp/registry-kit-log.fifo",
            'rm -f "$fifo" && mkfifo "$fifo"',
            `awk '${awkProgram}' < "$fifo" &`,
            'exec registry serve "$0" > "$fifo" 2>&1',
        ].join("\n"),
    ];
}

/** The entrypoint that masks what the endpoints' log line would show: all headers' values when any endpoint has more than Authorization. */
export function redactingEntrypointFor(extraHeaders: boolean): string[] {
    return extraHeaders ? REDACTING_ENTRYPOINT_ALL_HEADERS : REDACTING_ENTRYPOINT;
}

/** The value of NOTIFICATIONS_ENV: the endpoints list as one line of YAML. */
export function notificationEndpointsYaml(endpoints: NotificationEndpoint[]): string {
    const names = new Set<string>();
    for (const e of endpoints) {
        // The registry logs each endpoint's URL and headers at start; the entrypoint masks the headers only.
        if (/^https?:\/\/[^/@\s]*@/.test(e.url))
            throw new Error(
                `registry notifications: the URL of endpoint ${JSON.stringify(e.name)} carries credentials, which the registry would log; put them in the secret`,
            );
        if (!/^https?:\/\/[^\s]+$/.test(e.url)) throw new Error(`registry notifications: ${JSON.stringify(e.url)} is not an http(s) URL`);
        // The redacting entrypoint masks `Name:[...]` up to the first `]`: a secret must not hold one.
        if (e.secret !== undefined && !maskableHeaderValue(e.secret))
            throw new Error(
                `registry notifications: the secret of endpoint ${JSON.stringify(e.name)} holds a "]" or a line break; allowed: one line without "]"`,
            );
        for (const [h, v] of Object.entries(e.headers ?? {})) {
            if (!isHeaderName(h) || h.toLowerCase() === "authorization")
                throw new Error(`registry notifications: endpoint ${JSON.stringify(e.name)}: ${JSON.stringify(h)} is not a header name allowed here`);
            if (!maskableHeaderValue(v))
                throw new Error(
                    `registry notifications: header ${h} of endpoint ${JSON.stringify(e.name)} holds a "]" or a line break; allowed: one line without "]"`,
                );
        }
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(e.name)) throw new Error(`registry notifications: ${JSON.stringify(e.name)} is not a simple name`);
        if (names.has(e.name)) throw new Error(`registry notifications: two endpoints are named ${JSON.stringify(e.name)}`);
        names.add(e.name);
    }
    const list = endpoints.map((e) => {
        const headers: Record<string, string[]> = {};
        if (e.secret !== undefined) headers.Authorization = [e.secret];
        for (const h of Object.keys(e.headers ?? {}).sort()) headers[h] = [e.headers![h]];
        const ignoreMediaTypes = e.ignore?.mediaTypes ?? [];
        const ignoreActions = e.ignore?.actions ?? [];
        return {
            name: e.name,
            url: e.url,
            headers,
            timeout: e.timeout ?? "500ms",
            threshold: e.threshold ?? 5,
            backoff: e.backoff ?? "1s",
            ...(e.ignoredMediaTypes?.length ? { ignoredmediatypes: e.ignoredMediaTypes } : {}),
            ...(ignoreMediaTypes.length || ignoreActions.length
                ? {
                      ignore: {
                          ...(ignoreMediaTypes.length ? { mediatypes: ignoreMediaTypes } : {}),
                          ...(ignoreActions.length ? { actions: ignoreActions } : {}),
                      },
                  }
                : {}),
        };
    });
    return stringify(list, { collectionStyle: "flow", lineWidth: 0 }).trim();
}
