/**
 * SwarmProxy: the nginx TLS proxy as a Docker Swarm service. nginx.conf and the certificate are Swarm
 * configs, the private key a Swarm secret, each versioned by content (swarm-common.ts). Published in
 * host mode (each task binds the ports on its node and sees clients' own addresses) or through the
 * routing mesh (ingress).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { goDuration } from "../primitives/durations";
import { image } from "../primitives/images";
import { containerLogging } from "../primitives/logging";
import { cidr, hostname, port } from "../primitives/network";
import { publishModes } from "../primitives/swarm";
import { NGINX_CERT_PATH, NGINX_CONFIG_PATH, NGINX_KEY_PATH, renderNginxConf } from "../renderers/nginx-conf";
import { proxyMetricsText } from "../renderers/registry-alerts";
import { NGINX_AUTH_JS_PATH, NGINX_AUTH_SECRETS_PATH } from "../renderers/nginx-auth";
import { basicAuthFiles, TlsProxyArgs, validateBasicAuth } from "./tls-proxy";
import {
    configRefs,
    placementSpec,
    RESTART_POLICY,
    secretRefs,
    serviceHealthcheck,
    serviceLogDriver,
    SwarmPlacementArgs,
    SwarmUpdateArgs,
    updateAndRollback,
    versionedConfig,
    versionedSecret,
    replicatedService,
} from "./swarm-common";
import { validateArgs } from "./validate";

/** The proxy's settings as TlsProxy names them (same defaults), plus the service's own. */
export interface SwarmProxyArgs extends Pick<
    TlsProxyArgs,
    | "networkName"
    | "hostname"
    | "upstream"
    | "certificatePem"
    | "privateKeyPem"
    | "image"
    | "httpsPort"
    | "httpPort"
    | "allowCidrs"
    | "hstsMaxAge"
    | "logging"
    | "basicAuth"
> {
    /** Id of the overlay network shared with the registry (the provider reads a service's networks back by id). Required. */
    networkName: pulumi.Input<string>;
    /** Service name. Default: the component name. */
    serviceName?: pulumi.Input<string>;
    /** host (each task on its node, client addresses kept) or ingress (the routing mesh). Default: host. */
    publishMode?: pulumi.Input<string>;
    /** Proxy tasks; in host mode at most one per node (the placement allows no more). Default: 1. */
    replicas?: pulumi.Input<number>;
    /** Serve the proxy's metrics on the network for Prometheus. Default: false. */
    metrics?: boolean;
    /** Placement constraints. Default: none. */
    placement?: Pick<SwarmPlacementArgs, "constraints">;
    /** Rolling update. Default: stop-first in host mode, start-first in ingress mode; 1 at a time, 5s apart, watched 15s, rollback on failure. */
    update?: SwarmUpdateArgs;
    /** How long `pulumi up` waits for the service to converge, a Go duration. Default: 5m. */
    convergeTimeout?: pulumi.Input<string>;
    /** How often the health check runs, a Go duration; a new task counts as running from its first healthy check. Default: 10s. */
    healthInterval?: pulumi.Input<string>;
}

export class SwarmProxy extends pulumi.ComponentResource {
    /** The service. */
    public readonly service: docker.Service;
    /** The rendered nginx.conf (contains no secret). */
    public readonly nginxConf: pulumi.Output<string>;

