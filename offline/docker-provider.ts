/**
 * The Docker provider's rules for containers, as the pinned provider applies them: pulumi-docker 5.x,
 * which bridges terraform-provider-docker v4.5.0 (`internal/provider/resource_docker_container.go`,
 * the schema: which attributes are ForceNew; `resource_docker_container_funcs.go`: create, read,
 * update, delete). The offline engine answers with the state this read gives, and the end-to-end
 * harness plans its creates, updates and replacements with `planContainer`, so a spec that a real
 * `pulumi up` would churn or silently not apply fails our own tests. Pure: no Pulumi, no I/O.
 *
 * What the provider does, and what is modelled here:
 * - Read stores health-check durations as Go's `time.Duration.String()` (`300s` → `5m0s`), so a spec
 *   written otherwise differs from its state after every create and refresh.
 * - Read stores the log options Docker reports, which include the daemon's default `log-opts` when the
 *   container uses the daemon's default log driver.
 * - Update changes only the restart policy and resource limits in place; `healthcheck`,
 *   `destroyGraceSeconds`, `wait`, `waitTimeout` and `mustRun` are neither ForceNew nor applied (a new
 *   value lands in state, never in the running container); every other attribute forces a replacement.
 * - Delete stops with `destroyGraceSeconds` as the timeout, 0 (a kill) when unset.
 * - `attach: true` waits for the container to exit and ignores its exit code (state keeps `exitCode`
 *   and, with `logs: true`, `containerLogs`).
 * - `wait: true` records the container id first, then polls its health until `waitTimeout` (default
 *   60 s), even after the container has exited; the error carries no logs.
 */

import { formatGoDuration, parseGoDuration } from "../primitives/durations";
import { firstHostAddress } from "../primitives/network";

/** Attributes Update applies to the running container (`docker update`). */
export const UPDATED_IN_PLACE = ["restart", "maxRetryCount", "memory", "memorySwap", "cpuShares", "cpuSet"] as const;

/** Attributes that are neither ForceNew nor applied by Update: a change only rewrites state. */
export const STATE_ONLY = [
    "healthcheck",
    "destroyGraceSeconds",
    "wait",
    "waitTimeout",
    "mustRun",
    "containerReadRefreshTimeoutMilliseconds",
    // Not ForceNew in the provider's schema either, and not applied by Update.
    "attach",
    "logs",
    "rm",
    "start",
    "tmpfs",
    "removeVolumes",
    "init",
] as const;

/** Seconds `docker stop` waits before a kill when `destroyGraceSeconds` is unset. */
export const DEFAULT_DESTROY_GRACE_SECONDS = 0;

/** `waitTimeout` when unset, in seconds. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 60;

/** A health-check duration as the provider stores it after a read; text Go cannot parse is kept as is. */
export function readBackDuration(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    const ns = parseGoDuration(text);
    return ns === undefined ? text : formatGoDuration(ns);
}

export { formatGoDuration, parseGoDuration };

/** What the Docker daemon adds to a container's log configuration (daemon.json `log-driver`, `log-opts`). */
export interface DaemonLogDefaults {
    /** Default: json-file. */
    driver?: string;
    /** Default: none. */
    opts?: Record<string, string>;
}

type Spec = Record<string, any>;

/**
 * The container's state after the provider's create or refresh: the inputs with the attributes the
 * provider reads back from Docker replaced by what Docker reports.
 */
export function readBackContainer(inputs: Spec, daemon: DaemonLogDefaults = {}): Spec {
    const state: Spec = { ...inputs };
    const hc = inputs.healthcheck;
    if (hc) {
        state.healthcheck = {
            ...hc,
            interval: readBackDuration(hc.interval) ?? "0s",
            timeout: readBackDuration(hc.timeout) ?? "0s",
            startPeriod: readBackDuration(hc.startPeriod) ?? "0s",
            retries: hc.retries ?? 0,
        };
    }
    const driver = inputs.logDriver ?? daemon.driver ?? "json-file";
    if (driver === (daemon.driver ?? "json-file") && daemon.opts && Object.keys(daemon.opts).length > 0) {
        state.logOpts = { ...daemon.opts, ...(inputs.logOpts ?? {}) };
    }
    if (inputs.attach) {
        state.exitCode = state.exitCode ?? 0;
    }
    return state;
}

export type ContainerAction = "same" | "update" | "replace";

export interface ContainerPlan {
    action: ContainerAction;
    /** Attributes whose desired value differs from state. */
    changed: string[];
    /** Of those, the ones that force a replacement. */
    replaceBecause: string[];
    /** Of those, the ones an update rewrites in state without applying them to the container. */
    notApplied: string[];
}

/** Attributes Pulumi compares: both sides' keys, without the ones only the provider computes. */
const COMPUTED = new Set(["id", "urn", "exitCode", "containerLogs", "networkDatas", "bridge", "ipAddress", "gateway", "ipPrefixLength"]);

function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

