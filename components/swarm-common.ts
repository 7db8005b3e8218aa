/**
 * What the Swarm service components share: files shipped as Swarm secrets and configs under versioned
 * names, rolling-update and rollback settings, health checks and log drivers in a service's form.
 *
 * Swarm secrets and configs are immutable (the provider, terraform-provider-docker v4.5.0, makes their
 * name, data and labels ForceNew and has no update). So each carries a version in its name: a changed
 * content is a new name, which Pulumi creates before it updates the services that mount it and deletes
 * the old one after; an unchanged content keeps its name and changes nothing.
 */
import { createHash, createHmac } from "node:crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { formatGoDuration, goDurationSeconds, parseGoDuration } from "../primitives/durations";
import { logConfig, LogDriver } from "../primitives/logging";
import { ContainerLoggingArgs, HealthTimings, labels } from "./docker-common";

/** Characters of the content hash in a config's or secret's name. */
export const VERSION_LENGTH = 12;

/** A config's version: the first characters of the SHA-256 of its text. */
export function configVersion(text: string): string {
    return createHash("sha256").update(text).digest("hex").slice(0, VERSION_LENGTH);
}

/**
 * A secret's version: an HMAC of its content under a key kept in state, so the name (which Docker shows
 * to anyone who can list secrets) reveals nothing a guess could be checked against.
 */
export function secretVersion(key: string, text: string): string {
    return createHmac("sha256", key).update(text).digest("hex").slice(0, VERSION_LENGTH);
}

/** A file of a service: a config or a secret, mounted at `fileName`. */
export interface SwarmFile {
    id: pulumi.Output<string>;
    name: pulumi.Output<string>;
    fileName: string;
    fileMode: number;
}

/** A config `<baseName>-<version>` holding `text` (no secret), for `fileName`. */
export function versionedConfig(
    resourceName: string,
    baseName: pulumi.Input<string>,
    text: pulumi.Input<string>,
    fileName: string,
    opts: pulumi.CustomResourceOptions,
    fileMode = 0o444,
): SwarmFile & { resource: docker.ServiceConfig } {
    const content = pulumi.output(text);
    const name = pulumi.all([baseName, content]).apply(([b, t]) => `${b}-${configVersion(t)}`);
    const resource = new docker.ServiceConfig(resourceName, { name, data: content.apply((t) => Buffer.from(t).toString("base64")) }, opts);
    return { resource, id: resource.id, name: resource.name, fileName, fileMode };
}

/** A secret `<baseName>-<version>` holding `text` (kept secret), for `fileName`; `key` versions it (secretVersion). */
export function versionedSecret(
    resourceName: string,
    baseName: pulumi.Input<string>,
    text: pulumi.Input<string>,
    key: pulumi.Input<string>,
    fileName: string,
    opts: pulumi.CustomResourceOptions,
    fileMode = 0o400,
): SwarmFile & { resource: docker.Secret } {
    const content = pulumi.secret(text);
    // The version is an HMAC: it may be shown, the content may not.
    const name = pulumi.unsecret(pulumi.all([baseName, content, key]).apply(([b, t, k]) => `${b}-${secretVersion(k, t)}`));
    const resource = new docker.Secret(
        resourceName,
        { name, data: pulumi.secret(content.apply((t) => Buffer.from(t).toString("base64"))), labels: [{ label: "registry-kit.role", value: "secret" }] },
        pulumi.mergeOptions(opts, { additionalSecretOutputs: ["data"] }),
    );
    return { resource, id: resource.id, name: pulumi.unsecret(resource.name), fileName, fileMode };
}

/** The containerSpec's `configs` for these files. */
export function configRefs(files: SwarmFile[]): docker.types.input.ServiceTaskSpecContainerSpecConfig[] {
    return files.map((f) => ({ configId: f.id, configName: f.name, fileName: f.fileName, fileMode: f.fileMode, fileUid: "0", fileGid: "0" }));
}

/** The containerSpec's `secrets` for these files. */
export function secretRefs(files: SwarmFile[]): docker.types.input.ServiceTaskSpecContainerSpecSecret[] {
    return files.map((f) => ({ secretId: f.id, secretName: f.name, fileName: f.fileName, fileMode: f.fileMode, fileUid: "0", fileGid: "0" }));
}

