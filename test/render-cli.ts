/**
 * Runs `render` (bin/render.ts) in a process of its own, as a user does: Pulumi's mocks are global to
 * a process, so each render gets a fresh one.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..");

export function renderCli(args: string[]): void {
    execFileSync(process.execPath, [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "bin", "render.ts"), ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 120_000,
    });
}