/** Empty lists and objects equal absent ones, as in the provider's diff; object keys are ordered. */
function normalise(v: unknown): unknown {
    if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(normalise);
    if (v !== null && typeof v === "object") {
        const entries = Object.keys(v)
            .sort()
            .map((k) => [k, normalise((v as Record<string, unknown>)[k])] as const)
            .filter(([, x]) => x !== undefined);
        return entries.length === 0 ? undefined : Object.fromEntries(entries);
    }
    return v === null ? undefined : v;
}

/**
 * What `pulumi up` does to a container whose state is `state` when the program now declares `desired`:
 * the provider's diff (ForceNew attributes replace, the restart policy and limits update in place, the
 * rest of the non-ForceNew attributes only rewrite state).
 */
export function planContainer(state: Spec, desired: Spec): ContainerPlan {
    const keys = [...new Set([...Object.keys(state), ...Object.keys(desired)])].filter((k) => !COMPUTED.has(k)).sort();
    const changed = keys.filter((k) => !same(state[k], desired[k]));
    const replaceBecause = changed.filter((k) => !(UPDATED_IN_PLACE as readonly string[]).includes(k) && !(STATE_ONLY as readonly string[]).includes(k));
    const notApplied = changed.filter((k) => (STATE_ONLY as readonly string[]).includes(k));
    const action: ContainerAction = replaceBecause.length > 0 ? "replace" : changed.length > 0 ? "update" : "same";
    return { action, changed, replaceBecause, notApplied };
}

/** A network's state after a read: Docker reports the gateway of each subnet, given or not. */
export function readBackNetwork(inputs: Spec): Spec {
    const state: Spec = { ...inputs };
    if (Array.isArray(inputs.ipamConfigs)) {
        state.ipamConfigs = inputs.ipamConfigs.map((c: Spec) => (c.subnet && !c.subnet.includes(":") ? { gateway: firstHostAddress(c.subnet), ...c } : c));
    }
    return state;
}

/** Every attribute of a network forces its replacement. */
export function planNetwork(state: Spec, desired: Spec): ContainerPlan {
    const keys = [...new Set([...Object.keys(state), ...Object.keys(desired)])].filter((k) => !COMPUTED.has(k)).sort();
    const changed = keys.filter((k) => !same(state[k], desired[k]));
    return { action: changed.length ? "replace" : "same", changed, replaceBecause: changed, notApplied: [] };
}

// ---- Swarm: docker_service, docker_secret, docker_config (resource_docker_service*.go, resource_docker_secret.go, resource_docker_config.go)
//
// - A secret's and a config's name, data (and a secret's labels) are ForceNew and there is no update:
//   any change is a replacement. Read keeps a secret's data from state (the API never returns it); a
//   config's data is read back as base64.
// - A service updates in place (`ServiceUpdate` with the whole spec) for everything but its name, its
//   `auth` and `hosts`, and a switch between replicated and global mode, which replace it.
// - Read flattens durations with `shortDur`: Go's form without a trailing `0s` (`60s` → `1m`, `90s` →
//   `1m30s`); the networks by the id Docker stores (`Target`); each spread preference as its bare
//   descriptor; `max_failure_ratio` with one decimal; env as a map.

/** Go's `time.Duration.String()` without a trailing "0s" after minutes or "0m" after hours, as the provider's shortDur. */
export function shortDur(ns: bigint): string {
    let s = formatGoDuration(ns);
    if (s.endsWith("m0s")) s = s.slice(0, -2);
    if (s.endsWith("h0m")) s = s.slice(0, -2);
    return s;
}

/** A duration as the service's state holds it after a read; text Go cannot parse is kept as is. */
export function readBackServiceDuration(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    const ns = parseGoDuration(text);
    return ns === undefined ? text : shortDur(ns);
}

/** Attributes of a service that force its replacement. */
export const SERVICE_FORCE_NEW = ["name", "auth", "taskSpec.containerSpec.hosts", "mode.global"] as const;

