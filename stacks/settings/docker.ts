/**
 * The `docker:` section: where the stack's containers run, and what they are named.
 * A section of the settings schema (assembled in stacks/schema.ts): imports only primitives, zod and
 * other sections.
 */
import { z } from "zod";
import { containerLogging } from "../../primitives/logging";
import { dockerName } from "../../primitives/names";
import { cidr, dockerHostProblem } from "../../primitives/network";
import { swarmSchema } from "./swarm";

export const dockerModes = ["standalone", "swarm"] as const;

export const dockerSchema = z
    .strictObject({
        /** Docker endpoint: unix socket, tcp:// or ssh://user@host. Default: the Docker provider's (DOCKER_HOST or the local socket). */
        host: z
            .string()
            .superRefine((v, ctx) => {
                const problem = dockerHostProblem(v);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
        /** Prefix of every container, volume and network name. Default: `rk-<stack>`. */
        namePrefix: dockerName.optional(),
        /** Subnet of the stack's network, e.g. 172.30.0.0/24. Default: one Docker picks. */
        subnet: cidr.refine((v) => v.includes("/"), { message: "a CIDR block such as 172.30.0.0/24" }).optional(),
        /**
         * Log driver and options of every container of the stack (`--log-driver`, `--log-opt`): json-file or
         * local (rotated), or syslog, journald, gelf, fluentd (shipped by dockerd). Changing it replaces the
         * containers (the provider's log options force a new container). Default: json-file, max-size 10m, max-file 3.
         */
        logging: containerLogging.optional(),
        /**
         * standalone: containers on one Docker host; swarm: services on the Docker Swarm cluster `host` is a
         * manager of (small-team only; see docker.swarm). Default: standalone.
         */
        mode: z.enum(dockerModes).default("standalone"),
        /** Placement, publishing and rolling updates in swarm mode. */
        swarm: swarmSchema,
    })
    .prefault({});
