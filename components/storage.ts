/**
 * Storage: where the registry keeps images, as settings for its driver. `filesystem` is the registry's
 * own data volume; `s3` is an AWS bucket with a least-privilege IAM user (S3Bucket), or a bucket and
 * credentials you bring (AWS or any S3-compatible endpoint); `minio` is a MinIO container (Minio).
 */
import * as pulumi from "@pulumi/pulumi";
import { ContainerLoggingArgs } from "./docker-common";
import { Minio } from "./minio";
import { S3Bucket } from "./s3-bucket";
import { S3StorageArgs } from "./registry";

export interface StorageArgs {
    /** Log driver and options of MinIO's containers (minio). Default: json-file rotated at 10m × 3. */
    logging?: ContainerLoggingArgs;
    /** `filesystem`, `s3` or `minio`. Default: filesystem. Plain: it decides which resources exist. */
    kind?: "filesystem" | "s3" | "minio";
    /** Docker network (minio). */
    networkName?: pulumi.Input<string>;
    /** Object key prefix (the registry's rootdirectory). Default: /registry. */
    rootDirectory?: pulumi.Input<string>;
    /** s3: create the bucket and IAM user (true) or use `bucket`, `accessKey`, `secretKey` (false). Default: true. */
    create?: boolean;
    /** s3/minio: bucket name. Default: `<component name>` (s3, created), registry (minio). */
    bucket?: pulumi.Input<string>;
    /** s3: region. Default: us-east-1. */
    region?: pulumi.Input<string>;
    /** s3: endpoint of an S3-compatible service. Default: AWS. */
    regionEndpoint?: pulumi.Input<string>;
    /** s3: path-style requests. Default: true with regionEndpoint. */
    forcePathStyle?: pulumi.Input<boolean>;
    /** s3: server-side encryption. Default: true. */
    encrypt?: pulumi.Input<boolean>;
    /** s3: TLS to the endpoint. Default: true. */
    secure?: pulumi.Input<boolean>;
    /** s3/minio: multipart chunk size. Default: 10485760. */
    chunkSize?: pulumi.Input<number>;
    /** s3: redirect blob downloads to presigned URLs of the bucket (clients must reach its endpoint); ignored for minio. Default: false. */
    redirect?: pulumi.Input<boolean>;
    /** s3 (created): keep object versions. Default: false. */
    versioning?: boolean;
    /** s3 (created): days before incomplete multipart uploads are aborted. Default: 7. */
    abortIncompleteUploadDays?: pulumi.Input<number>;
    /** s3 (existing): access key id. */
    accessKey?: pulumi.Input<string>;
    /** s3 (existing): secret access key, made secret here. */
    secretKey?: pulumi.Input<string>;
    /** Keep the bucket or MinIO volume on destroy. Default: true. */
    retainOnDelete?: boolean;
    /** minio: server and client images, root user and password, volume name. */
    minioImage?: pulumi.Input<string>;
    mcImage?: pulumi.Input<string>;
    rootUser?: pulumi.Input<string>;
    rootPassword?: pulumi.Input<string>;
    volumeName?: pulumi.Input<string>;
    /** minio: host port that publishes MinIO's S3 API on the Docker host (Minio's publishPort). Default: none. */
    minioPublishPort?: pulumi.Input<number>;
    /** minio: host address of that port. Default: 0.0.0.0. */
    minioPublishHostIp?: pulumi.Input<string>;
    /** minio: the endpoint the registry uses, when it runs off MinIO's network (Harbor), e.g. http://10.0.0.5:9000. Default: MinIO's address on its network. */
    minioEndpoint?: pulumi.Input<string>;
}

export class Storage extends pulumi.ComponentResource {
    /** The registry's s3 driver settings (with credentials), or undefined for filesystem. */
    public readonly s3: S3StorageArgs | undefined;

    constructor(name: string, args: StorageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:storage:Storage", name, {}, opts);
        const kind = args.kind ?? "filesystem";
        const rootDirectory = args.rootDirectory ?? "/registry";
        if (kind === "filesystem") {
            this.s3 = undefined;
        } else if (kind === "s3" && (args.create ?? true)) {
            const bucket = new S3Bucket(
                `${name}-s3`,
                {
                    bucket: args.bucket ?? name,
                    region: args.region,
                    rootDirectory,
                    versioning: args.versioning,
                    abortIncompleteUploadDays: args.abortIncompleteUploadDays,
                    retainOnDelete: args.retainOnDelete,
                },
                { parent: this },
            );
            this.s3 = {
                bucket: bucket.bucketName,
                region: args.region ?? bucket.region,
                encrypt: args.encrypt ?? true,
                secure: true,
                chunkSize: args.chunkSize,
                rootDirectory,
                redirect: args.redirect,
                accessKey: bucket.accessKeyId,
                secretKey: bucket.secretAccessKey,
            };
        } else if (kind === "s3") {
            if (args.bucket === undefined || args.accessKey === undefined || args.secretKey === undefined) {
                throw new Error(
                    `Storage "${name}": invalid arguments:\nargs.bucket, args.accessKey, args.secretKey: required for an existing bucket (create: false)`,
                );
            }
            this.s3 = {
                bucket: args.bucket,
                region: args.region,
                regionEndpoint: args.regionEndpoint,
                forcePathStyle: args.forcePathStyle,
                encrypt: args.encrypt,
                secure: args.secure,
                chunkSize: args.chunkSize,
                rootDirectory,
                redirect: args.redirect,
                accessKey: args.accessKey,
                secretKey: pulumi.secret(args.secretKey),
            };
        } else if (kind === "minio") {
            if (args.networkName === undefined) throw new Error(`Storage "${name}": invalid arguments:\nargs.networkName: required for minio`);
            const minio = new Minio(
                `${name}-minio`,
                {
                    networkName: args.networkName,
                    logging: args.logging,
                    image: args.minioImage,
                    mcImage: args.mcImage,
                    bucket: args.bucket,
                    rootDirectory,
                    rootUser: args.rootUser,
                    rootPassword: args.rootPassword,
                    volumeName: args.volumeName,
                    retainOnDelete: args.retainOnDelete,
                    publishPort: args.minioPublishPort,
                    publishHostIp: args.minioPublishHostIp,
                },
                { parent: this },
            );
            // Inside the network, plain HTTP to MinIO; TLS is the proxy's job at the edge. An endpoint off the
            // network (Harbor's registry) uses TLS when it is https:// (your own TLS in front of MinIO).
            const endpoint = args.minioEndpoint === undefined ? minio.endpoint : pulumi.output(args.minioEndpoint);
            this.s3 = {
                bucket: minio.bucket,
                region: "us-east-1",
                regionEndpoint: endpoint,
                forcePathStyle: true,
                encrypt: false,
                secure: endpoint.apply((e) => e.startsWith("https://")),
                chunkSize: args.chunkSize,
                rootDirectory,
                accessKey: minio.accessKey,
                secretKey: minio.secretKey,
            };
        } else {
            throw new Error(`Storage "${name}": invalid arguments:\nargs.kind: got ${JSON.stringify(kind)}; allowed: one of "filesystem", "s3", "minio"`);
        }
        this.registerOutputs({});
    }
}
