import pg from "pg";
import { loadFixtures, migrate, readMigrations } from "../../src/schema.ts";
import {
  createTestDatabase,
  type PostgresServer,
  startPostgres,
  type TestDatabase,
} from "./postgres.ts";

/** A migrated database for one test file, with a pool on it. */
export interface MigratedDatabase {
  server: PostgresServer;
  database: TestDatabase;
  pool: pg.Pool;
  /** Closes the pool, drops the database and stops a throwaway server. */
  close(): Promise<void>;
}

/**
 * Starts (or borrows, via DATABASE_URL) a PostgreSQL server, creates a fresh database on it
 * and applies the API's migrations, and the test-tier fixtures when asked.
 */
export async function migratedDatabase(
  options: { fixtures?: boolean } = {},
): Promise<MigratedDatabase> {
  const server = await startPostgres();
  let database: TestDatabase | undefined;
  try {
    database = await createTestDatabase(server);
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    pool.on("error", () => {}); // idle clients dying with a paused server are expected here
    const client = await pool.connect();
    try {
      await migrate(client, await readMigrations());
      if (options.fixtures) await loadFixtures(client);
    } finally {
      client.release();
    }
    const db = database;
    return {
      server,
      database: db,
      pool,
      close: async () => {
        await pool.end();
        await db.drop().catch(() => {});
        await server.stop();
      },
    };
  } catch (error) {
    await database?.drop().catch(() => {});
    await server.stop();
    throw error;
  }
}
