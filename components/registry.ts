/**
 * Registry: the Distribution container, its config built from typed args, its data volume and its
 * `http.secret`.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { dialects, dockerName, duration, image as imageRef, inferDialect, logLevels } from "../stacks/schema";
import { validateArgs } from "./validate";
import {
    DIALECTS,
    HTPASSWD_PATH,
    REGISTRY_DATA_DIR,
    REGISTRY_DEBUG_PORT,
    REGISTRY_PORT,
    RegistryDialect,
    renderRegistryConfig,
} from "../renderers/registry-config";
import { labels, serviceContainerArgs } from "./docker-common";

export interface UploadPurgingArgs {
    /** Default: true. */
    enabled?: boolean;
    /** Default: 168h. */
    age?: string;
    /** Default: 24h. */
    interval?: string;
    /** Default: false. */
    dryrun?: boolean;
}

export interface RegistryArgs {
    /** Docker network the registry joins. Required. */
    networkName: pulumi.Input<string>;
    /** Distribution image. Default: registry:3. */
    image?: pulumi.Input<string>;
    /** Config dialect, `v2` or `v3`. Default: from the image tag (`:2…` → v2, else v3). */
    dialect?: pulumi.Input<RegistryDialect>;
    /** Container name. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** DNS alias on the network; the proxy and Prometheus use it. Default: registry. */
    alias?: pulumi.Input<string>;
    /** Name of the Docker volume holding the images. Default: `<component name>-data`. */
    volumeName?: pulumi.Input<string>;
    /**
     * Keep the data volume when the stack is destroyed or the volume is replaced. Default: true.
     * Plain value: it is a resource option.
     */
    retainDataOnDelete?: boolean;
    /** htpasswd file content (secret). Default: none, which leaves the registry without auth. */
    htpasswd?: pulumi.Input<string>;
    /** Allow deleting manifests and blobs through the API. Default: true. */
    deleteEnabled?: pulumi.Input<boolean>;
    /** Purging of abandoned uploads. Default: enabled, age 168h, every 24h. */
    uploadPurging?: pulumi.Input<UploadPurgingArgs>;
    /** Log level: error, warn, info or debug. Default: info. */
    logLevel?: pulumi.Input<string>;
    /** Raw registry config deep-merged over the generated config. Default: {}. */
    extraConfig?: pulumi.Input<Record<string, unknown>>;
}

export class Registry extends pulumi.ComponentResource {
    /** The container. */
    public readonly container: docker.Container;
    /** The data volume's name. */
    public readonly volumeName: pulumi.Output<string>;
    /** `alias:5000`, the registry API on the Docker network. */
    public readonly address: pulumi.Output<string>;
    /** `alias:5001`, the debug server with `/metrics` and `/debug/health`. */
    public readonly metricsAddress: pulumi.Output<string>;
    /** The rendered config.yml (contains no secret). */
    public readonly configYaml: pulumi.Output<string>;

    constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:registry:Registry", name, {}, opts);
        validateArgs("Registry", name, args, {
            image: imageRef,
            dialect: z.enum(dialects),
            containerName: dockerName,
            volumeName: dockerName,
            logLevel: z.enum(logLevels),
            deleteEnabled: z.boolean(),
            uploadPurging: z.strictObject({ enabled: z.boolean().optional(), age: duration.optional(), interval: duration.optional(), dryrun: z.boolean().optional() }),
            extraConfig: z.record(z.string(), z.unknown()),
        });
        const image = pulumi.output(args.image ?? "registry:3");
        const alias = pulumi.output(args.alias ?? "registry");
        const dialect = pulumi.all([args.dialect, image]).apply(([d, img]) => {
            const resolved = d ?? inferDialect(img);
            if (!(resolved in DIALECTS)) throw new Error(`Registry ${name}: dialect ${JSON.stringify(resolved)} is not one of "v2", "v3"`);
            return resolved;
        });
        const configPath = dialect.apply((d) => DIALECTS[d].configPath);

        const volume = new docker.Volume(
            `${name}-data`,
            {
                name: args.volumeName ?? `${name}-data`,
                labels: labels({ "registry-kit.role": "registry-data" }),
            },
            { parent: this, retainOnDelete: args.retainDataOnDelete ?? true },
        );
        // One secret per deployment, kept in state: replicas and restarts sign upload state alike.
        const httpSecret = new random.RandomPassword(`${name}-http-secret`, { length: 48, special: false }, { parent: this });

        this.configYaml = pulumi
            .all([dialect, args.deleteEnabled ?? true, args.uploadPurging ?? {}, args.logLevel ?? "info", args.extraConfig ?? {}])
            .apply(([d, deleteEnabled, purging, logLevel, extraConfig]) =>
                renderRegistryConfig({
                    dialect: d,
                    rootDirectory: REGISTRY_DATA_DIR,
                    deleteEnabled,
                    uploadPurging: {
                        enabled: purging.enabled ?? true,
                        age: purging.age ?? "168h",
                        interval: purging.interval ?? "24h",
                        dryrun: purging.dryrun ?? false,
                    },
                    logLevel,
                    htpasswdPath: args.htpasswd !== undefined ? HTPASSWD_PATH : undefined,
                    extraConfig,
                }),
            );

        const remoteImage = new docker.RemoteImage(`${name}-image`, { name: image, keepLocally: true }, { parent: this });
        const uploads: pulumi.Input<docker.types.input.ContainerUpload>[] = [{ file: configPath, content: this.configYaml }];
        if (args.htpasswd !== undefined) {
            uploads.push({ file: HTPASSWD_PATH, content: pulumi.secret(args.htpasswd), permissions: "0644" });
        }

        this.container = new docker.Container(
            name,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                command: [configPath],
                envs: [pulumi.secret(pulumi.interpolate`REGISTRY_HTTP_SECRET=${httpSecret.result}`)],
                uploads,
                volumes: [{ volumeName: volume.name, containerPath: REGISTRY_DATA_DIR }],
                networksAdvanced: [{ name: args.networkName, aliases: [alias] }],
                ...serviceContainerArgs("registry", this.configYaml, ["wget", "-q", "-O", "/dev/null", `http://127.0.0.1:${REGISTRY_DEBUG_PORT}/debug/health`]),
                // The registry drains in-flight requests for up to 60s (http.draintimeout).
                destroyGraceSeconds: 65,
            },
            // A fixed name cannot exist twice: stop the old container before starting its replacement.
            { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
        );

        this.volumeName = volume.name;
        this.address = pulumi.interpolate`${alias}:${REGISTRY_PORT}`;
        this.metricsAddress = pulumi.interpolate`${alias}:${REGISTRY_DEBUG_PORT}`;
        this.registerOutputs({
            volumeName: this.volumeName,
            address: this.address,
            metricsAddress: this.metricsAddress,
            configYaml: this.configYaml,
        });
    }
}
