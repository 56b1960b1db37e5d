import { defineConfig } from "vitest/config";

// Two projects: `unit` is pure and parallel; `integration` drives the real Docker engine,
// registry, git, kubectl and terraform, so it runs files one at a time to keep 2 cores calm.
export default defineConfig({
  test: {
    reporters: ["default", "./test/reporters/summary.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "services/*/test/unit/**/*.test.ts"],
          // A hang guard, not a speed target: some unit tests run a TypeScript compiler
          // (the erasable-syntax check, Dagger's introspector), which takes seconds on a
          // loaded 2-core machine. Speed is measured by bench/, never by test timeouts.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "services/*/test/integration/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
