/**
 * The Pulumi program's body: picks the topology the settings name and returns its stack outputs.
 * Also `registry-kit/stacks`: the topologies and the settings they read, to run registry-kit's own
 * program from another project (`export = runTopology(loadSettings())`).
 */
import * as pulumi from "@pulumi/pulumi";
import { harbor } from "./harbor";
import { Settings } from "./schema";
import { gitlabTopology } from "./gitlab";
import { smallTeam } from "./small-team";

export { loadSettings, parseSettings, ConfigError } from "./config";
export { Settings, settingsSchema, inferDialect } from "./schema";
export { smallTeam, SmallTeamOutputs } from "./small-team";
export { gitlabTopology, GitlabOutputs } from "./gitlab";
export { harbor, HarborOutputs } from "./harbor";

export type StackOutputs = Record<string, pulumi.Output<unknown> | undefined>;

const TOPOLOGIES: Record<Settings["topology"], (s: Settings) => StackOutputs> = {
    "small-team": (s) => ({ ...smallTeam(s) }),
    gitlab: (s) => ({ ...gitlabTopology(s) }),
    harbor: (s) => ({ ...harbor(s) }),
};

export function runTopology(settings: Settings): StackOutputs {
    return TOPOLOGIES[settings.topology](settings);
}
