import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Pulumi's mocks are global to a process: every test file runs in a process of its own.
        pool: "forks",
        isolate: true,
        testTimeout: 60_000,
        hookTimeout: 600_000,
    },
});
