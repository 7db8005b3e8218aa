/**
 * The `harbor:` section (topology harbor): Harbor from its offline installer, over SSH or on this machine.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { goDuration } from "../../primitives/durations";
import { HARBOR_DEFAULT_VERSION, HARBOR_LOG_LEVELS, HARBOR_PROXY_COMPONENTS, harborInstallerUrlProblem, harborPasswordProblem } from "../../primitives/harbor";
import { userName } from "../../primitives/names";
import { hostname, isHttpUrl, port, redactUrlCredentials } from "../../primitives/network";
import { uploadPurgingSchema } from "./storage";

const absolutePath = z.string().regex(/^\/[A-Za-z0-9._/-]*$/, { message: "an absolute path such as /data" });

/** The `harbor:` section (topology harbor): Harbor from its offline installer, over SSH or on this machine. */
export const harborSchema = z
    .strictObject({
        /** Harbor version, a 2.15 patch release (registry-kit renders Harbor 2.15's harbor.yml). Default: v2.15.0. */
        version: z
            .string()
            .regex(/^v\d+\.\d+\.\d+$/, { message: "a Harbor release such as v2.15.0" })
            .default(HARBOR_DEFAULT_VERSION),
        /** Offline installer URL: https://, http:// or file://, without credentials (~/.netrc on the host). Default: the GitHub release of `version`. */
        installerUrl: z
            .string()
            .superRefine((v, ctx) => {
                const problem = harborInstallerUrlProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem, input: redactUrlCredentials(v) });
            })
            .optional(),
        /** SHA-256 of the installer (64 hex digits). Required: no default, a mismatch aborts the install. */
        installerSha256: z
            .string()
            .regex(/^[0-9a-fA-F]{64}$/, { message: "the installer's SHA-256: 64 hex digits" })
            .optional(),
        /** SSH target for Harbor's host; unset installs on the machine running pulumi. Default: none. */
        ssh: z
            .strictObject({
                /** Host name or address. Required. */
                host: hostname,
                /** SSH port. Default: 22. */
                port: port.default(22),
                /** Login user (needs docker and write access to installDir and dataVolume). Default: root. */
                user: userName.default("root"),
                /** PEM/OpenSSH private key, a secret. Default: none (then password). */
                privateKey: z.string().includes("PRIVATE KEY", { message: "a PEM or OpenSSH private key" }).optional(),
                /** Password, a secret. Default: none. */
                password: z.string().min(1).optional(),
            })
            .optional(),
        /** Directory on the host for the installer, harbor.yml, TLS files and downloads. Default: /opt/registry-kit/harbor. */
        installDir: absolutePath.default("/opt/registry-kit/harbor"),
        /** Harbor's data_volume (images on filesystem storage, database, job logs); kept on destroy; not /, not overlapping installDir. Default: /data. */
        dataVolume: absolutePath.default("/data"),
        /** Host port for HTTP (redirects to HTTPS). Default: 80. */
        httpPort: port.default(80),
        /** Host port for HTTPS. Default: 443. */
        httpsPort: port.default(443),
        /** Only strong TLS ciphers. Default: false. */
        strongSslCiphers: z.boolean().default(false),
        /** external_url, when Harbor sits behind another proxy. Default: none. */
        externalUrl: z.string().refine(isHttpUrl, { message: "an http:// or https:// URL" }).optional(),
        /** Initial admin password, a secret (8-128 characters with an upper, a lower and a digit). Default: generated (kept in state). */
        adminPassword: z
            .string()
            .superRefine((v, ctx) => {
                const problem = harborPasswordProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
        /** Database password, a secret. Default: generated (kept in state). */
        databasePassword: z.string().min(8, { message: "at least 8 characters" }).optional(),
        trivy: z
            .strictObject({
                /** Only report fixed vulnerabilities. Default: false. */
                ignoreUnfixed: z.boolean().default(false),
                /** No vulnerability DB downloads (air-gapped). Default: false. */
                skipUpdate: z.boolean().default(false),
                /** No Java DB downloads. Default: false. */
                skipJavaDbUpdate: z.boolean().default(false),
                /** No API requests while scanning. Default: false. */
                offlineScan: z.boolean().default(false),
                /** Skip verifying the registry certificate. Default: false. */
                insecure: z.boolean().default(false),
                /** Scan timeout. Default: 5m0s. */
                timeout: goDuration.default("5m0s"),
            })
            .prefault({}),
        jobservice: z
            .strictObject({
                /** Concurrent job workers. Default: 10. */
                maxJobWorkers: z.number().int().min(1, { message: "1 to 100 workers" }).max(100, { message: "1 to 100 workers" }).default(10),
                /** Longest task in hours. Default: 24. */
                maxJobDurationHours: z.number().int().min(1).max(720).default(24),
            })
            .prefault({}),
        log: z
            .strictObject({
                /** Harbor's log level. Default: info. */
                level: z.enum(HARBOR_LOG_LEVELS).default("info"),
                /** Rotated files kept. Default: 50. */
                rotateCount: z.number().int().min(0).max(1000).default(50),
                /** Size that triggers rotation: bytes, or with k, M or G. Default: 200M. */
                rotateSize: z
                    .string()
                    .regex(/^\d+[kMG]?$/, { message: "a size such as 100, 100k, 200M or 1G" })
                    .default("200M"),
                /** Log directory on the host. Default: /var/log/harbor. */
                location: absolutePath.default("/var/log/harbor"),
            })
            .prefault({}),
        proxy: z
            .strictObject({
                /** Default: none. */
                httpProxy: z.string().refine(isHttpUrl, { message: "an http:// or https:// proxy URL" }).optional(),
                /** Default: none. */
                httpsProxy: z.string().refine(isHttpUrl, { message: "an http:// or https:// proxy URL" }).optional(),
                /** Comma-separated hosts reached directly. Default: none. */
                noProxy: z.string().optional(),
                /** Components that use the proxy. Default: [core, jobservice, trivy]. */
                components: z.array(z.enum(HARBOR_PROXY_COMPONENTS)).default(["core", "jobservice", "trivy"]),
            })
            .prefault({}),
        metrics: z
            .strictObject({
                /** Host port of Harbor's metrics (always on). Default: 9091 (Harbor's own default, 9090, is Prometheus's). */
                port: port.default(9091),
                /** Metrics path. Default: /metrics. */
                path: z
                    .string()
                    .regex(/^\/[A-Za-z0-9._/-]*$/, { message: "a path such as /metrics" })
                    .default("/metrics"),
            })
            .prefault({}),
        uploadPurging: uploadPurgingSchema,
    })
    .prefault({});
