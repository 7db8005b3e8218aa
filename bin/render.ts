/**
 * render: evaluates a stack offline and writes every generated file plus manifest.json, for
 * reviewing changes in pull requests. Usage:
 *
 *   npm run render -- --stack local [--out rendered/local] [--config path] [--show-secrets] [--state file]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { evaluate, readStackFile } from "../offline/evaluate";
import { maskSecrets, stableJson, unwrapSecrets } from "../offline/engine";

const MASK = "[secret: masked; render --show-secrets to see it]";

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            stack: { type: "string", default: "local" },
            config: { type: "string" },
            out: { type: "string" },
            state: { type: "string" },
            "show-secrets": { type: "boolean", default: false },
            // Top-level keys whose plain values in the stack file are secrets (test and CI stack files).
            "secret-key": { type: "string", multiple: true, default: [] },
            help: { type: "boolean", default: false },
        },
    });
    if (values.help) {
        console.log("usage: npm run render -- --stack NAME [--config FILE] [--out DIR] [--state FILE] [--show-secrets] [--secret-key KEY ...]");
        return;
    }
    const stack = values.stack!;
    const configPath = values.config ?? path.join(__dirname, "..", "stacks", `Pulumi.${stack}.yaml`);
    const out = path.resolve(values.out ?? path.join("rendered", stack));
    const statePath = path.resolve(values.state ?? path.join(out, ".render-state.json"));
    const show = values["show-secrets"]!;

    const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, "utf8")) : undefined;
    const stackConfig = readStackFile(configPath);
    stackConfig.secretKeys.push(...values["secret-key"]!.map((k) => (k.includes(":") ? k : `registry-kit:${k}`)));
    const result = await evaluate(stackConfig, { stack, state });

    fs.rmSync(path.join(out, "files"), { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    for (const f of result.files) {
        const target = path.join(out, "files", f.container, f.path);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, f.secret && !show ? `${MASK}\n` : f.content, { mode: f.secret ? 0o600 : 0o644 });
    }
    const view = (v: unknown) => (show ? unwrapSecrets(v) : maskSecrets(v, MASK));
    const manifest = {
        stack,
        config: path.relative(process.cwd(), configPath),
        resources: result.resources.map((r) => ({ type: r.type, name: r.name, custom: r.custom, options: r.options, inputs: view(r.inputs) })),
        files: result.files.map((f) => ({ container: f.container, path: f.path, secret: f.secret })),
    };
    fs.writeFileSync(path.join(out, "manifest.json"), stableJson(manifest, 2) + "\n");
    fs.writeFileSync(path.join(out, "outputs.json"), stableJson(view(result.outputs), 2) + "\n");
    // Generated keys and passwords live here between runs, like a Pulumi state file: keep it private.
    fs.writeFileSync(statePath, JSON.stringify(result.state), { mode: 0o600 });
    console.log(`rendered ${result.resources.length} resources and ${result.files.length} files for stack ${stack} into ${out}`);
    if (!show) console.log("secrets are masked; add --show-secrets to write them");
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    },
);
