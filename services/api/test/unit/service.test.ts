import { TierError } from "@tiers/runtime";
import { describe, expect, it, vi } from "vitest";
import { runMigrateCommand } from "../../src/migrate.ts";
import { startApi } from "../../src/service.ts";

// Nothing listens on port 1: reaching the database at all would fail differently (and
// slower) than the tier guard, so these tests also prove the guard runs first.
const unreachable = "postgresql://nobody@127.0.0.1:1/none";

describe("api tier guard (no database: the guard must refuse before connecting)", () => {
  it("refuses to start when NODE_ENV contradicts the declared tier", async () => {
    const start = startApi({
      TIERS_TIER: "prod",
      NODE_ENV: "development",
      DATABASE_URL: unreachable,
    });
    await expect(start).rejects.toBeInstanceOf(TierError);
    await expect(
      startApi({ TIERS_TIER: "prod", NODE_ENV: "development", DATABASE_URL: unreachable }),
    ).rejects.toThrow(/NODE_ENV=development contradicts tier prod/);
  });

  it("refuses to start without a declared tier, saying how to set one", async () => {
    await expect(startApi({ DATABASE_URL: unreachable })).rejects.toThrow(/TIERS_TIER is not set/);
  });

  it("refuses a compose tier inside a Kubernetes pod", async () => {
    await expect(
      startApi({
        TIERS_TIER: "dev",
        NODE_ENV: "development",
        KUBERNETES_SERVICE_HOST: "10.0.0.1",
        DATABASE_URL: unreachable,
      }),
    ).rejects.toThrow(/Kubernetes pod/);
  });
});

describe("schema command (no database: refusals happen before connecting)", () => {
  it("refuses to load fixtures into a staging database", async () => {
    const errors = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const code = await runMigrateCommand(["--fixtures"], {
        TIERS_TIER: "staging",
        NODE_ENV: "production",
        DATABASE_URL: unreachable,
      });
      expect(code).toBe(1);
      expect(errors.mock.calls.join("")).toMatch(/fixtures are for the dev and test tiers only/);
    } finally {
      errors.mockRestore();
    }
  });

  it("answers a usage error with exit code 2", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(await runMigrateCommand(["--seed"], { TIERS_TIER: "test", NODE_ENV: "test" })).toBe(2);
      expect(await runMigrateCommand(["--status", "--fixtures"], {})).toBe(2);
    } finally {
      errors.mockRestore();
    }
  });
});
