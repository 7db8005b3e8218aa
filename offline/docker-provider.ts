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