    constructor(name: string, args: SwarmProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:swarm:SwarmProxy", name, {}, opts);
        validateArgs("SwarmProxy", name, args, {
            logging: containerLogging,
            hostname,
            image,
            httpsPort: port,
            httpPort: port,
            allowCidrs: z.array(cidr),
            publishMode: z.enum(publishModes),
            replicas: z.number().int().min(1, { message: "1 or more" }),
            hstsMaxAge: z.number().int().min(0, { message: "a number of seconds, 0 or more" }),
            healthInterval: goDuration,
        });
        validateBasicAuth("SwarmProxy", name, args.basicAuth);
        const child = { parent: this };
        const serviceName = pulumi.output(args.serviceName ?? name);
        const httpsPort = pulumi.output(args.httpsPort ?? 443);
        const mode = pulumi.output(args.publishMode ?? "host");
        this.nginxConf = pulumi
            .all([args.hostname, args.upstream, httpsPort, args.allowCidrs ?? [], args.hstsMaxAge ?? 31536000])
            .apply(([host, upstream, publicHttpsPort, allowCidrs, hstsMaxAge]) =>
                renderNginxConf({
                    hostname: host,
                    upstream,
                    publicHttpsPort,
                    allowCidrs,
                    hstsMaxAge,
                    metricsText: args.metrics ? proxyMetricsText(undefined) : undefined,
                    // A task stopped by an update or a failure leaves an address nothing answers at until
                    // nginx's 10 s DNS cache forgets it: 60 s of waiting would fail a client's pull.
                    upstreamConnectTimeoutSeconds: 2,
                    basicAuth: args.basicAuth && { verdictCacheSeconds: args.basicAuth.verdictCacheSeconds ?? 60 },
                }),
            );
        const versionKey = new random.RandomPassword(`${name}-version-key`, { length: 32, special: false }, child).result;
        const configs = [
            versionedConfig(`${name}-nginx-conf`, pulumi.interpolate`${serviceName}-nginx-conf`, this.nginxConf, NGINX_CONFIG_PATH, child),
            versionedConfig(`${name}-certificate`, pulumi.interpolate`${serviceName}-certificate`, args.certificatePem, NGINX_CERT_PATH, child),
        ];
        const secrets = [
            versionedSecret(`${name}-private-key`, pulumi.interpolate`${serviceName}-private-key`, args.privateKeyPem, versionKey, NGINX_KEY_PATH, child),
        ];
        if (args.basicAuth) {
            // The credential check as TlsProxy has it: the njs module a config, its keys a secret. Each task
            // keeps its own verdict cache.
            const { authJs, authSecrets } = basicAuthFiles(args.basicAuth);
            configs.push(versionedConfig(`${name}-auth-js`, pulumi.interpolate`${serviceName}-auth-js`, authJs, NGINX_AUTH_JS_PATH, child));
            const secretName = pulumi.interpolate`${serviceName}-auth-secrets`;
            secrets.push(versionedSecret(`${name}-auth-secrets`, secretName, authSecrets, versionKey, NGINX_AUTH_SECRETS_PATH, child));
        }
        const ports = pulumi.all([httpsPort, args.httpPort ?? 80, mode]).apply(([https, http, publishMode]) => [
            { targetPort: 443, publishedPort: https, publishMode, protocol: "tcp" },
            { targetPort: 80, publishedPort: http, publishMode, protocol: "tcp" },
        ]);
        const { updateConfig, rollbackConfig } = updateAndRollback(args.update, "stop-first");
        const order = pulumi.all([args.update?.order, mode]).apply(([o, m]) => o ?? (m === "host" ? "stop-first" : "start-first"));

        this.service = new docker.Service(
            name,
            {
                ...replicatedService(serviceName, "tls-proxy", args.replicas ?? 1),
                taskSpec: {
                    containerSpec: {
                        image: args.image ?? "nginx:1.27",
                        configs: configRefs(configs),
                        secrets: secretRefs(secrets),
                        healthcheck: serviceHealthcheck(["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/healthz"], {
                            startPeriodSeconds: 5,
                            interval: args.healthInterval,
                        }),
                        // nginx's image stops it with SIGQUIT: in-flight pushes and pulls finish first.
                        // The provider reads durations back without a trailing "0s" (`1m0s` → `1m`).
                        stopGracePeriod: "1m",
                    },
                    networksAdvanceds: [{ id: args.networkName, aliases: ["proxy"] }],
                    // In host mode two tasks on one node would fight for the ports.
                    placement: pulumi
                        .all([mode, args.placement?.constraints ?? []])
                        .apply(([m, constraints]) => placementSpec({ constraints, maxReplicasPerNode: m === "host" ? 1 : 0 })),
                    restartPolicy: RESTART_POLICY,
                    logDriver: serviceLogDriver(args.logging),
                },
                // The routing mesh needs a virtual IP; host-mode ports do not.
                endpointSpec: mode.apply((m) => ({ mode: m === "host" ? "dnsrr" : "vip", ports })),
                updateConfig: order.apply((o) => ({ ...updateConfig, order: o })),
                rollbackConfig: order.apply((o) => ({ ...rollbackConfig, order: o })),
                convergeConfig: { delay: "7s", timeout: args.convergeTimeout ?? "5m" },
            },
            child,
        );
        this.registerOutputs({ nginxConf: this.nginxConf });
    }
}
