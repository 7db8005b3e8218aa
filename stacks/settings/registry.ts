/**
 * The `registry:` section: the Distribution registry, its storage, replicas and logs.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { image } from "../../primitives/images";
import { dialects, logLevels } from "../../primitives/registry";
import { redisSchema, storageSchema, uploadPurgingSchema } from "./storage";

export const registrySchema = z
    .strictObject({
        /** Distribution image. Default: registry:3. */
        image: image.default("registry:3"),
        /** Config dialect: v2 or v3. Default: inferred from the image tag (`:2…` → v2, anything else v3). */
        dialect: z.enum(dialects).optional(),
        storage: storageSchema,
        /** Registry containers behind the proxy; more than one needs s3 or minio storage. Default: 1. */
        replicas: z.number().int().min(1, { message: "1 to 16 replicas" }).max(16, { message: "1 to 16 replicas" }).default(1),
        /** Redis for the blob-descriptor cache (used when replicas > 1 or an address is set). */
        redis: redisSchema,
        /** Allow manifest and blob deletion through the API. Default: true. */
        deleteEnabled: z.boolean().default(true),
        uploadPurging: uploadPurgingSchema,
        /** Registry log level. Default: info. */
        logLevel: z.enum(logLevels).default("info"),
        /** Raw registry configuration deep-merged over the generated one (escape hatch). Default: {}. */
        extraConfig: z.record(z.string(), z.unknown()).default({}),
    })
    .prefault({});
