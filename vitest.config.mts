import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        // Pulumi's mocks are global to a process: every test file runs in a process of its own.
        pool: "forks",
        isolate: true,
        // Two files at a time, also on two CPUs (vitest's default there is one): the end-to-end files
        // spend most of their time waiting on containers, and each has its own names, ports and subnets.
        maxWorkers: 2,
        // A limit against hangs, not a measure: CPU-bound tests take twice as long with two files at a time.
        testTimeout: 120_000,
        hookTimeout: 600_000,
    },
});
