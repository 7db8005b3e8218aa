/**
 * The `proxy:` section: the nginx TLS proxy in front of the registry.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { image } from "../../primitives/images";
import { cidr, ipAddress, port } from "../../primitives/network";

export const proxySchema = z
    .strictObject({
        /** Nginx image. Default: nginx:1.27. */
        image: image.default("nginx:1.27"),
        /** Host address the proxy ports are published on. Default: 0.0.0.0. */
        hostIp: ipAddress.default("0.0.0.0"),
        /** Host port for HTTPS. Default: 443. */
        httpsPort: port.default(443),
        /** Host port for HTTP (redirect and ACME challenges). Default: 80. */
        httpPort: port.default(80),
        /** Source addresses allowed to reach the registry; empty means everyone. Default: []. */
        allowCidrs: z.array(cidr).default([]),
        /** Strict-Transport-Security max-age in seconds; 0 turns the header off. Default: 31536000. */
        hstsMaxAge: z.number().int().min(0, { message: "a number of seconds, 0 or more" }).default(31536000),
    })
    .prefault({});
