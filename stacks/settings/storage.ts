/**
 * The storage settings under `registry:`: `storage` (filesystem, s3, minio), `redis` and `uploadPurging`.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { goDuration } from "../../primitives/durations";
import { image } from "../../primitives/images";
import { bucketName, dockerName } from "../../primitives/names";
import { hostPortProblem, ipAddress, isHttpUrl, port } from "../../primitives/network";

export const storageTypes = ["filesystem", "s3", "minio"] as const;

const s3Schema = z
    .strictObject({
        /** Create the bucket and a least-privilege IAM user with @pulumi/aws; false brings your own. Default: true. */
        create: z.boolean().default(true),
        /** Bucket name. Default: `<prefix>-registry` when created; required when not. */
        bucket: bucketName.optional(),
        /** AWS region (or the region an S3-compatible endpoint expects). Default: us-east-1. */
        region: z
            .string()
            .regex(/^[a-z0-9-]+$/, { message: "a region name such as eu-west-1" })
            .default("us-east-1"),
        /** Endpoint of an S3-compatible service, e.g. https://s3.example.com:9000. Default: AWS. */
        regionEndpoint: z.string().refine(isHttpUrl, { message: "an http:// or https:// URL such as https://minio.example.com:9000" }).optional(),
        /** Path-style requests. Default: true with regionEndpoint, false on AWS. */
        forcePathStyle: z.boolean().optional(),
        /** Server-side encryption of stored objects. Default: true. */
        encrypt: z.boolean().default(true),
        /** Use TLS to the endpoint. Default: true. */
        secure: z.boolean().default(true),
        /** Multipart chunk size in bytes, at least 5 MiB. Default: 10485760 (10 MiB). */
        chunkSize: z
            .number()
            .int()
            .min(5 * 1024 * 1024, { message: "at least 5242880 (5 MiB, S3's minimum part size)" })
            .default(10 * 1024 * 1024),
        /** Prefix of every object the registry writes. Default: /registry. */
        rootDirectory: z
            .string()
            .regex(/^\/([A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*)?$/, { message: "an absolute path such as /registry" })
            .refine((v) => !v.split("/").some((segment) => segment === "." || segment === ".."), {
                message:
                    "an absolute path without '.' or '..' segments, such as /registry (the registry cleans the path, and the IAM policy's prefix would differ from it)",
            })
            .default("/registry"),
        /**
         * Answer blob downloads with a 307 redirect to a URL of the bucket presigned for that one blob
         * (Distribution's `storage.redirect.disable: false`; 20 minutes), so blob bytes go from S3 to the client
         * past the registry and the proxy. Clients must reach the S3 endpoint (regionEndpoint, or AWS); the
         * proxy's allowlist and access log then no longer see blob bytes, and a URL is a short-lived bearer
         * link. Type s3 only, not with topology harbor. Default: false (blobs go through the proxy).
         */
        redirect: z.boolean().default(false),
        /** Keep previous object versions (created bucket). Default: false. */
        versioning: z.boolean().default(false),
        /** Days after which incomplete multipart uploads are aborted (created bucket). Default: 7. */
        abortIncompleteUploadDays: z.number().int().min(1).max(365).default(7),
        /** Access key id (existing bucket). */
        accessKey: z.string().min(1).optional(),
        /** Secret access key (existing bucket), a secret. */
        secretKey: z.string().min(1, { message: "a non-empty secret key" }).optional(),
    })
    .prefault({});

const minioSchema = z
    .strictObject({
        /** MinIO server image. Default: minio/minio:RELEASE.2025-04-22T22-12-26Z. */
        image: image.default("minio/minio:RELEASE.2025-04-22T22-12-26Z"),
        /** MinIO client image, to create the bucket and the registry's user. Default: minio/mc:RELEASE.2025-04-16T18-13-26Z. */
        mcImage: image.default("minio/mc:RELEASE.2025-04-16T18-13-26Z"),
        /** Bucket for the registry. Default: registry. */
        bucket: bucketName.default("registry"),
        /** Root user name. Default: registry-kit-root. */
        rootUser: z.string().min(3, { message: "at least 3 characters (MinIO's minimum)" }).default("registry-kit-root"),
        /** Root password, a secret, at least 8 characters. Default: generated (40 characters, kept in state). */
        rootPassword: z.string().min(8, { message: "at least 8 characters (MinIO refuses shorter root passwords)" }).optional(),
        /** Volume holding MinIO's data. Default: `<prefix>-minio-data`. */
        volumeName: dockerName.optional(),
        /** Keep that volume on destroy. Default: true. */
        retainOnDelete: z.boolean().default(true),
        /**
         * S3 endpoint at which Harbor's registry container reaches this MinIO, e.g. http://10.0.0.5:9000 (an address of the
         * Docker host that runs MinIO, where its port is published). Topology harbor only, and required there. Default: none.
         */
        endpoint: z.string().refine(isHttpUrl, { message: "an http:// or https:// URL such as http://10.0.0.5:9000" }).optional(),
        /** Host port MinIO's S3 API (container port 9000) is published on. Default: none (on the stack's network only); with topology harbor, the endpoint's port. */
        hostPort: port.optional(),
        /** Host address that port is published on. Default: 0.0.0.0. */
        hostIp: ipAddress.default("0.0.0.0"),
    })
    .prefault({});

const REDIS_ADDRESS_RULES = {
    form: "",
    host: " or [2001:db8::5]:6379: a DNS name, an IPv4 address or an IPv6 address in brackets",
    port: ", with a port from 1 to 65535",
};

export const redisSchema = z
    .strictObject({
        /** `host:port` (`[IPv6]:port`) of your Redis; unset runs a Redis container when replicas > 1. Default: none. */
        address: z
            .string()
            .superRefine((v, ctx) => {
                const problem = hostPortProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: `host:port such as redis.internal:6379${REDIS_ADDRESS_RULES[problem]}` });
            })
            .optional(),
        /** Password of that Redis, a secret. Default: none (generated for the Redis container). */
        password: z.string().min(1).optional(),
        /** Redis image for the container. Default: redis:7.4. */
        image: image.default("redis:7.4"),
    })
    .prefault({});

export const storageSchema = z
    .strictObject({
        /** Storage driver: filesystem (a Docker volume), s3 (AWS or S3-compatible) or minio (a MinIO container). Default: filesystem. */
        type: z.enum(storageTypes).default("filesystem"),
        s3: s3Schema,
        minio: minioSchema,
        filesystem: z
            .strictObject({
                /** Name of the Docker volume that holds the images. Default: `<prefix>-registry-data`. */
                volumeName: dockerName.optional(),
                /** Keep the volume (and the images) on `pulumi destroy`. Default: true. */
                retainOnDelete: z.boolean().default(true),
            })
            .prefault({}),
    })
    .prefault({});

/** Purging of abandoned uploads (the registry's, and Harbor's upload_purging). */
export const uploadPurgingSchema = z
    .strictObject({
        enabled: z.boolean().default(true),
        /** Purge uploads older than this. Default: 168h. */
        age: goDuration.default("168h"),
        /** How often to look. Default: 24h. */
        interval: goDuration.default("24h"),
        dryrun: z.boolean().default(false),
    })
    .prefault({});

/** The port of an http(s):// URL, or its scheme's default: where MinIO is published for Harbor. */
export function minioEndpointPort(endpoint: string): number {
    const url = new URL(endpoint);
    return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}
