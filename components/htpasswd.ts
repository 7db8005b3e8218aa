/**
 * Htpasswd: the registry's user file. bcrypt entries salted from a seed kept in Pulumi state, so the
 * same users and passwords give the same file on every run. Passwords and content stay secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { renderHtpasswd } from "../renderers/htpasswd";
import { password, userName } from "../primitives/names";
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
    /** bcrypt cost. Default: 10. */
    bcryptCost?: pulumi.Input<number>;
}

export class Htpasswd extends pulumi.ComponentResource {
    /** Name of the admin user. */
    public readonly adminUser: pulumi.Output<string>;
    /** Admin password (secret). */
    public readonly adminPassword: pulumi.Output<string>;
    /** The htpasswd file content (secret). */
    public readonly content: pulumi.Output<string>;

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
        this.content = pulumi.secret(
            pulumi
                .all([this.adminUser, this.adminPassword, users, seed.result, args.bcryptCost ?? 10])
                .apply(([adminUser, adminPassword, more, seedValue, cost]) =>
                    renderHtpasswd([{ name: adminUser, password: adminPassword }, ...more], seedValue, cost),
                ),
        );
        this.registerOutputs({ adminUser: this.adminUser, adminPassword: this.adminPassword, content: this.content });
    }
}
