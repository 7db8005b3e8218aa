/**
 * Alertmanager: receives the alerts Prometheus fires and sends them to the user's receivers (webhooks,
 * mail). Its config holds the receivers' URLs, tokens and passwords, so it is a secret end to end: the
 * rendered text, the upload and the `config` output.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { prometheusDuration } from "../primitives/durations";
import { containerLogging } from "../primitives/logging";
import { image } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { ipAddress, port as portNumber } from "../primitives/network";
import {
    ALERTMANAGER_CONFIG_PATH,
    ALERTMANAGER_DATA_DIR,
    ALERTMANAGER_PORT,
    AlertReceiverInput,
    renderAlertmanagerConfig,
} from "../renderers/alertmanager-config";
import { ContainerLoggingArgs, serviceContainerArgs } from "./docker-common";
import { validateArgs } from "./validate";

/** The network alias Prometheus sends alerts to. */
export const ALERTMANAGER_ALIAS = "alertmanager";

export interface AlertmanagerArgs {
    /** Docker network shared with Prometheus. Required. */
    networkName: pulumi.Input<string>;
    /** Where alerts go (webhooks, mail); each gets every alert, or those of its severities. Required, at least one. Kept secret. */
    receivers: pulumi.Input<AlertReceiverInput[]>;
    /** Labels that group alerts into one notification. Default: ["alertname", "job"]. */
    groupBy?: pulumi.Input<string[]>;
    /** Wait before a new group's first notification (Prometheus duration). Default: 30s. */
    groupWait?: pulumi.Input<string>;
    /** Wait before notifying of new alerts in a notified group (Prometheus duration). Default: 5m. */
    groupInterval?: pulumi.Input<string>;
    /** Wait before sending a still-firing alert again (Prometheus duration). Default: 4h. */
    repeatInterval?: pulumi.Input<string>;
    /** Alertmanager image. Default: prom/alertmanager:v0.27.0. */
    image?: pulumi.Input<string>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** Host address its UI and API are published on. Default: 127.0.0.1. */
    hostIp?: pulumi.Input<string>;
    /** Host port of its UI and API. Default: 9093. */
    port?: pulumi.Input<number>;
    /** Log driver and options. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
}

export class Alertmanager extends pulumi.ComponentResource {
    /** The Alertmanager container. */
    public readonly container: docker.Container;
    /** The rendered alertmanager.yml (secret). */
    public readonly config: pulumi.Output<string>;
    /** `alertmanager:9093`, for Prometheus's `alerting.alertmanagers` on the same network. */
    public readonly address: string;
    /** `http://<hostIp>:<port>`. */
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: AlertmanagerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:monitoring:Alertmanager", name, {}, opts);
        validateArgs("Alertmanager", name, args, {
            logging: containerLogging,
            image,
            containerName: dockerName,
            hostIp: ipAddress,
            port: portNumber,
            groupWait: prometheusDuration,
            groupInterval: prometheusDuration,
            repeatInterval: prometheusDuration,
        });
        const port = pulumi.output(args.port ?? ALERTMANAGER_PORT);
        const hostIp = pulumi.output(args.hostIp ?? "127.0.0.1");
        this.config = pulumi.secret(
            pulumi
                .all([args.receivers, args.groupBy ?? ["alertname", "job"], args.groupWait ?? "30s", args.groupInterval ?? "5m", args.repeatInterval ?? "4h"])
                .apply(([receivers, groupBy, groupWait, groupInterval, repeatInterval]) => {
                    if (receivers.length === 0)
                        throw new Error(`Alertmanager "${name}": invalid arguments:\nargs.receivers: got an empty list; allowed: at least one receiver`);
                    return renderAlertmanagerConfig({ receivers, groupBy, groupWait, groupInterval, repeatInterval });
                }),
        );
        const data = new docker.Volume(`${name}-data`, { name: `${name}-data` }, { parent: this });
        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "prom/alertmanager:v0.27.0", keepLocally: true }, { parent: this });
        this.container = new docker.Container(
            name,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                command: [`--config.file=${ALERTMANAGER_CONFIG_PATH}`, `--storage.path=${ALERTMANAGER_DATA_DIR}`],
                // The upload is root's; the image's user (nobody) reads it.
                uploads: this.config.apply((content) => [{ file: ALERTMANAGER_CONFIG_PATH, content, permissions: "0644" }]),
                volumes: [{ volumeName: data.name, containerPath: ALERTMANAGER_DATA_DIR }],
                ports: [{ internal: ALERTMANAGER_PORT, external: port, ip: hostIp }],
                networksAdvanced: [{ name: args.networkName, aliases: [ALERTMANAGER_ALIAS] }],
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "alertmanager",
                    configText: this.config,
                    healthTest: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${ALERTMANAGER_PORT}/-/healthy`],
                    // Alertmanager writes its notification log and silences on SIGTERM.
                    stopGraceSeconds: 15,
                }),
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.address = `${ALERTMANAGER_ALIAS}:${ALERTMANAGER_PORT}`;
        this.url = pulumi.interpolate`http://${hostIp}:${port}`;
        this.registerOutputs({ config: this.config, address: this.address, url: this.url });
    }
}
