import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type PostgresServer, startPostgres } from "./postgres.ts";

/** One test file's PostgreSQL: the server, fresh databases on it, and deferred clean-ups. */
export interface PostgresSuite {
  /** The file's server (available from the first test on). */
  readonly server: PostgresServer;
  /** Runs `cleanup` after the file's tests, before the server stops (last deferred, first run). */
  defer(cleanup: () => Promise<unknown>): void;
  /** A new empty database on the server, dropped after the file; returns its URL. */
  freshDatabaseUrl(): Promise<string>;
}

/**
 * Registers the file's PostgreSQL lifecycle: DATABASE_URL's server, or a throwaway cluster from
 * host binaries, started before the file's tests and stopped after everything the tests
 * deferred (services, pools, databases) has been closed, even when a clean-up fails.
 */
export function postgresSuite(): PostgresSuite {
  let server: PostgresServer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await server?.stop();
  });
  const suite: PostgresSuite = {
    get server() {
      if (!server)
        throw new Error("postgresSuite: the server starts in beforeAll; use it inside tests");
      return server;
    },
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
    freshDatabaseUrl: async () => {
      const db = await createTestDatabase(suite.server);
      cleanups.push(() => db.drop());
      return db.url;
    },
  };
  return suite;
}
