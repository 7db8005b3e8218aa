/**
 * Gitlab: GitLab CE (Omnibus) configured through GITLAB_OMNIBUS_CONFIG as the token issuer of
 * registry-kit's registry, behind registry-kit's TLS proxy, with retained config, log and data volumes.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerLogging } from "../primitives/logging";
import { z } from "zod";
import { GITLAB_ENV, GITLAB_HTTP_PORT, renderGitlabRb } from "../renderers/gitlab-rb";
import { goDurationSeconds } from "../primitives/durations";
import { GITLAB_IMAGE, image } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { cidr, hostname, ipAddress, port } from "../primitives/network";
import { labels, serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { validateArgs } from "./validate";

export interface GitlabArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** Docker network shared with the proxy, the registry and Prometheus. Required. */
    networkName: pulumi.Input<string>;
    /** GitLab's URL, `https://<host>[:port]`, served by the proxy. Required. */
    externalUrl: pulumi.Input<string>;
    /** The registry's public host name, shown in GitLab (`$CI_REGISTRY`). Required. */
    registryHost: pulumi.Input<string>;
    /** The registry's public HTTPS port. Default: 443. */
    registryPort?: pulumi.Input<number>;
    /** Registry API URL inside the network, e.g. `http://registry:5000`. Required. */
    registryApiUrl: pulumi.Input<string>;
    /** `iss` of the tokens GitLab signs; give the registry the same value. Required. */
    registryIssuer: pulumi.Input<string>;
    /** PEM RSA key GitLab signs registry tokens with (a TokenSigningKey's), made secret here. Required. */
    tokenKeyPem: pulumi.Input<string>;
    /** Secret the registry sends as the Authorization header of its notifications, made secret here. Required. */
    notificationSecret: pulumi.Input<string>;
    /** Initial root password, made secret here; used when GitLab first seeds its database. Required. */
    rootPassword: pulumi.Input<string>;
    /** Root user's email. Default: `admin@<GitLab host>`. */
    rootEmail?: pulumi.Input<string>;
    /** Addresses of the proxy, whose X-Forwarded-For GitLab trusts (the network's subnet). Required. */
    trustedCidrs: pulumi.Input<pulumi.Input<string>[]>;
    /** Addresses allowed to read metrics and health checks besides loopback (Prometheus). Default: trustedCidrs. */
    monitoringCidrs?: pulumi.Input<pulumi.Input<string>[]>;
    /** GitLab CE image. Default: gitlab/gitlab-ce:19.4.1-ce.0. */
    image?: pulumi.Input<string>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** DNS alias on the network; the proxy, registry and Prometheus use it. Default: gitlab. */
    alias?: pulumi.Input<string>;
    /** Host address SSH is published on. Default: 0.0.0.0. */
    sshHostIp?: pulumi.Input<string>;
    /** Host port for git over SSH; 0 publishes nothing. Default: 2222. */
    sshPort?: pulumi.Input<number>;
    /** Shared memory in MiB. Default: 256. */
    shmSizeMb?: pulumi.Input<number>;
    /**
     * Seconds `pulumi up` waits for GitLab to be healthy; the container's create timeout is this plus 5
     * minutes (the provider's own default, 20 minutes, would cut a longer wait). Default: 900. Give a
     * plain number: an Output sets the create timeout to the longest allowed wait.
     */
    startTimeoutSeconds?: pulumi.Input<number>;
    /** Keep the config, logs and data volumes on destroy. Default: true. Plain value: a resource option. */
    retainOnDelete?: boolean;
    /** More gitlab.rb lines, appended after the generated ones; with them gitlab.rb is kept secret (they may hold passwords). Default: none. */
    extraConfig?: pulumi.Input<string>;
}

/** The image's own volumes: configuration (and its generated secrets), logs, and all data. */
const VOLUMES = [
    { suffix: "config", path: "/etc/gitlab" },
    { suffix: "logs", path: "/var/log/gitlab" },
    { suffix: "data", path: "/var/opt/gitlab" },
] as const;