/** A rolling update or rollback, as registry-kit's settings name it. */
export interface SwarmUpdateArgs {
    /** start-first or stop-first. Default: stop-first (Swarm's). */
    order?: pulumi.Input<string>;
    /** Tasks at once. Default: 1. */
    parallelism?: pulumi.Input<number>;
    /** Pause between batches, a Go duration. Default: 5s. */
    delay?: pulumi.Input<string>;
    /** How long a new task is watched for failure, a Go duration. Default: 15s. */
    monitor?: pulumi.Input<string>;
    /** rollback, pause or continue. Default: rollback. */
    failureAction?: pulumi.Input<string>;
}

/** Where a service's tasks may run. */
export interface SwarmPlacementArgs {
    /** Swarm constraints, all met by a node (`node.labels.zone==a`). Default: []. */
    constraints?: pulumi.Input<pulumi.Input<string>[]>;
    /** Spread descriptors, highest precedence first (`node.id`, `node.labels.zone`). Default: []. */
    spread?: pulumi.Input<pulumi.Input<string>[]>;
    /** Most tasks on one node; 0 is no limit. Default: 0. */
    maxReplicasPerNode?: pulumi.Input<number>;
}

/** The service's `updateConfig` and the matching `rollbackConfig` (the same order and pace; a failed rollback pauses). */
export function updateAndRollback(u: SwarmUpdateArgs | undefined, defaultOrder: string) {
    const updateConfig = {
        order: u?.order ?? defaultOrder,
        parallelism: u?.parallelism ?? 1,
        delay: u?.delay ?? "5s",
        monitor: u?.monitor ?? "15s",
        failureAction: u?.failureAction ?? "rollback",
        maxFailureRatio: "0.0",
    };
    const rollbackConfig = { ...updateConfig, failureAction: "pause" };
    return { updateConfig, rollbackConfig };
}

/**
 * `placement` of a task spec: constraints, spread preferences, per-node limit. The provider passes each
 * `prefs` entry as the spread descriptor itself (`node.id`, not `spread=node.id`) and reads it back so.
 */
export function placementSpec(p: SwarmPlacementArgs | undefined) {
    return {
        constraints: p?.constraints ?? [],
        prefs: p?.spread ?? [],
        maxReplicas: p?.maxReplicasPerNode ?? 0,
    };
}

/**
 * A health-check interval in Go's form as the provider reads it back (`90s` → `1m30s`). An Output's value
 * escapes validateArgs, so a value that is not a Go duration is refused here rather than replaced.
 */
export function healthIntervalText(interval: string): string {
    const ns = parseGoDuration(interval);
    if (ns === undefined) throw new Error(`health check interval: got "${interval}"; allowed: a Go duration such as 10s`);
    return formatGoDuration(ns);
}

/**
 * A service's health check, durations in Go's form as the provider reads them back. `interval` (a Go
 * duration) wins over `intervalSeconds`; default 10s.
 */
export function serviceHealthcheck(test: string[], t: HealthTimings & { interval?: pulumi.Input<string> } = {}) {
    return pulumi.all([t.startPeriodSeconds ?? 10, t.interval]).apply(([start, interval]) => ({
        tests: ["CMD", ...test],
        interval: interval !== undefined ? healthIntervalText(interval) : goDurationSeconds(t.intervalSeconds ?? 10),
        timeout: goDurationSeconds(t.timeoutSeconds ?? 5),
        retries: t.retries ?? 3,
        startPeriod: goDurationSeconds(start),
    }));
}

/** A service's log driver: json-file rotated at 10m × 3 unless told otherwise. */
export function serviceLogDriver(logging: ContainerLoggingArgs | undefined): docker.types.input.ServiceTaskSpecLogDriver {
    const c = logConfig(logging as { driver?: LogDriver; options?: Record<string, string> } | undefined);
    return { name: c.logDriver, options: c.logOpts };
}

/** Restart a failed task after 5 s, without a limit (Swarm also replaces tasks its health check finds unhealthy). */
export const RESTART_POLICY = { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" };

/** A replicated service's name, `registry-kit.role` label and replica count. */
export function replicatedService(serviceName: pulumi.Input<string>, role: string, replicas: pulumi.Input<number> = 1) {
    return { name: serviceName, labels: labels({ "registry-kit.role": role }), mode: { replicated: { replicas } } };
}
