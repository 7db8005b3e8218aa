/**
 * Htpasswd: the registry's user file. bcrypt entries salted from a seed kept in Pulumi state, so the
 * same users and passwords give the same file on every run. Passwords and content stay secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { proxiedPassword, renderHtpasswd, renderProxiedHtpasswd, verdictCacheKey } from "../renderers/htpasswd";
import { password, userName } from "../primitives/names";
import { REGISTRY_VERIFY_SUFFIX } from "../primitives/registry";
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
     * The file is for a registry behind the TLS proxy's check: per user `<name>` with a password only
     * the proxy derives (bcrypt cost 4) and `<name>@registry-kit-verify` with the user's own (see
     * REGISTRY_VERIFY_SUFFIX); also the proxy's secret and the verdict cache's key. Default: false.
     * Plain value: it decides which resources exist.
     */
    proxied?: boolean;
}

export class Htpasswd extends pulumi.ComponentResource {
    /** Name of the admin user. */
    public readonly adminUser: pulumi.Output<string>;
    /** Admin password (secret). */
    public readonly adminPassword: pulumi.Output<string>;
    /** The htpasswd file content for the registry (secret); with `proxied`, the proxied form. */
    public readonly content: pulumi.Output<string>;
    /** The users' own entries, one per user (secret): for registries clients reach with their passwords (mirrors). */
    public readonly userContent: pulumi.Output<string>;
    /** The admin's password toward the registry (secret): with `proxied` the derived one, else `adminPassword`. */
    public readonly registryAdminPassword: pulumi.Output<string>;
    /** With `proxied`: the secret the proxy derives the users' passwords toward the registry from (secret). */
    public readonly proxySecret: pulumi.Output<string> | undefined;
    /** With `proxied`: the verdict cache's HMAC key, which changes with the content (secret). */
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
        const all = pulumi
            .all([this.adminUser, this.adminPassword, users])
            .apply(([adminUser, adminPassword, more]) => [{ name: adminUser, password: adminPassword }, ...more]);
        const cost = args.bcryptCost ?? 10;
        this.userContent = pulumi.secret(pulumi.all([all, seed.result, cost]).apply(([list, seedValue, c]) => renderHtpasswd(list, seedValue, c)));
        if (args.proxied) {
            const proxySecret = pulumi.secret(new random.RandomPassword(`${name}-proxy-secret`, { length: 48, special: false }, { parent: this }).result);
            this.content = pulumi.secret(
                pulumi
                    .all([all, seed.result, cost, proxySecret])
                    .apply(([list, seedValue, c, secret]) => renderProxiedHtpasswd(list, seedValue, c, secret, REGISTRY_VERIFY_SUFFIX)),
            );
            const keySecret = new random.RandomPassword(`${name}-verdict-key`, { length: 43, special: false }, { parent: this });
            this.proxySecret = proxySecret;
            this.verdictKey = pulumi.secret(pulumi.all([keySecret.result, this.content]).apply(([k, c]) => verdictCacheKey(k, c)));
            this.registryAdminPassword = pulumi.secret(pulumi.all([proxySecret, this.adminUser]).apply(([secret, admin]) => proxiedPassword(secret, admin)));
        } else {
            this.content = this.userContent;
            this.registryAdminPassword = this.adminPassword;
        }
        this.registerOutputs({
            adminUser: this.adminUser,
            adminPassword: this.adminPassword,
            content: this.content,
            userContent: this.userContent,
            registryAdminPassword: this.registryAdminPassword,
            proxySecret: this.proxySecret,
            verdictKey: this.verdictKey,
        });
    }
}