export class Gitlab extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The gitlab.rb text given as GITLAB_OMNIBUS_CONFIG: no secret in it, unless `extraConfig` is set (then it is a secret). */
    public readonly gitlabRb: pulumi.Output<string>;
    /** `alias:80`: GitLab's nginx on the network, the proxy's upstream. */
    public readonly address: pulumi.Output<string>;
    /** `http://alias:80/api/v4/container_registry_event/events`, for the registry's notifications. */
    public readonly eventsUrl: pulumi.Output<string>;
    /** Names of the config, logs and data volumes. */
    public readonly volumeNames: pulumi.Output<string>[];

    constructor(name: string, args: GitlabArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:gitlab:Gitlab", name, {}, opts);
        validateArgs("Gitlab", name, args, {
            logging: containerLogging,
            registryHost: hostname,
            registryPort: port,
            trustedCidrs: z.array(cidr).min(1, { message: "at least one address: the proxy's network" }),
            monitoringCidrs: z.array(cidr),
            image,
            containerName: dockerName,
            alias: dockerName,
            sshHostIp: ipAddress,
            sshPort: z.number().int().min(0).max(65535),
            shmSizeMb: z.number().int().min(256, { message: "at least 256 (GitLab's documented minimum)" }),
            startTimeoutSeconds: z.number().int().min(60).max(7200),
            rootEmail: z.email(),
        });
        const alias = pulumi.output(args.alias ?? "gitlab");
        const sshPort = pulumi.output(args.sshPort ?? 2222);
        this.gitlabRb = pulumi
            .all([
                args.externalUrl,
                args.registryHost,
                args.registryPort ?? 443,
                args.registryApiUrl,
                args.registryIssuer,
                args.trustedCidrs,
                args.monitoringCidrs ?? args.trustedCidrs,
                sshPort,
            ])
            .apply(([externalUrl, registryHost, registryPort, registryApiUrl, issuer, trustedCidrs, monitoringCidrs, ssh]) =>
                pulumi.output(args.extraConfig).apply((extraConfig) =>
                    renderGitlabRb({
                        externalUrl,
                        registryHost,
                        registryPort,
                        registryApiUrl,
                        issuer,
                        trustedCidrs,
                        monitoringCidrs,
                        sshPort: ssh,
                        extraConfig,
                    }),
                ),
            );
        // Extra lines may hold SMTP or LDAP passwords: with them, gitlab.rb is kept secret as a whole.
        if (args.extraConfig !== undefined) this.gitlabRb = pulumi.secret(this.gitlabRb);
        const rootEmail = pulumi.all([args.rootEmail, args.externalUrl]).apply(([email, url]) => email ?? `admin@${new URL(url).hostname}`);

        const volumes = VOLUMES.map(
            (v) =>
                new docker.Volume(
                    `${name}-${v.suffix}`,
                    { name: `${name}-${v.suffix}`, labels: labels({ "registry-kit.role": `gitlab-${v.suffix}` }) },
                    // Repositories, the database, uploads and the secrets that decrypt them.
                    { parent: this, retainOnDelete: args.retainOnDelete ?? true },
                ),
        );
        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? GITLAB_IMAGE, keepLocally: true }, { parent: this });
        const secretEnv = (key: string, value: pulumi.Input<string>) => pulumi.secret(pulumi.interpolate`${key}=${value}`);
        const startTimeout = pulumi.output(args.startTimeoutSeconds ?? 900);
        // The provider cuts a create at 20 minutes unless told otherwise; the wait must fit in the create.
        const plainStartTimeout = typeof args.startTimeoutSeconds === "number" ? args.startTimeoutSeconds : args.startTimeoutSeconds === undefined ? 900 : 7200;

        // The image's own health check timings; the first start seeds the database for minutes.
        const service = serviceContainerArgs({
            logging: args.logging,
            role: "gitlab",
            configText: this.gitlabRb,
            healthTest: ["/opt/gitlab/bin/gitlab-healthcheck", "--fail", "--max-time", "10"],
            intervalSeconds: 60,
            timeoutSeconds: 30,
            retries: 5,
            startPeriodSeconds: startTimeout,
            // Omnibus stops its services in order; give it time before Docker kills it.
            stopGraceSeconds: 120,
        });
        this.container = new docker.Container(
            name,
            {
                name: args.containerName ?? name,
                hostname: pulumi.output(args.externalUrl).apply((u) => new URL(u).hostname),
                image: remoteImage.imageId,
                envs: [
                    args.extraConfig !== undefined
                        ? secretEnv(GITLAB_ENV.omnibusConfig, this.gitlabRb)
                        : pulumi.interpolate`${GITLAB_ENV.omnibusConfig}=${this.gitlabRb}`,
                    pulumi.interpolate`${GITLAB_ENV.rootEmail}=${rootEmail}`,
                    secretEnv(GITLAB_ENV.rootPassword, args.rootPassword),
                    secretEnv(GITLAB_ENV.tokenKey, args.tokenKeyPem),
                    secretEnv(GITLAB_ENV.notificationSecret, args.notificationSecret),
                ],
                shmSize: args.shmSizeMb ?? 256,
                volumes: VOLUMES.map((v, i) => ({ volumeName: volumes[i].name, containerPath: v.path })),
                ports: pulumi
                    .all([sshPort, args.sshHostIp ?? "0.0.0.0"])
                    .apply(([ssh, ip]) => (ssh > 0 ? [{ internal: 22, external: ssh, ip, protocol: "tcp" }] : [])),
                networksAdvanced: [{ name: args.networkName, aliases: [alias] }],
                ...service,
                wait: true,
                waitTimeout: startTimeout,
            },
            // Children do not inherit the component's dependsOn: pass it on.
            {
                parent: this,
                deleteBeforeReplace: true,
                additionalSecretOutputs: ["envs"],
                dependsOn: opts?.dependsOn,
                customTimeouts: { create: goDurationSeconds(plainStartTimeout + 300) },
            },
        );

        this.address = pulumi.interpolate`${alias}:${GITLAB_HTTP_PORT}`;
        this.eventsUrl = pulumi.interpolate`http://${alias}:${GITLAB_HTTP_PORT}/api/v4/container_registry_event/events`;
        this.volumeNames = volumes.map((v) => v.name);
        this.registerOutputs({ gitlabRb: this.gitlabRb, address: this.address, eventsUrl: this.eventsUrl });
    }
}
