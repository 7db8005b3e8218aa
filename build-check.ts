/**
 * Whether the built program is older than its sources: Pulumi runs dist/program.js
 * (runtime.options.typescript: false), so an edit needs `npm run build` before `pulumi preview`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Folders whose files `npm run build` turns into dist/. */
const SOURCES = [".", "primitives", "components", "renderers", "stacks", "stacks/settings", "templates"];

/**
 * In a checkout, refuses to run a dist/ older than a source it is built from: an edit followed by
 * `pulumi preview` without `npm run build` would otherwise preview the old code. An installed package
 * (no sources next to dist/) and a run through ts-node are not checked.
 */
export function staleSource(programFile: string): string | undefined {
    const dir = path.dirname(programFile);
    const root = path.dirname(dir);
    if (path.basename(dir) !== "dist" || !fs.existsSync(path.join(root, "program.ts"))) return undefined;
    const built = fs.statSync(programFile).mtimeMs;
    for (const folder of SOURCES) {
        for (const f of fs.readdirSync(path.join(root, folder))) {
            const file = path.join(root, folder, f);
            if (/\.(ts|mustache|sh)$/.test(f) && !f.endsWith(".d.ts") && fs.statSync(file).mtimeMs > built) return path.join(folder, f);
        }
    }
    return undefined;
}
