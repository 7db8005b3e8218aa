/**
 * Minio: a MinIO server container with a data volume kept on delete, generated root credentials, the
 * registry's bucket, and a registry user limited to that bucket's registry prefix.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { containerLogging } from "../primitives/logging";
import * as random from "@pulumi/random";
import { z } from "zod";
import { registryS3Policy } from "../renderers/s3-policy";
import { image as imageRef } from "../primitives/images";
import { bucketName, dockerName } from "../primitives/names";
import { labels, serviceContainerArgs, ContainerLoggingArgs } from "./docker-common";
import { validateArgs } from "./validate";

export const MINIO_PORT = 9000;

export interface MinioArgs {
    /** Log driver and options of its containers. Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** Docker network shared with the registry. Required. */
    networkName: pulumi.Input<string>;
    /** MinIO image. Default: minio/minio:RELEASE.2025-04-22T22-12-26Z. */
    image?: pulumi.Input<string>;
    /** MinIO client image that creates the bucket and user. Default: minio/mc:RELEASE.2025-04-16T18-13-26Z. */
    mcImage?: pulumi.Input<string>;
    /** Bucket for the registry. Default: registry. */
    bucket?: pulumi.Input<string>;
    /** Key prefix the registry user may use (the registry's rootdirectory). Default: /registry. */
    rootDirectory?: pulumi.Input<string>;
    /** Root user. Default: registry-kit-root. */
    rootUser?: pulumi.Input<string>;
    /** Root password (at least 8 characters), made secret here. Default: 40 random characters kept in state. */
    rootPassword?: pulumi.Input<string>;
    /** Container name; also its DNS alias on the network. Default: the component name. */
    containerName?: pulumi.Input<string>;
    /** Data volume name. Default: `<component name>-data`. */
    volumeName?: pulumi.Input<string>;
    /** Keep the data volume on destroy. Default: true. Plain: a resource option. */
    retainOnDelete?: boolean;
    /** Host port that publishes MinIO's S3 API (container port 9000) on the Docker host, for clients off the network. Default: none (on its network only). */
    publishPort?: pulumi.Input<number>;
    /** Host address of that port. Default: 0.0.0.0. */
    publishHostIp?: pulumi.Input<string>;
}

/** The error of a failed bucket and user setup: its exit code, the end of its output, and how to run it again. */
export function setupFailure(name: string, code: number, logs: string | undefined, urn: string): string {
    const tail = (logs ?? "").trimEnd().split("\n").slice(-15).join("\n");
    return [
        `Minio ${name}: the bucket and user setup exited with code ${code}; the registry is not started without its bucket.`,
        tail ? `Its last output:\n${tail}` : "It printed nothing.",
        `Fix the cause, then run it again: pulumi up --replace '${urn}'`,
    ].join("\n");
}

export class Minio extends pulumi.ComponentResource {
    /** `http://<container name>:9000`, the S3 endpoint on the network. */
    public readonly endpoint: pulumi.Output<string>;
    public readonly bucket: pulumi.Output<string>;
    /** The registry user's access key. */
    public readonly accessKey: pulumi.Output<string>;
    /** The registry user's secret key (secret). */
    public readonly secretKey: pulumi.Output<string>;
    /** The root password (secret). */
    public readonly rootPassword: pulumi.Output<string>;

