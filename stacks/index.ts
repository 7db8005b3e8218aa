/**
 * The Pulumi program's body: picks the topology the settings name and returns its stack outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { harbor } from "./harbor";
import { Settings } from "./schema";
import { gitlabTopology } from "./gitlab";
import { smallTeam } from "./small-team";

export type StackOutputs = Record<string, pulumi.Output<unknown> | undefined>;

const TOPOLOGIES: Record<Settings["topology"], (s: Settings) => StackOutputs> = {
    "small-team": (s) => ({ ...smallTeam(s) }),
    gitlab: (s) => ({ ...gitlabTopology(s) }),
    harbor: (s) => ({ ...harbor(s) }),
};

export function runTopology(settings: Settings): StackOutputs {
    return TOPOLOGIES[settings.topology](settings);
}
