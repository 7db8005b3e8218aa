/**
 * The least-privilege IAM policy for the registry's S3 driver: exactly the actions Distribution uses,
 * on one bucket and one key prefix. Pure: no Pulumi, no I/O.
 */

/** Actions on the bucket itself. */
export const BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"] as const;
/** Actions on the registry's objects (multipart uploads included). */
export const OBJECT_ACTIONS = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"] as const;

/** `/registry` → `registry/`; `/` → `` (the whole bucket). */
export function keyPrefix(rootDirectory: string): string {
    const trimmed = rootDirectory.replace(/^\/+|\/+$/g, "");
    return trimmed === "" ? "" : `${trimmed}/`;
}

export function registryS3Policy(bucket: string, rootDirectory: string, partition = "aws"): Record<string, unknown> {
    const bucketArn = `arn:${partition}:s3:::${bucket}`;
    const prefix = keyPrefix(rootDirectory);
    const list: Record<string, unknown> = { Sid: "ListRegistryKeys", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn };
    if (prefix) list.Condition = { StringLike: { "s3:prefix": [`${prefix}*`] } };
    return {
        Version: "2012-10-17",
        Statement: [
            list,
            { Sid: "ReadBucketInfo", Effect: "Allow", Action: [...BUCKET_ACTIONS], Resource: bucketArn },
            { Sid: "ReadWriteRegistryObjects", Effect: "Allow", Action: [...OBJECT_ACTIONS], Resource: `${bucketArn}/${prefix}*` },
        ],
    };
}
