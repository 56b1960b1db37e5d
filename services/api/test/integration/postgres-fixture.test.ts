import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startPostgres, sweepStaleClusters } from "../support/postgres.ts";

const external = Boolean(process.env.DATABASE_URL?.trim());

describe.skipIf(external)(
  "throwaway PostgreSQL fixture (host binaries only: with DATABASE_URL no cluster is started)",
  () => {
    it("removes its cluster directory when stopped", async () => {
      const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith("tiers-pg-")));
      const server = await startPostgres();
      const mine = readdirSync(tmpdir()).filter((n) => n.startsWith("tiers-pg-") && !before.has(n));
      expect(mine).toHaveLength(1);
      await server.stop();
      expect(existsSync(join(tmpdir(), mine[0]!))).toBe(false);
    });

    it("sweeps a cluster whose test process died without cleaning up", async () => {
      const before = new Set(readdirSync(tmpdir()).filter((n) => n.startsWith("tiers-pg-")));
      const server = await startPostgres();
      const base = join(
        tmpdir(),
        readdirSync(tmpdir()).find((n) => n.startsWith("tiers-pg-") && !before.has(n))!,
      );
      // Pretend the owner was SIGKILLed: point owner.pid at a process that has exited.
      const gone = spawnSync("true").pid!;
      writeFileSync(join(base, "owner.pid"), String(gone));
      expect(sweepStaleClusters()).toContain(base);
      expect(existsSync(base)).toBe(false);
      const client = new pg.Client({
        connectionString: server.adminUrl,
        connectionTimeoutMillis: 2_000,
      });
      await expect(client.connect()).rejects.toThrow(/ECONNREFUSED/);
      await server.stop(); // already gone: stopping again is harmless
    });
  },
);
