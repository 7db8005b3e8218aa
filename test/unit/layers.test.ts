/**
 * The import graph flows one way (docs/architecture.md): primitives at the bottom, then renderers,
 * components, stacks, the offline engine, and the entry points on top. A module may import its own layer
 * or one below it, never one above; stacks/settings/ (the settings sections) imports only primitives and
 * other sections; and no import cycle exists anywhere. Imports are read with the TypeScript compiler's own
 * pre-processor (import, export ... from, import(), require).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");

/** Bottom to top: a module of one layer may import modules of its own layer and those before it. */
const LAYERS: { name: string; holds: (file: string) => boolean }[] = [
    { name: "primitives", holds: (f) => f.startsWith("primitives/") },
    { name: "renderers", holds: (f) => f.startsWith("renderers/") },
    { name: "components", holds: (f) => f.startsWith("components/") },
    { name: "stacks", holds: (f) => f.startsWith("stacks/") },
    { name: "offline", holds: (f) => f.startsWith("offline/") },
    { name: "entry points", holds: (f) => /^(bin|provider)\//.test(f) || ["index.ts", "aws.ts", "program.ts", "build-check.ts"].includes(f) },
];
/** Folders whose modules may import only the listed prefixes (and themselves). */
const NARROW: Record<string, string[]> = { "stacks/settings/": ["primitives/", "stacks/settings/"] };

/** Module → the modules it imports, all relative to ROOT. */
export type Graph = Map<string, string[]>;

function sources(): string[] {
    const walk = (dir: string): string[] =>
        fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
            const rel = dir ? `${dir}/${e.name}` : e.name;
            if (e.isDirectory()) return walk(rel);
            return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [rel] : [];
        });
    const roots = ["index.ts", "aws.ts", "program.ts", "build-check.ts"];
    return [...roots, ...["primitives", "renderers", "components", "stacks", "offline", "bin", "provider"].flatMap((d) => walk(d))];
}

/** The graph of our relative imports; an import that resolves to no file is an error. */
export function importGraph(files: string[], read: (file: string) => string): Graph {
    const known = new Set(files);
    const graph: Graph = new Map();
    for (const file of files) {
        const specs = ts.preProcessFile(read(file), true, true).importedFiles.map((f) => f.fileName);
        const targets: string[] = [];
        for (const spec of specs.filter((s) => s.startsWith("."))) {
            const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
            const target = [`${base}.ts`, `${base}/index.ts`].find((c) => known.has(c));
            if (target) targets.push(target);
            else if (!fs.existsSync(path.join(ROOT, base)) || /\.ts$/.test(base)) throw new Error(`${file}: import "${spec}" resolves to no source`);
        }
        graph.set(file, targets);
    }
    return graph;
}

const layerOf = (file: string): number => LAYERS.findIndex((l) => l.holds(file));

/** Every import from a layer above, every import a narrow folder may not make, and every cycle. */
export function layerProblems(graph: Graph): string[] {
    const problems: string[] = [];
    for (const [file, targets] of graph) {
        const own = layerOf(file);
        if (own < 0) problems.push(`${file}: in no layer (add it to LAYERS in test/unit/layers.test.ts)`);
        for (const target of targets) {
            const theirs = layerOf(target);
            if (theirs > own) problems.push(`${file} (${LAYERS[own]?.name}) imports ${target} (${LAYERS[theirs].name}), a layer above it`);
            const narrow = Object.keys(NARROW).find((prefix) => file.startsWith(prefix));
            if (narrow && !NARROW[narrow].some((p) => target.startsWith(p)))
                problems.push(`${file} imports ${target}: ${narrow} may import only ${NARROW[narrow].join(", ")}`);
        }
    }
    return [...problems, ...cycles(graph).map((c) => `import cycle: ${c.join(" -> ")}`)];
}

/** Each cycle once, as the path that closes it (depth-first search; a back edge closes a cycle). */
export function cycles(graph: Graph): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (node: string) => {
        state.set(node, "open");
        stack.push(node);
        for (const next of graph.get(node) ?? []) {
            if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
            else if (!state.has(next)) visit(next);
        }
        stack.pop();
        state.set(node, "done");
    };
    for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
    return found;
}

describe("the import graph", () => {
    const files = sources();
    const graph = importGraph(files, (f) => fs.readFileSync(path.join(ROOT, f), "utf8"));

    it("reads every layer", () => {
        for (const layer of LAYERS) expect(files.some(layer.holds), layer.name).toBe(true);
        expect(graph.get("stacks/schema.ts")).toContain("stacks/settings/registry.ts");
        expect(graph.get("renderers/nginx-conf.ts")).toContain("primitives/network.ts");
    });

    it("flows one way, with no cycle", () => {
        expect(layerProblems(graph)).toEqual([]);
    });

    it("would name an import from a layer above, a settings section importing a renderer, and a cycle", () => {
        const read = (f: string) =>
            ({
                "primitives/a.ts": `import { x } from "../renderers/b";`,
                "renderers/b.ts": `export { y } from "./c";`,
                "renderers/c.ts": `const z = require("./b");`,
                "stacks/settings/d.ts": `import type { B } from "../../renderers/b";`,
            })[f]!;
        const problems = layerProblems(importGraph(["primitives/a.ts", "renderers/b.ts", "renderers/c.ts", "stacks/settings/d.ts"], read));
        expect(problems).toEqual([
            "primitives/a.ts (primitives) imports renderers/b.ts (renderers), a layer above it",
            "stacks/settings/d.ts imports renderers/b.ts: stacks/settings/ may import only primitives/, stacks/settings/",
            "import cycle: renderers/b.ts -> renderers/c.ts -> renderers/b.ts",
        ]);
    });
});
