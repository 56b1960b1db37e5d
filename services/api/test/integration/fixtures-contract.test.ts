/**
 * The fixture contract of the 🜁 test tier: what compose/compose.test.yaml promises about the
 * SHARED database (DATABASE_URL's own database, not one created per test file) once the API's
 * test container has run `node src/migrate.ts --fixtures`:
 * - the migrations were applied and recorded by the project's runner, so `--status` reports
 *   nothing pending and an API started on it without migrating is ready;
 * - every job the fixture files define is there, row for row as loading them produces;
 * - the API serves those jobs.
 *
 * Only the test tier loads fixtures into a shared database and says so (TIERS_FIXTURES=loaded,
 * set next to the loading command in compose.test.yaml); anywhere else (the host, a bare
 * `docker run` of the test image) the contract has nothing to check and is skipped.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type JobRow, toJobView } from "../../src/jobs.ts";
import { runMigrateCommand } from "../../src/migrate.ts";
import { readMigrations } from "../../src/schema.ts";
import { startApi } from "../../src/service.ts";
import { type MigratedDatabase, migratedDatabase } from "../support/database.ts";

const sharedUrl = process.env.DATABASE_URL?.trim();
const fixturesLoaded =
  process.env.TIERS_TIER === "test" && process.env.TIERS_FIXTURES === "loaded" && !!sharedUrl;

/** Every column a fixture sets (run_after and the lease columns take defaults at load time). */
const FIXTURE_COLUMNS =
  "id, kind, payload, status, attempts, max_attempts, result, last_error, created_at, updated_at";

describe.skipIf(!fixturesLoaded)(
  "fixture contract of the shared test-tier database (test tier only: runs where compose.test.yaml loaded the fixtures and set TIERS_FIXTURES=loaded)",
  () => {
    let shared: pg.Client;
    /** The fixture files loaded into a scratch database: what the shared one must contain. */
    let reference: MigratedDatabase;
    let expected: (JobRow & { payload: string })[];

    beforeAll(async () => {
      shared = new pg.Client({ connectionString: sharedUrl });
      await shared.connect();
      // Same server, a database of its own: the shared database is only ever read here.
      reference = await migratedDatabase({ fixtures: true });
      expected = (await reference.pool.query(`SELECT ${FIXTURE_COLUMNS} FROM jobs ORDER BY id`))
        .rows;
    });
    afterAll(async () => {
      await shared?.end();
      await reference?.close();
    });

    it("was migrated by the project's runner: `migrate.ts --status` reports nothing pending", async () => {
      const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
      let code: number;
      let printed: string;
      try {
        // The tier logs at warn; the applied/pending lines are info.
        code = await runMigrateCommand(["--status"], { ...process.env, TIERS_LOG_LEVEL: "info" });
        printed = out.mock.calls.join(""); // read before mockRestore, which clears the calls
      } finally {
        out.mockRestore();
      }
      expect(code, printed).toBe(0);
      expect(printed).not.toMatch(/pending {2}/);
      // Recorded with the checksums of these files: the runner applied them, not a raw psql.
      const migrations = await readMigrations();
      const recorded = await shared.query(
        "SELECT version, checksum FROM schema_migrations ORDER BY version",
      );
      expect(recorded.rows).toEqual(
        migrations.map((m) => ({ version: m.version, checksum: m.checksum })),
      );
      for (const m of migrations) expect(printed).toContain(`applied  ${m.file}`);
    });

    it("holds every job the fixture files define, exactly as loading them produces", async () => {
      expect(expected.length).toBeGreaterThan(0);
      const { rows } = await shared.query(
        `SELECT ${FIXTURE_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id`,
        [expected.map((row) => row.id)],
      );
      expect(rows).toEqual(expected);
    });

    it("lets an API started on it without migrating turn ready and serve a fixture job", async () => {
      const api = await startApi({
        ...process.env,
        PORT: "0",
        MIGRATE_ON_START: "false",
        TIERS_LOG_LEVEL: "error",
      });
      try {
        const base = `http://127.0.0.1:${api.port}`;
        const ready = await fetch(`${base}/readyz`);
        const readiness = await ready.json();
        expect(ready.status, JSON.stringify(readiness)).toBe(200);
        expect(readiness).toMatchObject({ ready: true, checks: { migrations: { ok: true } } });
        // A finished fixture, so the result column is part of what is served.
        const fixture = expected.find((row) => row.status === "done") ?? expected[0]!;
        const shown = await fetch(`${base}/jobs/${fixture.id}`);
        expect(shown.status).toBe(200);
        expect(await shown.json()).toEqual(toJobView(fixture));
      } finally {
        await api.close();
      }
    });
  },
);
