/**
 * SwarmRedis: the blob-descriptor cache the registry replicas share, as a one-task Docker Swarm service.
 * A cache only (no persistence, bounded memory, least recently used keys evicted first); its
 * redis.conf holds the generated password, so the whole file is a Swarm secret.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { goDuration } from "../primitives/durations";
import { image } from "../primitives/images";
import { containerLogging } from "../primitives/logging";
import { ContainerLoggingArgs } from "./docker-common";
import { REDIS_PORT } from "./redis";
import {
    placementSpec,
    RESTART_POLICY,
    secretRefs,
    serviceHealthcheck,
    serviceLogDriver,
    SwarmPlacementArgs,
    versionedSecret,
    replicatedService,
} from "./swarm-common";
import { validateArgs } from "./validate";

export interface SwarmRedisArgs {
    /** Id of the overlay network shared with the registry (the provider reads a service's networks back by id). Required. */
    networkName: pulumi.Input<string>;
    /** Redis image (every node pulls it). Default: redis:7.4. */
    image?: pulumi.Input<string>;
    /** Service name; also its DNS name on the network. Default: the component name. */
    serviceName?: pulumi.Input<string>;
    /** Memory cap. Default: 256mb. */
    maxMemory?: pulumi.Input<string>;
    /** Placement constraints. Default: none. */
    placement?: Pick<SwarmPlacementArgs, "constraints">;
    /** Log driver and options of its task. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** How often the health check runs, a Go duration; a new task counts as running from its first healthy check. Default: 10s. */
    healthInterval?: pulumi.Input<string>;
}

const CONF_PATH = "/run/secrets/redis.conf";

export class SwarmRedis extends pulumi.ComponentResource {
    /** `host:port` on the network. */
    public readonly address: pulumi.Output<string>;
    /** The generated password (secret). */
    public readonly password: pulumi.Output<string>;
    /** The service. */
    public readonly service: docker.Service;

    constructor(name: string, args: SwarmRedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:swarm:SwarmRedis", name, {}, opts);
        validateArgs("SwarmRedis", name, args, { logging: containerLogging, image, healthInterval: goDuration });
        const child = { parent: this };
        const serviceName = pulumi.output(args.serviceName ?? name);
        const password = new random.RandomPassword(`${name}-password`, { length: 40, special: false }, child);
        const versionKey = new random.RandomPassword(`${name}-version-key`, { length: 32, special: false }, child).result;
        this.password = pulumi.secret(password.result);
        const conf = pulumi.interpolate`requirepass ${password.result}\nsave ""\nappendonly no\nmaxmemory ${args.maxMemory ?? "256mb"}\nmaxmemory-policy allkeys-lru\nprotected-mode no\n`;
        const file = versionedSecret(`${name}-conf`, pulumi.interpolate`${serviceName}-conf`, conf, versionKey, CONF_PATH, child, 0o444);
        this.service = new docker.Service(
            name,
            {
                ...replicatedService(serviceName, "redis", 1),
                taskSpec: {
                    containerSpec: {
                        image: args.image ?? "redis:7.4",
                        commands: ["redis-server", CONF_PATH],
                        secrets: secretRefs([file]),
                        // redis-cli pings without the password: an unauthenticated PING is refused with NOAUTH, which still exits 0.
                        healthcheck: serviceHealthcheck(["redis-cli", "ping"], { startPeriodSeconds: 5, interval: args.healthInterval }),
                        stopGracePeriod: "10s",
                    },
                    networksAdvanceds: [{ id: args.networkName, aliases: [serviceName] }],
                    placement: placementSpec(args.placement),
                    restartPolicy: RESTART_POLICY,
                    logDriver: serviceLogDriver(args.logging),
                },
                endpointSpec: { mode: "dnsrr" },
                updateConfig: { order: "stop-first", parallelism: 1, delay: "0s", monitor: "5s", failureAction: "rollback", maxFailureRatio: "0.0" },
                convergeConfig: { delay: "7s", timeout: "5m" },
            },
            child,
        );
        this.address = pulumi.interpolate`${serviceName}:${REDIS_PORT}`;
        this.registerOutputs({ address: this.address, password: this.password });
    }
}
