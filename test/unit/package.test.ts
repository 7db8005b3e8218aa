/**
 * The npm package as `npm pack` makes it from the built dist/ (`npm run build` first; `npm test` and
 * `npm run test:unit` do): what the tarball holds, that every `exports` target exists, and that the
 * published types import only packages a consumer gets installed with registry-kit.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
let files: string[] = [];

/** Every file below `dir`, relative to ROOT. */
function walk(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = path.join(dir, e.name);
        return e.isDirectory() ? walk(rel) : [rel];
    });
}

/** The bare module specifiers a declaration file imports (`x` in `from "x"` and `import("x")`). */
export function importedPackages(dts: string): string[] {
    const specs = [...dts.matchAll(/(?:from\s+|import\()\s*["']([^"']+)["']/g), ...dts.matchAll(/reference types="([^"]+)"/g)].map((m) => m[1]);
    return specs.filter((s) => !s.startsWith(".")).map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]));
}

beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, "dist", "index.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
    files = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
});

describe("the tarball", () => {
    it("holds the built package, its templates, the licence and the changelog", () => {
        for (const f of ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "dist/index.js", "dist/index.d.ts", "dist/program.js"]) {
            expect(files, f).toContain(f);
        }
        // Every file, in subfolders too (templates/catalog/: the catalog page).
        const templates = (fs.readdirSync(path.join(ROOT, "templates"), { recursive: true }) as string[]).filter((t) =>
            fs.statSync(path.join(ROOT, "templates", t)).isFile(),
        );
        expect(templates).toContain(path.join("catalog", "catalog.js"));
        for (const t of templates) expect(files, t).toContain(`dist/templates/${t.split(path.sep).join("/")}`);
    });

    it("holds no tests, benchmarks, CI, sources or local state", () => {
        const bad = files.filter(
            (f) =>
                /^(test|bench|\.ci|docs|primitives|stacks|components|renderers|offline|bin|rendered|node_modules)\//.test(f) ||
                /(^|\/)[^/]*\.ts$/.test(f.replace(/\.d\.ts$/, "")) ||
                f.startsWith("dist/test/"),
        );
        expect(bad).toEqual([]);
    });

    it("has every exports target, types included, and is publishable", () => {
        expect(pkg.private).toBeUndefined();
        for (const [sub, target] of Object.entries<Record<string, string> | string>(pkg.exports)) {
            const targets = typeof target === "string" ? [target] : Object.values(target);
            for (const t of targets) expect(files, `${sub} → ${t}`).toContain(t.replace(/^\.\//, ""));
        }
        expect(files).toContain(pkg.types);
        expect(files).toContain(pkg.main);
        expect(files).toContain(pkg.bin["registry-kit-render"]);
        for (const [sub, [target]] of Object.entries<string[]>(pkg.typesVersions["*"])) expect(pkg.exports[`./${sub}`].types).toBe(`./${target}`);
    });
});

describe("the published types", () => {
    it("import only the package's dependencies (never a devDependency)", () => {
        const dts = walk("dist").filter((f) => f.endsWith(".d.ts"));
        expect(dts.length).toBeGreaterThan(20);
        const used = new Set(dts.flatMap((f) => importedPackages(fs.readFileSync(path.join(ROOT, f), "utf8"))));
        expect(used).toContain("@pulumi/pulumi");
        const missing = [...used].filter((p) => !(p in pkg.dependencies) && !p.startsWith("node:"));
        expect(missing).toEqual([]);
    });

    it("finds the imports a declaration file can have", () => {
        expect(
            importedPackages(
                `import * as a from "@pulumi/aws/s3";\nexport declare const x: import("zod").ZodType;\n/// <reference types="node" />\nimport { y } from "./local";`,
            ),
        ).toEqual(["@pulumi/aws", "zod", "node"]);
    });
});

describe("the built CommonJS", () => {
    it("declares no local named exports, module or require (it would hide CommonJS's own, which tsc's output reads)", () => {
        const offenders = walk("dist")
            .filter((f) => f.endsWith(".js"))
            .flatMap((f) =>
                fs
                    .readFileSync(path.join(ROOT, f), "utf8")
                    .split("\n")
                    .map((line, i) => ({ f, i, line }))
                    .filter(({ line }) => /\b(?:const|let|var|function)\s+(?:exports|module|require)\b/.test(line)),
            )
            .map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`);
        expect(offenders).toEqual([]);
    });
});

describe("the Pulumi project", () => {
    const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

    it("runs the built program without ts-node and pins no backend", () => {
        expect(project.runtime.options.typescript).toBe(false);
        expect(project.main).toBe("dist/program.js");
        expect(fs.existsSync(path.join(ROOT, project.main))).toBe(true);
        expect(project.backend).toBeUndefined();
    });
});