/** `docker service inspect`'s object (its Spec) → the state the provider reads, in Pulumi's names. */
export function readBackService(inspect: Spec): Spec {
    const spec = inspect.Spec ?? {};
    const task = spec.TaskTemplate ?? {};
    const c = task.ContainerSpec ?? {};
    const ns = (v: number | undefined) => (v === undefined ? undefined : shortDur(BigInt(v)));
    const update = (u: Spec | undefined) =>
        u && {
            parallelism: u.Parallelism ?? 0,
            delay: ns(u.Delay ?? 0),
            failureAction: u.FailureAction ?? "",
            monitor: ns(u.Monitor ?? 0),
            maxFailureRatio: (u.MaxFailureRatio ?? 0).toFixed(1),
            order: u.Order ?? "",
        };
    const file = (kind: "secret" | "config") => (r: Spec) => ({
        [`${kind}Id`]: r[kind === "secret" ? "SecretID" : "ConfigID"],
        ...(r[kind === "secret" ? "SecretName" : "ConfigName"] ? { [`${kind}Name`]: r[kind === "secret" ? "SecretName" : "ConfigName"] } : {}),
        fileName: r.File?.Name,
        ...(r.File?.UID ? { fileUid: r.File.UID } : {}),
        ...(r.File?.GID ? { fileGid: r.File.GID } : {}),
        fileMode: r.File?.Mode,
    });
    const hc = c.Healthcheck;
    const endpoint = inspect.Endpoint?.Spec?.Mode ? inspect.Endpoint.Spec : spec.EndpointSpec;
    return {
        name: spec.Name,
        labels: Object.entries(spec.Labels ?? {})
            .map(([label, value]) => ({ label, value }))
            .sort((a, b) => a.label.localeCompare(b.label)),
        mode: spec.Mode?.Global ? { global: true } : { replicated: { replicas: spec.Mode?.Replicated?.Replicas } },
        taskSpec: {
            containerSpec: {
                image: c.Image,
                commands: c.Command,
                args: c.Args,
                env: c.Env ? Object.fromEntries(c.Env.map((e: string) => [e.split("=")[0], e.split("=").slice(1).join("=")])) : undefined,
                mounts: (c.Mounts ?? []).map((m: Spec) => ({ target: m.Target, source: m.Source, type: m.Type, readOnly: m.ReadOnly ?? false })),
                stopGracePeriod: ns(c.StopGracePeriod),
                healthcheck: hc && {
                    tests: hc.Test,
                    interval: ns(hc.Interval ?? 0),
                    timeout: ns(hc.Timeout ?? 0),
                    startPeriod: ns(hc.StartPeriod ?? 0),
                    retries: hc.Retries ?? 0,
                },
                secrets: (c.Secrets ?? []).map(file("secret")),
                configs: (c.Configs ?? []).map(file("config")),
            },
            placement: task.Placement && {
                constraints: task.Placement.Constraints,
                prefs: (task.Placement.Preferences ?? []).map((p: Spec) => p.Spread?.SpreadDescriptor),
                maxReplicas: task.Placement.MaxReplicas ?? 0,
            },
            networksAdvanceds: (task.Networks ?? []).map((n: Spec) => ({ id: n.Target, ...(n.Aliases?.length ? { aliases: n.Aliases } : {}) })),
            restartPolicy: task.RestartPolicy && {
                condition: task.RestartPolicy.Condition,
                delay: ns(task.RestartPolicy.Delay),
                maxAttempts: task.RestartPolicy.MaxAttempts,
                window: ns(task.RestartPolicy.Window),
            },
            logDriver: task.LogDriver && {
                name: task.LogDriver.Name,
                ...(Object.keys(task.LogDriver.Options ?? {}).length ? { options: task.LogDriver.Options } : {}),
            },
        },
        endpointSpec: endpoint && {
            mode: endpoint.Mode,
            ports: (endpoint.Ports ?? []).map((p: Spec) => ({
                protocol: p.Protocol,
                targetPort: p.TargetPort,
                publishedPort: p.PublishedPort,
                publishMode: p.PublishMode,
            })),
        },
        updateConfig: update(spec.UpdateConfig),
        rollbackConfig: update(spec.RollbackConfig),
    };
}

/** The desired inputs as the provider compares them with state: durations in shortDur form are what Read returns, so the spec must already be written so. */
function serviceComparable(desired: Spec): Spec {
    const { convergeConfig: _converge, ...rest } = desired;
    return rest;
}

function leafDiffs(a: unknown, b: unknown, at: string, out: string[]): void {
    const na = normalise(a);
    const nb = normalise(b);
    if (JSON.stringify(na) === JSON.stringify(nb)) return;
    if (na && nb && typeof na === "object" && typeof nb === "object" && !Array.isArray(na) && !Array.isArray(nb)) {
        for (const k of [...new Set([...Object.keys(na), ...Object.keys(nb)])].sort()) leafDiffs((na as Spec)[k], (nb as Spec)[k], at ? `${at}.${k}` : k, out);
        return;
    }
    // Sets (secrets, configs, mounts, constraints, prefs, networks, labels) compare without order.
    if (Array.isArray(na) && Array.isArray(nb)) {
        const sorted = (x: unknown[]) => x.map((e) => JSON.stringify(e)).sort();
        if (JSON.stringify(sorted(na)) === JSON.stringify(sorted(nb))) return;
    }
    out.push(at);
}

/** What `pulumi up` does to a service whose state is `state` (readBackService) when the program declares `desired`. */
export function planService(state: Spec, desired: Spec): ContainerPlan {
    const changed: string[] = [];
    leafDiffs(state, serviceComparable(desired), "", changed);
    const replaceBecause = changed.filter((k) => SERVICE_FORCE_NEW.some((f) => k === f || k.startsWith(`${f}.`)));
    return { action: replaceBecause.length ? "replace" : changed.length ? "update" : "same", changed, replaceBecause, notApplied: [] };
}

/** Secrets and configs: every attribute is ForceNew. State holds the inputs (a secret's data is never read back). */
export function planSwarmFile(state: Spec | undefined, desired: Spec): ContainerAction {
    if (!state) return "replace";
    return same(state.name, desired.name) && same(state.data, desired.data) && same(state.labels, desired.labels) ? "same" : "replace";
}
