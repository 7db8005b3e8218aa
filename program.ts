// The Pulumi program (Pulumi.yaml `main`): validated stack config → topology → stack outputs.
import { runTopology } from "./stacks";
import { loadSettings } from "./stacks/config";

export = runTopology(loadSettings());
