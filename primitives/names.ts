/**
 * Names: Docker object names, S3 bucket names, htpasswd user names and passwords. The bottom layer:
 * imports nothing of registry-kit's.
 */
import * as net from "node:net";
import { z } from "zod";

/** Docker object names: containers, volumes, networks. */
export const dockerName = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { message: "a Docker name: letters, digits, '_', '.', '-'" });

/** S3 bucket naming rules (general purpose buckets). */
export function bucketNameProblem(name: string): string | undefined {
    if (name.length < 3 || name.length > 63) return "3 to 63 characters";
    if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return "lowercase letters, digits, '.' and '-', starting and ending with a letter or digit";
    if (name.includes("..")) return "no two adjacent periods";
    if (net.isIP(name) === 4) return "not formatted as an IP address";
    if (name.startsWith("xn--") || name.startsWith("sthree-")) return "no 'xn--' or 'sthree-' prefix";
    if (name.endsWith("-s3alias") || name.endsWith("--ol-s3")) return "no '-s3alias' or '--ol-s3' suffix";
    return undefined;
}

export const bucketName = z.string().superRefine((v, ctx) => {
    const problem = bucketNameProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `an S3 bucket name: ${problem}` });
});

export const userName = z
    .string()
    .min(1, { message: "a non-empty user name" })
    .refine((v) => !v.includes(":") && !/\s/.test(v), { message: "a user name without ':' or white space" });
/** An htpasswd password: bcrypt reads only the first 72 bytes of it. */
export const password = z
    .string()
    .min(1, { message: "a non-empty password" })
    .refine((v) => Buffer.byteLength(v, "utf8") <= 72, { message: "at most 72 bytes (bcrypt, which the htpasswd file uses, ignores the rest)" });
