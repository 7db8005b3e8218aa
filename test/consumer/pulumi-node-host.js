// Loads a Pulumi program the way Pulumi's Node.js language host does (node_modules/@pulumi/pulumi/
// cmd/run/run.js, non-ESM path), but under Pulumi's mocks instead of a real engine, and prints every
// resource the program registers as one JSON line `{"type":..., "name":...}` on stdout.
//
// Run it with the project directory as cwd and the program (Pulumi.yaml `main`, or ".") as argument.
// As the language host: PULUMI_NODEJS_TYPESCRIPT=true (runtime.options.typescript) registers ts-node,
// the `typescript` and `ts-node` resolved from @pulumi/pulumi or else its vendored ts-node 7.0.1, with
// the project's tsconfig.json (PULUMI_NODEJS_TSCONFIG_PATH), transpileOnly from
// PULUMI_NODEJS_TRANSPILE_ONLY or the tsconfig's `noCheck`, and its default compilerOptions under the
// tsconfig's.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const projectRequire = createRequire(path.join(process.cwd(), "package.json"));
const pulumiRun = projectRequire.resolve("@pulumi/pulumi/cmd/run/run.js");
const pulumiRequire = createRequire(pulumiRun);
const tsutils = pulumiRequire("../../tsutils");
const semver = pulumiRequire("semver");

const started = process.hrtime.bigint();
let program = process.argv[2] || ".";
if (program === ".") {
    const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
    program = pkg.main || "index.js";
}
program = path.resolve(program);

if (process.env.PULUMI_NODEJS_TYPESCRIPT === "true") {
    const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
    const skipProject = !fs.existsSync(tsConfigPath);
    const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
    const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
    const transpileOnly = env ? env === "true" : compilerOptions.noCheck;
    const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
    const ts = pulumiRequire(typescriptRequire);
    const useNodeNext = semver.parse(ts.version).compare(new semver.SemVer("4.7.0")) >= 0;
    pulumiRequire(tsnodeRequire).register({
        compiler: typescriptRequire,
        transpileOnly,
        project: tsConfigPath,
        skipProject,
        compilerOptions: {
            target: "ES2020",
            module: useNodeNext ? "nodenext" : "commonjs",
            moduleResolution: useNodeNext ? "nodenext" : "node",
            sourceMap: "true",
            ...compilerOptions,
        },
    });
    process.stderr.write(`pulumi-node-host: ts-node ${pulumiRequire(tsnodeRequire).VERSION} (${tsnodeRequire}), typescript ${ts.version}, transpileOnly ${transpileOnly}\n`);
}

const pulumi = projectRequire("@pulumi/pulumi");
const config = JSON.parse(process.env.PULUMI_CONFIG || "{}");
pulumi.runtime.setAllConfig(config, JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS || "[]"));
pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            process.stdout.write(JSON.stringify({ type: args.type, name: args.name }) + "\n");
            return { id: `${args.name}-id`, state: { ...args.inputs, ...fakeOutputs(args) } };
        },
        call: (args) => args.inputs,
    },
    process.env.PULUMI_PROJECT || "consumer",
    process.env.PULUMI_STACK || "test",
    true,
);

/** Outputs the providers compute that the components read: keys, certificates, generated passwords. */
function fakeOutputs(args) {
    if (args.type.startsWith("random:")) return { result: "generated-value-0123456789" };
    if (args.type === "tls:index/privateKey:PrivateKey") return { privateKeyPem: "KEY", publicKeyPem: "PUB", privateKeyPemPkcs8: "KEY" };
    if (args.type.startsWith("tls:")) return { certPem: "CERT" };
    return {};
}

// As run.js reports a program's failure: a RunError by its message alone, anything else with its stack.
function report(err) {
    if (pulumi.RunError.isInstance(err)) process.stderr.write(`error: ${err.message}\n`);
    else process.stderr.write(`error: Running program '${program}' failed with an unhandled exception:\n${require("util").inspect(err)}\n`);
    process.exit(1);
}
process.on("unhandledRejection", report);
process.on("uncaughtException", report);
try {
    require(program);
} catch (err) {
    report(err);
}
const loaded = Number(process.hrtime.bigint() - started) / 1e6;
process.stderr.write(`pulumi-node-host: program loaded in ${Math.round(loaded)} ms\n`);
// Let the mocks resolve what the program registered, then report what was loaded.
setTimeout(() => {
    const loadedAws = Object.keys(require.cache).some((f) => f.includes(`${path.sep}@pulumi${path.sep}aws${path.sep}`));
    process.stderr.write(`pulumi-node-host: @pulumi/aws loaded: ${loadedAws}\n`);
    process.stdout.write(JSON.stringify({ done: true, loadedAws, loadMs: Math.round(loaded) }) + "\n");
}, Number(process.env.SETTLE_MS || 1500));
