/**
 * Pieces every topology builds the same way from the settings.
 */
import * as pulumi from "@pulumi/pulumi";
import { Certificates } from "../components/certificates";
import { StorageArgs } from "../components/storage";
import { Settings } from "./schema";

/** The TLS certificate for `hostname` and `tls.extraSans` as `tls.mode` says. */
export function certificatesFromSettings(settings: Settings, prefix: string, opts: pulumi.ComponentResourceOptions): Certificates {
    return new Certificates(
        `${prefix}-tls`,
        {
            mode: settings.tls.mode,
            hostname: settings.hostname,
            extraSans: settings.tls.extraSans,
            validityDays: settings.tls.validityDays,
            certificatePem: settings.tls.certificate,
            privateKeyPem: settings.tls.privateKey === undefined ? undefined : pulumi.secret(settings.tls.privateKey),
        },
        opts,
    );
}

/** Storage arguments from `registry.storage.s3` (the bucket is the caller's choice). */
export function s3StorageArgs(settings: Settings): Omit<StorageArgs, "kind" | "bucket"> {
    const s3 = settings.registry.storage.s3;
    return {
        rootDirectory: s3.rootDirectory,
        create: s3.create,
        region: s3.region,
        regionEndpoint: s3.regionEndpoint,
        forcePathStyle: s3.forcePathStyle,
        encrypt: s3.encrypt,
        secure: s3.secure,
        chunkSize: s3.chunkSize,
        versioning: s3.versioning,
        abortIncompleteUploadDays: s3.abortIncompleteUploadDays,
        accessKey: s3.accessKey,
        secretKey: s3.secretKey === undefined ? undefined : pulumi.secret(s3.secretKey),
    };
}
