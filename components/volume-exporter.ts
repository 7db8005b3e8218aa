/**
 * VolumeExporter: Prometheus's node exporter with only its filesystem collector, watching the Docker
 * volumes it mounts read-only under /volumes/<name>. In its own mount namespace the collector reports the
 * filesystem behind each mounted volume (size, available bytes), so it needs neither the host's root
 * filesystem nor the Docker socket. Distribution exposes no capacity metric: this is where the
 * "volume nearly full" alerts get their numbers.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { containerLogging } from "../primitives/logging";
import { image } from "../primitives/images";
import { dockerName } from "../primitives/names";
import { VOLUME_MOUNT_ROOT } from "../renderers/registry-alerts";
import { ContainerLoggingArgs, serviceContainerArgs } from "./docker-common";
import { validateArgs } from "./validate";

/** The node exporter's port on the Docker network (not published). */
export const NODE_EXPORTER_PORT = 9100;
/** The network alias Prometheus scrapes. */
export const VOLUME_EXPORTER_ALIAS = "volume-exporter";

/** One volume to watch. */
export interface WatchedVolumeArgs {
    /** Docker volume name. Required. */
    volumeName: pulumi.Input<string>;
    /** Its mount point is /volumes/<name>, the `mountpoint` label of its series, e.g. `registry`. Required. */
    name: string;
}

export interface VolumeExporterArgs {
    /** Docker network shared with Prometheus. Required. */
    networkName: pulumi.Input<string>;
    /** The volumes to watch, each mounted read-only. Required, at least one. */
    volumes: WatchedVolumeArgs[];
    /** Node exporter image. Default: prom/node-exporter:v1.8.2. */
    image?: pulumi.Input<string>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** Log driver and options. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
}

/** The collector's flags: the filesystem collector alone, and only the mounts of the watched volumes. */
export function volumeExporterCommand(): string[] {
    return [
        "--collector.disable-defaults",
        "--collector.filesystem",
        // The container's own mounts besides the volumes (its root is overlay, excluded by fs type): /etc/hosts and
        // the like, /dev, /proc, /sys. The exclude flag exists in every node exporter; an include flag only in recent ones.
        "--collector.filesystem.mount-points-exclude=^/(dev|etc|proc|run|sys)($|/)",
        `--web.listen-address=:${NODE_EXPORTER_PORT}`,
    ];
}

export class VolumeExporter extends pulumi.ComponentResource {
    /** The exporter container. */
    public readonly container: docker.Container;
    /** `volume-exporter:9100`: what Prometheus scrapes on the same network (see volumeScrapeJob). */
    public readonly scrapeTarget: string;

    constructor(name: string, args: VolumeExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:monitoring:VolumeExporter", name, {}, opts);
        validateArgs("VolumeExporter", name, args, {
            logging: containerLogging,
            image,
            containerName: dockerName,
            volumes: z
                .array(z.object({ name: z.string().regex(/^[a-z][a-z0-9-]*$/, { message: "a mount name such as registry or backup" }) }))
                .min(1, { message: "at least one volume" })
                .refine((l) => new Set(l.map((v) => v.name)).size === l.length, { message: "each mount name once" }),
        });
        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: args.image ?? "prom/node-exporter:v1.8.2", keepLocally: true }, { parent: this });
        const command = volumeExporterCommand();
        const mounts = args.volumes.map((v) => `${VOLUME_MOUNT_ROOT}/${v.name}`);
        this.container = new docker.Container(
            name,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                command,
                volumes: args.volumes.map((v) => ({ volumeName: v.volumeName, containerPath: `${VOLUME_MOUNT_ROOT}/${v.name}`, readOnly: true })),
                networksAdvanced: [{ name: args.networkName, aliases: [VOLUME_EXPORTER_ALIAS] }],
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "volume-exporter",
                    configText: JSON.stringify({ command, mounts }),
                    healthTest: ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${NODE_EXPORTER_PORT}/metrics`],
                    stopGraceSeconds: 10,
                }),
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.scrapeTarget = `${VOLUME_EXPORTER_ALIAS}:${NODE_EXPORTER_PORT}`;
        this.registerOutputs({ scrapeTarget: this.scrapeTarget });
    }
}
