// The Pulumi program (Pulumi.yaml `main`): validated stack config → topology → stack outputs.
// Pulumi runs the built dist/program.js (runtime.options.typescript: false).
import * as pulumi from "@pulumi/pulumi";
import { staleSource } from "./build-check";
import { runTopology } from "./stacks";
import { loadSettings } from "./stacks/config";

const stale = staleSource(__filename);
if (stale) throw new pulumi.RunError(`dist/ is older than ${stale}: run npm run build (Pulumi runs the built dist/program.js)`);

export = runTopology(loadSettings());
