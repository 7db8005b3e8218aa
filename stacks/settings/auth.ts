/**
 * The `auth:` section: htpasswd users.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { password, userName } from "../../primitives/names";

export const authSchema = z
    .strictObject({
        /** Name of the admin user. Default: admin. */
        adminUser: userName.default("admin"),
        /** Admin password, a secret. Default: generated (32 characters, kept in state). */
        adminPassword: password.optional(),
        /** More users: `{ name, password }`, passwords set as secrets. Default: []. */
        users: z.array(z.strictObject({ name: userName, password })).default([]),
        /** bcrypt cost of htpasswd entries. Default: 10. */
        bcryptCost: z.number().int().min(4).max(14).default(10),
    })
    .prefault({});
