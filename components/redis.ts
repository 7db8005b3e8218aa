/**
 * Redis: the blob-descriptor cache shared by registry replicas. A cache only: no persistence, bounded
 * memory, a generated password.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerLogging } from "../primitives/logging";
import * as random from "@pulumi/random";
import { image as imageRef } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { validateArgs } from "./validate";

export const REDIS_PORT = 6379;

export interface RedisArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** Docker network shared with the registry. Required. */
    networkName: pulumi.Input<string>;
    /** Redis image. Default: redis:7.4. */
    image?: pulumi.Input<string>;
    /** Container name; also its DNS alias. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** Memory cap; least recently used keys go first. Default: 256mb. */
    maxMemory?: pulumi.Input<string>;
}

export class Redis extends pulumi.ComponentResource {
    /** `host:port` on the network. */
    public readonly address: pulumi.Output<string>;
    /** The generated password (secret). */
    public readonly password: pulumi.Output<string>;

    constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:registry:Redis", name, {}, opts);
        validateArgs("Redis", name, args, {
            logging: containerLogging,
            image: imageRef,
            containerName: dockerName,
        });
        const containerName = pulumi.output(args.containerName ?? name);
        const password = new random.RandomPassword(`${name}-password`, { length: 40, special: false }, { parent: this });
        this.password = pulumi.secret(password.result);
        const conf = pulumi.secret(
            pulumi.interpolate`requirepass ${password.result}\nsave ""\nappendonly no\nmaxmemory ${args.maxMemory ?? "256mb"}\nmaxmemory-policy allkeys-lru\nprotected-mode no\n`,
        );
        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "redis:7.4", keepLocally: true }, { parent: this });
        new docker.Container(
            name,
            {
                name: containerName,
                image: remoteImage.imageId,
                command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
                uploads: [{ file: "/usr/local/etc/redis/redis.conf", content: conf, permissions: "0644" }],
                // redis-cli reads the password from REDISCLI_AUTH: the health check needs no secret argument.
                envs: [pulumi.secret(pulumi.interpolate`REDISCLI_AUTH=${password.result}`)],
                networksAdvanced: [{ name: args.networkName, aliases: containerName.apply((n) => [n]) }],
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "redis",
                    configText: pulumi.output(args.maxMemory ?? "256mb"),
                    healthTest: ["redis-cli", "ping"],
                    startPeriodSeconds: 5,
                    stopGraceSeconds: 10,
                }),
            },
            { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
        );
        this.address = pulumi.interpolate`${containerName}:${REDIS_PORT}`;
        this.registerOutputs({ address: this.address, password: this.password });
    }
}
