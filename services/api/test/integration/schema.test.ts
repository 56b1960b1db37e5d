import pg from "pg";
import { describe, expect, it, vi } from "vitest";
import { runMigrateCommand } from "../../src/migrate.ts";
import {
  loadFixtures,
  MigrationError,
  migrate,
  migrationStatus,
  readMigrations,
} from "../../src/schema.ts";
import { postgresSuite } from "../support/postgres-suite.ts";

// Against a real PostgreSQL: DATABASE_URL's server, or a throwaway cluster from host binaries.
const { freshDatabaseUrl } = postgresSuite();

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function freshClient(): Promise<pg.Client> {
  return connect(await freshDatabaseUrl());
}

describe("migrations on a real PostgreSQL", () => {
  it("applies every migration once, records it, and changes nothing when run again", async () => {
    const client = await freshClient();
    try {
      const migrations = await readMigrations();
      expect((await migrationStatus(client, migrations)).pending).toHaveLength(migrations.length);
      const first = await migrate(client, migrations);
      expect(first.applied).toEqual(migrations.map((m) => m.file));
      const second = await migrate(client, migrations);
      expect(second).toEqual({ applied: [], alreadyApplied: first.applied });
      const recorded = await client.query("SELECT version, checksum FROM schema_migrations");
      expect(recorded.rows).toEqual(
        migrations.map((m) => ({ version: m.version, checksum: m.checksum })),
      );
      expect((await migrationStatus(client, migrations)).pending).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("applies concurrently started runs exactly once (advisory lock)", async () => {
    const url = await freshDatabaseUrl();
    const first = await connect(url);
    const second = await connect(url);
    try {
      const migrations = await readMigrations();
      const results = await Promise.all([migrate(first, migrations), migrate(second, migrations)]);
      const appliedTotal = results.flatMap((r) => r.applied);
      expect(appliedTotal).toEqual(migrations.map((m) => m.file));
    } finally {
      await first.end();
      await second.end();
    }
  });

  it("rolls back every migration of a run when one fails, and names the file", async () => {
    const client = await freshClient();
    try {
      const good = await readMigrations();
      const broken = [
        ...good,
        { version: "999", name: "broken", file: "999_broken.sql", sql: "SELEC 1", checksum: "x" },
      ];
      await expect(migrate(client, broken)).rejects.toThrow(/999_broken\.sql: syntax error/);
      const tables = await client.query(
        "SELECT to_regclass('public.jobs') AS jobs, to_regclass('public.schema_migrations') AS history",
      );
      expect(tables.rows[0]).toEqual({ jobs: null, history: null });
    } finally {
      await client.end();
    }
  });

  it("refuses to continue when an applied migration was edited afterwards", async () => {
    const client = await freshClient();
    try {
      const migrations = await readMigrations();
      await migrate(client, migrations);
      const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: "edited" } : m));
      await expect(migrate(client, edited)).rejects.toThrow(MigrationError);
      await expect(migrate(client, edited)).rejects.toThrow(/never edit an applied migration/);
    } finally {
      await client.end();
    }
  });

  it("loads the test-tier fixtures idempotently", async () => {
    const client = await freshClient();
    try {
      await migrate(client, await readMigrations());
      await loadFixtures(client);
      await loadFixtures(client);
      const { rows } = await client.query<{ status: string; n: string }>(
        "SELECT status, count(*) AS n FROM jobs GROUP BY status ORDER BY status",
      );
      expect(rows).toEqual([
        { status: "done", n: "1" },
        { status: "failed", n: "1" },
        { status: "queued", n: "1" },
      ]);
    } finally {
      await client.end();
    }
  });
});

describe("schema command (node src/migrate.ts) on a real PostgreSQL", () => {
  it("reports pending migrations, applies them, then loads fixtures in the test tier", async () => {
    const url = await freshDatabaseUrl();
    const env = { TIERS_TIER: "test", NODE_ENV: "test", DATABASE_URL: url };
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await runMigrateCommand(["--status"], env)).toBe(1);
      expect(out.mock.calls.join("")).toMatch(/pending {2}001_create_jobs\.sql/);
      expect(await runMigrateCommand([], env)).toBe(0);
      expect(await runMigrateCommand(["--status"], env)).toBe(0);
      expect(await runMigrateCommand(["--fixtures"], env)).toBe(0);
      expect(out.mock.calls.join("")).toMatch(/^🜁 .*fixtures loaded: 001_jobs\.sql/m);
    } finally {
      out.mockRestore();
    }
    const client = await connect(url);
    try {
      const { rows } = await client.query("SELECT count(*)::int AS n FROM jobs");
      expect(rows[0].n).toBe(3);
    } finally {
      await client.end();
    }
  });
});
