/**
 * Runs `render` in a process of its own, as a user does: Pulumi's mocks are global to a process, so
 * each render gets a fresh one.
 *
 * `npm test` and `npm run test:unit` build first and set REGISTRY_KIT_TEST_BUILT=1: renders then run
 * the built CLI (dist/bin/render.js, what the package ships), about 1 s faster each than compiling
 * bin/render.ts with tsx. A bare `vitest run`, whose dist may be stale or missing, uses tsx.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..");

/** The command line that runs the render CLI, before its arguments. */
export function renderCommand(): string[] {
    return process.env.REGISTRY_KIT_TEST_BUILT === "1"
        ? [path.join(ROOT, "dist", "bin", "render.js")]
        : [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "bin", "render.ts")];
}

export function renderCli(args: string[]): void {
    execFileSync(process.execPath, [...renderCommand(), ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 120_000,
    });
}
