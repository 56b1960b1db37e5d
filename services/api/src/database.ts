import pg from "pg";
import type { Readiness } from "./app.ts";
import { type Migration, migrationStatus } from "./schema.ts";

/** The minimal logger the pool needs (the runtime's marker logger satisfies it). */
export interface PoolLog {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Opens a connection pool. Timeouts are short on purpose: a probe that waits 30 s for a dead
 * database answers too late to matter. Idle clients that lose their connection emit "error"
 * on the pool; without a listener that would crash the process, so it is logged instead and
 * readiness reports the outage.
 */
export function createPool(connectionString: string | undefined, log: PoolLog): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: "tiers-api",
  });
  pool.on("error", (error) => log.warn("idle database connection lost", { error: error.message }));
  return pool;
}

/**
 * Readiness of the API: the database answers and has every migration this build ships.
 * A build newer than the schema is not ready, because its queries may need the new columns.
 */
export async function databaseReadiness(
  pool: pg.Pool,
  migrations: Migration[],
): Promise<Readiness> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    return {
      ready: false,
      checks: { database: { ok: false, detail: `unreachable: ${(error as Error).message}` } },
    };
  }
  let broken = false;
  try {
    await client.query("SELECT 1");
    const status = await migrationStatus(client, migrations);
    const migrated = status.pending.length === 0;
    return {
      ready: migrated,
      checks: {
        database: { ok: true },
        migrations: migrated
          ? { ok: true, detail: `${status.applied.length} applied` }
          : { ok: false, detail: `pending: ${status.pending.join(", ")}` },
      },
    };
  } catch (error) {
    broken = true;
    return {
      ready: false,
      checks: { database: { ok: false, detail: (error as Error).message } },
    };
  } finally {
    // A client whose query failed may hold a dead socket: destroy it rather than reuse it.
    client.release(broken);
  }
}
