/**
 * render: evaluates a stack offline and writes every generated file plus manifest.json, for
 * reviewing changes in pull requests. `npm run render -- --help` lists the options.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { evaluate, readStackFile, StackConfig } from "../offline/evaluate";
import { maskSecrets, stableJson, unwrapSecrets } from "../offline/engine";
import { NAMESPACE } from "../stacks/config";

const MASK = "[secret: masked; render --show-secrets to see it]";

export const HELP = `usage: npm run render -- [options]     (or: registry-kit-render [options])

Evaluates registry-kit's program for one stack offline (no Pulumi CLI, no Docker, no cloud) and writes
every file a container receives, manifest.json (every resource with its inputs) and outputs.json.

options:
  -s, --stack NAME        the stack: reads <stackConfigDir>/Pulumi.NAME.yaml of the Pulumi.yaml in this
                          folder or above (default: local)
  -c, --config FILE       read this stack file instead
  -o, --out DIR           where to write (default: rendered/NAME)
      --state FILE        generated keys and passwords, kept between runs so only real changes show in a
                          diff (default: DIR/.render-state.json, mode 0600; give base and head the same one)
      --set KEY=VALUE     override one setting without editing the stack file, as
                          pulumi config set --path would (repeatable): --set proxy.httpsPort=8443,
                          --set 'auth.users[0].name=ci'; VALUE is YAML (8443 a number, true a boolean,
                          '["10.0.0.0/8"]' a list), KEY without a namespace means ${NAMESPACE}:
      --show-secrets      write secrets unmasked (debugging only)
      --secret-key KEY    treat the plain values under this top-level key as secrets (test and CI stack
                          files; repeatable)
  -h, --help              this text`;

/** A parsed path: `auth.users[0].name` → ["auth", "users", 0, "name"]; undefined if it is not one. */
function pathParts(p: string): (string | number)[] | undefined {
    if (!/^[^.[\]]+(\.[^.[\]]+|\[\d+\])*$/.test(p)) return undefined;
    return [...p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
}

/** Applies `--set key=value` overrides to a stack's config (in place), as `pulumi config set --path` would. */
export function applySets(stackConfig: StackConfig, sets: string[]): void {
    for (const set of sets) {
        const eq = set.indexOf("=");
        if (eq <= 0) throw new Error(`--set ${set}: got no KEY=VALUE; allowed: --set KEY=VALUE, such as --set proxy.httpsPort=8443`);
        const key = set.slice(0, eq).includes(":") ? set.slice(0, eq) : `${NAMESPACE}:${set.slice(0, eq)}`;
        const text = set.slice(eq + 1);
        const colon = key.indexOf(":");
        const parts = pathParts(key.slice(colon + 1));
        if (!parts || typeof parts[0] !== "string")
            throw new Error(`--set ${set}: got the key "${key}"; allowed: a setting path such as proxy.httpsPort or auth.users[0].name`);
        let value: unknown;
        try {
            value = parse(text);
        } catch {
            value = text;
        }
        const top = `${key.slice(0, colon)}:${parts[0]}`;
        if (parts.length === 1) {
            stackConfig.config[top] = value;
            continue;
        }
        let cur = (stackConfig.config[top] ??= typeof parts[1] === "number" ? [] : {}) as Record<string | number, unknown>;
        for (let i = 1; i < parts.length - 1; i++) {
            const next = cur[parts[i]];
            if (next === undefined || next === null || typeof next !== "object") cur[parts[i]] = typeof parts[i + 1] === "number" ? [] : {};
            cur = cur[parts[i]] as Record<string | number, unknown>;
        }
        cur[parts[parts.length - 1]] = value;
    }
}

/** The folder of the nearest Pulumi.yaml at or above `dir`, and its stackConfigDir. */
function stackDir(dir: string): string | undefined {
    for (let d = path.resolve(dir); ; d = path.dirname(d)) {
        const project = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(d, f)).find((f) => fs.existsSync(f));
        if (project) {
            const doc = (parse(fs.readFileSync(project, "utf8")) ?? {}) as { stackConfigDir?: string };
            return path.join(d, doc.stackConfigDir ?? ".");
        }
        if (path.dirname(d) === d) return undefined;
    }
}

/** The stack file of `stack`, or an error that names the stacks there are. */
export function stackFile(stack: string, cwd = process.cwd()): string {
    const dir = stackDir(cwd);
    if (!dir) throw new Error(`--stack ${stack}: no Pulumi.yaml in ${cwd} or above; allowed: run render in a Pulumi project, or --config FILE`);
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(file)) return file;
    const stacks = fs.existsSync(dir)
        ? fs
              .readdirSync(dir)
              .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
              .filter((s): s is string => s !== undefined)
              .sort()
        : [];
    throw new Error(
        `--stack ${stack}: no ${path.relative(cwd, file) || file}; allowed: ${stacks.length > 0 ? stacks.join(", ") : "(no stack files there)"}, or --config FILE`,
    );
}

async function main(argv: string[]): Promise<void> {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            allowPositionals: false,
            options: {
                stack: { type: "string", short: "s", default: "local" },
                config: { type: "string", short: "c" },
                out: { type: "string", short: "o" },
                state: { type: "string" },
                set: { type: "string", multiple: true, default: [] },
                "show-secrets": { type: "boolean", default: false },
                // Top-level keys whose plain values in the stack file are secrets (test and CI stack files).
                "secret-key": { type: "string", multiple: true, default: [] },
                help: { type: "boolean", short: "h", default: false },
            },
        }));
    } catch (e) {
        throw new Error(`${(e as Error).message}; render --help lists the options`);
    }
    if (values.help) {
        console.log(HELP);
        return;
    }
    const stack = values.stack;
    const configPath = values.config ? path.resolve(values.config) : stackFile(stack);
    const out = path.resolve(values.out ?? path.join("rendered", stack));
    const statePath = path.resolve(values.state ?? path.join(out, ".render-state.json"));
    const show = values["show-secrets"];

    const state = fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, "utf8")) : undefined;
    const stackConfig = readStackFile(configPath);
    applySets(stackConfig, values.set);
    stackConfig.secretKeys.push(...values["secret-key"].map((k) => (k.includes(":") ? k : `${NAMESPACE}:${k}`)));
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

if (require.main === module) {
    main(process.argv.slice(2)).then(
        () => process.exit(0),
        (err) => {
            console.error(err instanceof Error ? err.message : String(err));
            process.exit(1);
        },
    );
}
