/**
 * Htpasswd: the registry's user file. bcrypt entries salted from a seed kept in Pulumi state, so the
 * same users and passwords give the same file on every run. Passwords and content stay secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { renderHtpasswd, verdictCacheKey } from "../renderers/htpasswd";
import { password, userName } from "../primitives/names";
import { REGISTRY_PROXY_USER } from "../primitives/registry";
import { validateArgs } from "./validate";

export interface HtpasswdUserArgs {
    /** User name: non-empty, no ':'. */
    name: pulumi.Input<string>;
    /** Password, made secret here. */
    password: pulumi.Input<string>;
}

export interface HtpasswdArgs {
    /** Name of the admin user, whose password is generated unless `adminPassword` is set. Default: admin. */
    adminUser?: pulumi.Input<string>;
    /** Admin password. Default: 32 random letters and digits, kept in state. */
    adminPassword?: pulumi.Input<string>;
    /** More users. Default: []. */
    users?: pulumi.Input<pulumi.Input<HtpasswdUserArgs>[]>;
    /** bcrypt cost of the users' entries. Default: 10. */
    bcryptCost?: pulumi.Input<number>;
    /**
     * Add the TLS proxy's own user toward the registry (`registry-kit-proxy`, a generated 48-character
     * password, bcrypt cost 4) and the key of the proxy's verdict cache. Default: false. Plain value:
     * it decides which resources exist.
     */
    proxyUser?: boolean;
}

/** bcrypt's minimum cost, for the proxy's generated password: 48 random letters and digits (285 bits) need no stretching. */
export const PROXY_USER_BCRYPT_COST = 4;

export class Htpasswd extends pulumi.ComponentResource {
    /** Name of the admin user. */
    public readonly adminUser: pulumi.Output<string>;
    /** Admin password (secret). */
    public readonly adminPassword: pulumi.Output<string>;
    /** The htpasswd file content (secret). */
    public readonly content: pulumi.Output<string>;
    /** With `proxyUser`: the proxy's `Authorization` value toward the registry, `Basic <base64>` (secret). */
    public readonly proxyAuthorization: pulumi.Output<string> | undefined;
    /** With `proxyUser`: the verdict cache's HMAC key, which changes with the content (secret). */
    public readonly verdictKey: pulumi.Output<string> | undefined;

    constructor(name: string, args: HtpasswdArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("registry-kit:auth:Htpasswd", name, {}, opts);
        validateArgs("Htpasswd", name, args, {
            adminUser: userName,
            adminPassword: password,
            users: z.array(z.object({ name: userName, password })),
            bcryptCost: z.number().int().min(4).max(14),
        });
        this.adminUser = pulumi.output(args.adminUser ?? "admin");
        if (args.adminPassword !== undefined) {
            this.adminPassword = pulumi.secret(args.adminPassword);
        } else {
            const generated = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this });
            this.adminPassword = pulumi.secret(generated.result);
        }
        const seed = new random.RandomPassword(`${name}-salt-seed`, { length: 32, special: false }, { parent: this });
        const users = pulumi.output(args.users ?? []);
        const proxyPassword = args.proxyUser
            ? new random.RandomPassword(`${name}-proxy-password`, { length: 48, special: false }, { parent: this }).result
            : undefined;
        this.content = pulumi.secret(
            pulumi
                .all([this.adminUser, this.adminPassword, users, seed.result, args.bcryptCost ?? 10, proxyPassword])
                .apply(([adminUser, adminPassword, more, seedValue, cost, proxy]) =>
                    renderHtpasswd(
                        [
                            { name: adminUser, password: adminPassword },
                            ...more,
                            ...(proxy === undefined ? [] : [{ name: REGISTRY_PROXY_USER, password: proxy, cost: PROXY_USER_BCRYPT_COST }]),
                        ],
                        seedValue,
                        cost,
                    ),
                ),
        );
        if (proxyPassword !== undefined) {
            const keySecret = new random.RandomPassword(`${name}-verdict-key`, { length: 43, special: false }, { parent: this });
            this.proxyAuthorization = pulumi.secret(proxyPassword.apply((p) => `Basic ${Buffer.from(`${REGISTRY_PROXY_USER}:${p}`).toString("base64")}`));
            this.verdictKey = pulumi.secret(pulumi.all([keySecret.result, this.content]).apply(([k, c]) => verdictCacheKey(k, c)));
        }
        this.registerOutputs({
            adminUser: this.adminUser,
            adminPassword: this.adminPassword,
            content: this.content,
            proxyAuthorization: this.proxyAuthorization,
            verdictKey: this.verdictKey,
        });
    }
}
