import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

/** Where the SQL migrations live in the repository and in every image of the API. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../db/migrations/", import.meta.url));
/** Where the test-tier fixtures live (present in the development and test images only). */
export const FIXTURES_DIR = fileURLToPath(new URL("../db/fixtures/", import.meta.url));

/**
 * Key of the transaction-scoped advisory lock every migration run takes, so two replicas
 * starting at once apply each migration exactly once. Any constant works; this one spells
 * "tiers" in ASCII so it is recognisable in pg_locks.
 */
export const MIGRATION_LOCK_KEY = 0x7469657273;

/** A migration file `NNN_name.sql`, read and fingerprinted. */
export interface Migration {
  /** Zero-padded number from the file name; migrations apply in this order. */
  version: string;
  /** The descriptive part of the file name. */
  name: string;
  /** File name, for error messages. */
  file: string;
  sql: string;
  /** sha256 of the file, recorded so an edited, already-applied migration is caught. */
  checksum: string;
}

/** What a migration run did. */
export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/** A problem with the migration files or with the database's migration history. */
export class MigrationError extends Error {
  override name = "MigrationError";
}

const MIGRATION_FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/**
 * Reads and orders the migration files of `dir`. A `.sql` file that does not follow the
 * `NNN_name.sql` pattern, or two files with one version, is an error rather than being
 * skipped silently: a skipped migration is a schema that differs between tiers.
 */
export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  const seen = new Map<string, string>();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) {
      throw new MigrationError(
        `${join(dir, file)}: migration file names must look like 001_create_jobs.sql (digits, underscore, lower-case name)`,
      );
    }
    const version = match[1]!;
    const clash = seen.get(version);
    if (clash) {
      throw new MigrationError(
        `${join(dir, file)}: version ${version} is already used by ${clash}; give it the next free number`,
      );
    }
    seen.set(version, file);
    const sql = await readFile(join(dir, file), "utf8");
    migrations.push({
      version,
      name: match[2]!,
      file,
      sql,
      checksum: createHash("sha256").update(sql).digest("hex"),
    });
  }
  return migrations;
}

interface AppliedRow {
  version: string;
  checksum: string;
}

async function appliedMigrations(client: pg.ClientBase): Promise<AppliedRow[] | null> {
  const exists = await client.query<{ present: boolean }>(
    "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present",
  );
  if (!exists.rows[0]?.present) return null;
  const rows = await client.query<AppliedRow>(
    "SELECT version, checksum FROM schema_migrations ORDER BY version",
  );
  return rows.rows;
}

/**
 * Applies every pending migration in one transaction under an advisory lock: either all of
 * them are recorded in `schema_migrations` or none is, and concurrent runs wait for each
 * other instead of racing. Running it again changes nothing.
 */
export async function migrate(
  client: pg.ClientBase,
  migrations: Migration[],
): Promise<MigrationResult> {
  await client.query("BEGIN");
  try {
    // The lock comes first so that even creating the bookkeeping table cannot race.
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    text        PRIMARY KEY,
      name       text        NOT NULL,
      checksum   text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Map(((await appliedMigrations(client)) ?? []).map((r) => [r.version, r]));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      const previous = applied.get(migration.version);
      if (previous) {
        if (previous.checksum !== migration.checksum) {
          throw new MigrationError(
            `${migration.file}: this migration was already applied with different contents; never edit an applied migration, add a new one`,
          );
        }
        result.alreadyApplied.push(migration.file);
        continue;
      }
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw new MigrationError(`${migration.file}: ${(error as Error).message}`);
      }
      await client.query(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        [migration.version, migration.name, migration.checksum],
      );
      result.applied.push(migration.file);
    }
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Which migrations the database has and which it still lacks. */
export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

/** Compares the database's migration history with the files (used by readiness). */
export async function migrationStatus(
  client: pg.ClientBase,
  migrations: Migration[],
): Promise<MigrationStatus> {
  const applied = new Set(((await appliedMigrations(client)) ?? []).map((r) => r.version));
  return {
    applied: migrations.filter((m) => applied.has(m.version)).map((m) => m.file),
    pending: migrations.filter((m) => !applied.has(m.version)).map((m) => m.file),
  };
}

/**
 * Loads every `*.sql` fixture of `dir` in name order, all in one transaction. Fixtures are
 * written to be idempotent (ON CONFLICT DO NOTHING), so loading twice is harmless.
 */
export async function loadFixtures(
  client: pg.ClientBase,
  dir: string = FIXTURES_DIR,
): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  await client.query("BEGIN");
  try {
    for (const file of files) {
      try {
        await client.query(await readFile(join(dir, file), "utf8"));
      } catch (error) {
        throw new MigrationError(`${join(dir, file)}: ${(error as Error).message}`);
      }
    }
    await client.query("COMMIT");
    return files;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