    constructor(name: string, args: MinioArgs, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:storage:Minio", name, {}, opts);
        validateArgs("Minio", name, args, {
            logging: containerLogging,
            image: imageRef,
            mcImage: imageRef,
            bucket: bucketName,
            rootUser: z.string().min(3, { message: "at least 3 characters (MinIO's minimum)" }),
            rootPassword: z.string().min(8, { message: "at least 8 characters (MinIO refuses shorter root passwords)" }),
            containerName: dockerName,
            volumeName: dockerName,
        });
        const child = { parent: this };
        const containerName = pulumi.output(args.containerName ?? name);
        const bucket = pulumi.output(args.bucket ?? "registry");
        const rootUser = pulumi.output(args.rootUser ?? "registry-kit-root");
        this.rootPassword = pulumi.secret(
            args.rootPassword ?? new random.RandomPassword(`${name}-root-password`, { length: 40, special: false }, child).result,
        );
        const accessKey = new random.RandomPassword(`${name}-registry-access-key`, { length: 20, special: false, lower: false }, child);
        const secretKey = new random.RandomPassword(`${name}-registry-secret-key`, { length: 40, special: false }, child);

        const data = new docker.Volume(
            `${name}-data`,
            { name: args.volumeName ?? `${name}-data`, labels: labels({ "registry-kit.role": "minio-data" }) },
            { ...child, retainOnDelete: args.retainOnDelete ?? true },
        );
        const serverImage = new docker.RemoteImage(
            `${name}-image`,
            { name: args.image ?? "minio/minio:RELEASE.2025-04-22T22-12-26Z", keepLocally: true },
            child,
        );
        const server = new docker.Container(
            name,
            {
                name: containerName,
                image: serverImage.imageId,
                command: ["server", "/data", "--console-address", ":9001"],
                envs: [pulumi.interpolate`MINIO_ROOT_USER=${rootUser}`, pulumi.secret(pulumi.interpolate`MINIO_ROOT_PASSWORD=${this.rootPassword}`)],
                volumes: [{ volumeName: data.name, containerPath: "/data" }],
                ports: args.publishPort === undefined ? undefined : [{ internal: MINIO_PORT, external: args.publishPort, ip: args.publishHostIp ?? "0.0.0.0" }],
                networksAdvanced: [{ name: args.networkName, aliases: containerName.apply((n) => [n, "minio"]) }],
                ...serviceContainerArgs({
                    logging: args.logging,
                    role: "minio",
                    configText: "minio",
                    healthTest: ["curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${MINIO_PORT}/minio/health/live`],
                    // MinIO finishes the S3 requests in flight (the registry's uploads) on SIGTERM.
                    stopGraceSeconds: 30,
                }),
                // `pulumi up` goes on (to the bucket setup) once MinIO is healthy.
                wait: true,
                waitTimeout: 120,
            },
            { ...child, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
        );

        this.endpoint = pulumi.interpolate`http://${containerName}:${MINIO_PORT}`;
        const policy = pulumi.all([bucket, args.rootDirectory ?? "/registry"]).apply(([b, root]) => JSON.stringify(registryS3Policy(b, root)));
        // One-shot: creates the bucket, the policy and the registry's user; all steps are idempotent.
        const setupScript = [
            "set -eu",
            'mc alias set rk "$RK_ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null',
            'mc mb --ignore-existing "rk/$RK_BUCKET"',
            'printf "%s" "$RK_POLICY" > /tmp/registry-policy.json',
            "mc admin policy create rk registry-kit-registry /tmp/registry-policy.json",
            'mc admin user add rk "$RK_ACCESS_KEY" "$RK_SECRET_KEY"',
            'mc admin policy attach rk registry-kit-registry --user "$RK_ACCESS_KEY" 2>&1 | grep -v "already" || true',
        ].join("\n");
        const mcImage = new docker.RemoteImage(`${name}-mc-image`, { name: args.mcImage ?? "minio/mc:RELEASE.2025-04-16T18-13-26Z", keepLocally: true }, child);
        const setup = new docker.Container(
            `${name}-setup`,
            {
                name: pulumi.interpolate`${containerName}-setup`,
                image: mcImage.imageId,
                entrypoints: ["/bin/sh", "-c"],
                command: [setupScript],
                envs: [
                    pulumi.interpolate`RK_ENDPOINT=${this.endpoint}`,
                    pulumi.interpolate`RK_BUCKET=${bucket}`,
                    pulumi.interpolate`RK_POLICY=${policy}`,
                    pulumi.interpolate`MINIO_ROOT_USER=${rootUser}`,
                    pulumi.secret(pulumi.interpolate`MINIO_ROOT_PASSWORD=${this.rootPassword}`),
                    pulumi.interpolate`RK_ACCESS_KEY=${accessKey.result}`,
                    pulumi.secret(pulumi.interpolate`RK_SECRET_KEY=${secretKey.result}`),
                ],
                networksAdvanced: [{ name: args.networkName }],
                mustRun: false,
                attach: true,
                logs: true,
                restart: "no",
                logDriver: "json-file",
            },
            { ...child, dependsOn: [server], deleteBeforeReplace: true, additionalSecretOutputs: ["envs", "containerLogs"] },
        );

        // The provider waits for an attached container but ignores its exit code: check it here. The
        // registry's keys resolve only after a successful setup, so a failed one stops `pulumi up` before
        // the registry starts against a missing bucket or user.
        const setupSucceeded = pulumi.all([setup.exitCode, setup.containerLogs, setup.urn]).apply(([code, logs, urn]) => {
            if (code !== undefined && code !== 0) throw new Error(setupFailure(name, code, logs, urn));
            return true;
        });
        this.bucket = bucket;
        this.accessKey = pulumi.all([accessKey.result, setupSucceeded]).apply(([key]) => key);
        this.secretKey = pulumi.secret(pulumi.all([secretKey.result, setupSucceeded]).apply(([key]) => key));
        this.registerOutputs({
            endpoint: this.endpoint,
            bucket: this.bucket,
            accessKey: this.accessKey,
            secretKey: this.secretKey,
            rootPassword: this.rootPassword,
        });
    }
}
