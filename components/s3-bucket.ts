/**
 * S3Bucket: an AWS S3 bucket for registry images and an IAM user that can use only that bucket's
 * registry prefix. Encrypted by default, public access blocked, bucket owner enforced, abandoned
 * multipart uploads aborted, optional versioning; the bucket is kept on delete unless told otherwise.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { registryS3Policy } from "../renderers/s3-policy";
import { bucketName } from "../primitives/names";
import { validateArgs } from "./validate";

export interface S3BucketArgs {
    /** Bucket name. Default: the component name. */
    bucket?: pulumi.Input<string>;
    /** Key prefix the registry writes under (its `rootdirectory`); the IAM policy is scoped to it. Default: /registry. */
    rootDirectory?: pulumi.Input<string>;
    /** Keep previous object versions. Default: false. Plain: it decides whether a versioning resource exists. */
    versioning?: boolean;
    /** Region of the bucket. Default: the AWS provider's. */
    region?: pulumi.Input<string>;
    /** Abort multipart uploads left incomplete for this many days. Default: 7. */
    abortIncompleteUploadDays?: pulumi.Input<number>;
    /** Keep the bucket (and the images) when the stack is destroyed. Default: true. Plain: a resource option. */
    retainOnDelete?: boolean;
    /** Tags on the bucket and the IAM user. Default: {}. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class S3Bucket extends pulumi.ComponentResource {
    public readonly bucketName: pulumi.Output<string>;
    public readonly region: pulumi.Output<string>;
    /** The IAM user's access key id. */
    public readonly accessKeyId: pulumi.Output<string>;
    /** The IAM user's secret access key (secret). */
    public readonly secretAccessKey: pulumi.Output<string>;
    /** The policy document attached to the user. */
    public readonly policy: pulumi.Output<string>;

    constructor(name: string, args: S3BucketArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:storage:S3Bucket", name, {}, opts);
        validateArgs("S3Bucket", name, args, { bucket: bucketName, versioning: z.boolean(), abortIncompleteUploadDays: z.number().int().min(1).max(365) });
        const child = { parent: this };
        const tags = pulumi.output(args.tags ?? {}).apply((t) => ({ ...t, "registry-kit": name }));
        const bucket = new aws.s3.Bucket(
            `${name}-bucket`,
            { bucket: args.bucket ?? name, region: args.region, forceDestroy: false, tags },
            { ...child, retainOnDelete: args.retainOnDelete ?? true },
        );
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-encryption`,
            { bucket: bucket.id, region: args.region, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
            child,
        );
        new aws.s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            { bucket: bucket.id, region: args.region, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            child,
        );
        new aws.s3.BucketOwnershipControls(
            `${name}-ownership`,
            { bucket: bucket.id, region: args.region, rule: { objectOwnership: "BucketOwnerEnforced" } },
            child,
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                region: args.region,
                rules: [
                    {
                        id: "abort-incomplete-multipart-uploads",
                        status: "Enabled",
                        filter: {},
                        abortIncompleteMultipartUpload: { daysAfterInitiation: args.abortIncompleteUploadDays ?? 7 },
                    },
                ],
            },
            child,
        );
        if (args.versioning) {
            new aws.s3.BucketVersioning(
                `${name}-versioning`,
                { bucket: bucket.id, region: args.region, versioningConfiguration: { status: "Enabled" } },
                child,
            );
        }

        const user = new aws.iam.User(`${name}-registry`, { path: "/registry-kit/", tags }, child);
        this.policy = pulumi.all([bucket.bucket, args.rootDirectory ?? "/registry"]).apply(([b, root]) => JSON.stringify(registryS3Policy(b, root), null, 2));
        new aws.iam.UserPolicy(`${name}-registry-policy`, { user: user.name, policy: this.policy }, child);
        const key = new aws.iam.AccessKey(`${name}-registry-key`, { user: user.name }, { ...child, additionalSecretOutputs: ["secret"] });

        this.bucketName = bucket.bucket;
        this.region = bucket.region;
        this.accessKeyId = key.id;
        this.secretAccessKey = pulumi.secret(key.secret);
        this.registerOutputs({
            bucketName: this.bucketName,
            region: this.region,
            accessKeyId: this.accessKeyId,
            secretAccessKey: this.secretAccessKey,
            policy: this.policy,
        });
    }
}
