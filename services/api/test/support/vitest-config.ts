import { defineConfig } from "vitest/config";

/**
 * Vitest configuration of a service's test image (`test` target), where the service's own
 * directory is the root. On the host, the repository's vitest.config.ts runs the same files
 * with the same two projects; this one exists so an image needs nothing from the repository
 * root beyond the workspace lock. Used by services/api and services/worker.
 */
export function serviceTestConfig() {
  return defineConfig({
    test: {
      projects: [
        { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
        {
          test: {
            name: "integration",
            include: ["test/integration/**/*.test.ts"],
            // Each file creates its own database, but one at a time keeps small CI runners calm.
            fileParallelism: false,
            testTimeout: 300_000,
            hookTimeout: 300_000,
          },
        },
      ],
    },
  });
}
