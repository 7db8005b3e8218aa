/**
 * The `auth:` section: htpasswd users, their permissions at the proxy, and the proxy's verdict cache.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { password, userName } from "../../primitives/names";
import { accessActions, REGISTRY_VERIFY_SUFFIX, repositoryPatternProblem } from "../../primitives/registry";

const repositoryPattern = z.string().superRefine((v, ctx) => {
    const problem = repositoryPatternProblem(v);
    if (problem) ctx.addIssue({ code: "custom", input: v, message: `a repository pattern: ${problem}` });
});

const accessAction = z.string().refine((v) => (accessActions as readonly string[]).includes(v), {
    message: `one of ${accessActions.map((a) => JSON.stringify(a)).join(", ")}`,
});

/** One permission: these actions on repositories matching any of these patterns. */
export const accessRule = z.strictObject({
    /** Patterns: `team/*` (team's direct repositories), `team/**` (everything under team), `**` (all). Required. */
    repositories: z.array(repositoryPattern).min(1, { message: "at least one repository pattern" }),
    /** `pull`, `push`, `delete`, `catalog` (GET /v2/_catalog: every repository's name). Required. */
    actions: z.array(accessAction).min(1, { message: `at least one of ${accessActions.join(", ")}` }),
});
export type AccessRuleSettings = z.infer<typeof accessRule>;

/** What a user without `access` may do: everything, as before permissions existed. */
export const FULL_ACCESS: AccessRuleSettings[] = [{ repositories: ["**"], actions: [...accessActions] }];

const notProxyUser = userName.refine((v) => !v.endsWith(REGISTRY_VERIFY_SUFFIX), {
    message: `a user name not ending with ${REGISTRY_VERIFY_SUFFIX} (the name under which the proxy verifies a user's password)`,
});

export const authSchema = z
    .strictObject({
        /** Name of the admin user, who may do everything. Default: admin. */
        adminUser: notProxyUser.default("admin"),
        /** Admin password, a secret. Default: generated (32 characters, kept in state). */
        adminPassword: password.optional(),
        /**
         * More users: `{ name, password, access }`, passwords set as secrets; `access` is a list of
         * `{ repositories, actions }`, enforced at the proxy. Default: [] (and each user's access: everything).
         */
        users: z.array(z.strictObject({ name: notProxyUser, password, access: z.array(accessRule).optional() })).default([]),
        /** bcrypt cost of the users' htpasswd entries. Default: 10. */
        bcryptCost: z.number().int().min(4).max(14).default(10),
        /**
         * Seconds the proxy remembers that a user's credentials are valid (only successes; a wrong
         * password always pays a full bcrypt check). 0 checks every request. Default: 60.
         */
        verdictCacheSeconds: z
            .number()
            .int()
            .min(0, { message: "a number of seconds from 0 to 3600" })
            .max(3600, { message: "a number of seconds from 0 to 3600" })
            .default(60),
    })
    .prefault({});
