import pg from "pg";
import { describe, expect, it } from "vitest";
import { type ApiService, startApi } from "../../src/service.ts";
import { freePort } from "../support/postgres.ts";
import { postgresSuite } from "../support/postgres-suite.ts";

// The whole API (tier guard, config, pool, migrations at start, HTTP) against a real
// PostgreSQL: DATABASE_URL's server, or a throwaway cluster from host binaries.
const postgres = postgresSuite();
const { freshDatabaseUrl } = postgres;

// The pipeline sets every flag the tier declares (environments/base.yaml flags); so do these.
const testTier = {
  TIERS_TIER: "test",
  NODE_ENV: "test",
  TIERS_LOG_LEVEL: "error",
  PORT: "0",
  TIERS_FLAG_PAUSE_ENQUEUE: "false",
  TIERS_FLAG_VERBOSE_ERRORS: "false",
};

async function api(env: Record<string, string>): Promise<{ api: ApiService; base: string }> {
  const started = await startApi({ ...testTier, ...env });
  postgres.defer(() => started.close());
  return { api: started, base: `http://127.0.0.1:${started.port}` };
}

describe("api service on a real PostgreSQL", () => {
  it("migrates at start, turns ready, reports its build and serves jobs", async () => {
    const digest = `sha256:${"b".repeat(64)}`;
    const { base } = await api({
      DATABASE_URL: await freshDatabaseUrl(),
      MIGRATE_ON_START: "true",
      TIERS_GIT_SHA: "c0ffee",
      TIERS_IMAGE_DIGEST: digest,
    });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { migrations: { ok: true } } });
    expect(await (await fetch(`${base}/version`)).json()).toEqual({
      service: "api",
      tier: "test",
      gitSha: "c0ffee",
      imageDigest: digest,
    });
    const posted = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "checksum", payload: "hello" }),
    });
    expect(posted.status).toBe(202);
    const location = posted.headers.get("location")!;
    const shown = await fetch(`${base}${location}`);
    expect(await shown.json()).toMatchObject({ status: "queued", kind: "checksum", attempts: 0 });
  });

  it("a tier's flag values change what it does: TIERS_FLAG_PAUSE_ENQUEUE=true refuses new jobs", async () => {
    // The variable the pipeline derives from the tier's flags (environments/*.yaml flags →
    // core/observability/runtime-environment.ts flagEnvironment), read by @tiers/runtime flagsOf.
    const url = await freshDatabaseUrl();
    const post = (base: string) =>
      fetch(`${base}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "checksum", payload: "flagged" }),
      });
    const paused = await api({
      DATABASE_URL: url,
      MIGRATE_ON_START: "true",
      TIERS_FLAG_PAUSE_ENQUEUE: "true",
    });
    const refused = await post(paused.base);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toMatch(/pause_enqueue/);
    const open = await api({ DATABASE_URL: url });
    expect((await post(open.base)).status).toBe(202);
    // Nothing was enqueued while paused: the one job is the second service's.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      expect((await db.query("SELECT count(*)::int AS n FROM jobs")).rows[0].n).toBe(1);
    } finally {
      await db.end();
    }
  });

  it("refuses to start on a flag value that is not true or false, naming the variable", async () => {
    await expect(
      startApi({
        ...testTier,
        DATABASE_URL: await freshDatabaseUrl(),
        TIERS_FLAG_PAUSE_ENQUEUE: "yes",
      }),
    ).rejects.toThrow(/TIERS_FLAG_PAUSE_ENQUEUE/);
  });

  it("is alive but not ready while migrations are pending, naming them", async () => {
    const { base } = await api({ DATABASE_URL: await freshDatabaseUrl() });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/pending: 001_create_jobs\.sql/);
  });

  it("is alive but not ready when the database is unreachable", async () => {
    const port = await freePort(); // nothing listens there
    const { base } = await api({ DATABASE_URL: `postgresql://nobody@127.0.0.1:${port}/none` });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, checks: { database: { ok: false } } });
  });

  it("refuses to start when the start-up migration cannot reach the database", async () => {
    const port = await freePort();
    await expect(
      startApi({
        ...testTier,
        DATABASE_URL: `postgresql://nobody@127.0.0.1:${port}/none`,
        MIGRATE_ON_START: "true",
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it("lets a request in flight finish during a graceful shutdown", async () => {
    const url = await freshDatabaseUrl();
    const { api: running, base } = await api({ DATABASE_URL: url, MIGRATE_ON_START: "true" });
    // Hold the jobs table so the INSERT of POST /jobs blocks: a request provably in flight.
    const blocker = new pg.Client({ connectionString: url });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE");
      const inFlight = fetch(`${base}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "checksum", payload: "in flight" }),
      });
      await new Promise((r) => setTimeout(r, 200));
      const closing = running.close();
      let closed = false;
      void closing.then(() => (closed = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(closed).toBe(false); // still waiting for the request
      await blocker.query("COMMIT");
      const released = Date.now();
      expect((await inFlight).status).toBe(202);
      await closing;
      // Closed as soon as the response is out, not after the 5 s keep-alive timeout.
      expect(Date.now() - released).toBeLessThan(1_000);
      expect(running.server.listening).toBe(false);
    } finally {
      await blocker.end();
    }
  });

  it("stops accepting connections and closes its pool on close()", async () => {
    const { api: running, base } = await api({
      DATABASE_URL: await freshDatabaseUrl(),
      MIGRATE_ON_START: "true",
    });
    await running.close();
    expect(running.server.listening).toBe(false);
    expect(running.pool.ending).toBe(true);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});

describe.skipIf(Boolean(process.env.DATABASE_URL?.trim()))(
  "api readiness across a database outage (throwaway cluster only: DATABASE_URL's server cannot be stopped)",
  () => {
    it("turns not ready while the database is stopped and ready again once it is back", async () => {
      const { base } = await api({
        DATABASE_URL: await freshDatabaseUrl(),
        MIGRATE_ON_START: "true",
      });
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await postgres.server.pause();
      try {
        const down = await fetch(`${base}/readyz`);
        expect(down.status).toBe(503);
        expect((await fetch(`${base}/healthz`)).status).toBe(200);
      } finally {
        await postgres.server.resume();
      }
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    });
  },
);
