/**
 * The `monitoring:` section: the Prometheus container.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { prometheusDuration } from "../../primitives/durations";
import { image } from "../../primitives/images";
import { ipAddress, port } from "../../primitives/network";

export const monitoringSchema = z
    .strictObject({
        /** Run a Prometheus container. Default: true. */
        enabled: z.boolean().default(true),
        /** Prometheus image. Default: prom/prometheus:v2.55.1. */
        image: image.default("prom/prometheus:v2.55.1"),
        /** Host address Prometheus is published on. Default: 127.0.0.1. */
        hostIp: ipAddress.default("127.0.0.1"),
        /** Host port of Prometheus. Default: 9090. */
        port: port.default(9090),
        /** How long to keep samples. Default: 15d. */
        retentionTime: prometheusDuration.default("15d"),
        /** Cap on the TSDB size, e.g. 10GB; empty for none. Default: none. */
        retentionSize: z
            .string()
            .regex(/^\d+(B|KB|MB|GB|TB|PB)$/, { message: "a size such as 512MB or 10GB" })
            .optional(),
        /** Scrape interval. Default: 30s. */
        scrapeInterval: prometheusDuration.default("30s"),
    })
    .prefault({});
