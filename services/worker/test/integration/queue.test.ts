import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enqueueJob, findJob } from "../../../api/src/jobs.ts";
import { loadFixtures } from "../../../api/src/schema.ts";
import { type MigratedDatabase, migratedDatabase } from "../../../api/test/support/database.ts";
import { PROCESSORS, type Processor, wordcount } from "../../src/processors.ts";
import { claimJob, completeJob, jobsTableExists } from "../../src/queue.ts";
import { Worker } from "../../src/worker.ts";

// Against a real PostgreSQL: DATABASE_URL's server, or a throwaway cluster from host binaries.
let env: MigratedDatabase;
beforeAll(async () => {
  env = await migratedDatabase();
});
afterAll(async () => {
  await env?.close();
});
beforeEach(async () => {
  await env.pool.query("TRUNCATE jobs");
});

const quiet = { info() {}, warn() {}, error() {} };

function newWorker(id: string, processors: Record<string, Processor> = PROCESSORS, db = env.pool) {
  return new Worker({
    db,
    processors,
    log: quiet,
    workerId: id,
    pollIntervalMs: 20,
    leaseSeconds: 60,
    retryBaseMs: 0,
  });
}

describe("job queue on a real PostgreSQL", () => {
  it("processes an enqueued job and the API then shows it done with its result", async () => {
    const job = await enqueueJob(env.pool, {
      kind: "wordcount",
      payload: "two words\nand a line",
      maxAttempts: 3,
    });
    expect(await newWorker("w1").runOnce()).toBe("done");
    const shown = await findJob(env.pool, job.id);
    expect(shown).toMatchObject({
      status: "done",
      attempts: 1,
      error: null,
      result: wordcount("two words\nand a line"),
    });
    expect(await newWorker("w1").runOnce()).toBeNull();
  });

  it("skips a row another transaction holds locked instead of waiting or taking it", async () => {
    const first = await enqueueJob(env.pool, { kind: "checksum", payload: "a", maxAttempts: 3 });
    const second = await enqueueJob(env.pool, { kind: "checksum", payload: "b", maxAttempts: 3 });
    const holder = await env.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", [first.id]);
      const claimed = await claimJob(env.pool, "w2", 60);
      expect(claimed?.id).toBe(second.id);
      expect(await claimJob(env.pool, "w3", 60)).toBeNull();
    } finally {
      await holder.query("ROLLBACK");
      holder.release();
    }
  });

  it("never gives one job to two of several concurrent workers", async () => {
    const total = 60;
    for (let i = 0; i < total; i++) {
      await enqueueJob(env.pool, { kind: "wordcount", payload: `job-${i}`, maxAttempts: 1 });
    }
    const seen: string[][] = [];
    const pools: pg.Pool[] = [];
    const runners = Array.from({ length: 4 }, async (_, n) => {
      // Separate pools: separate sessions, as separate worker processes would have.
      const pool = new pg.Pool({ connectionString: env.database.url, max: 2 });
      pools.push(pool);
      const mine: string[] = [];
      seen.push(mine);
      const worker = newWorker(
        `w${n}`,
        {
          wordcount: async (payload) => {
            mine.push(payload);
            await new Promise((r) => setTimeout(r, 1)); // let the workers interleave
            return wordcount(payload);
          },
        },
        pool,
      );
      while ((await worker.runOnce()) !== null) {}
    });
    await Promise.all(runners);
    await Promise.all(pools.map((p) => p.end()));
    const all = seen.flat();
    expect(all).toHaveLength(total);
    expect(new Set(all).size).toBe(total);
    expect(seen.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
    const { rows } = await env.pool.query("SELECT status, count(*)::int AS n FROM jobs GROUP BY 1");
    expect(rows).toEqual([{ status: "done", n: total }]);
  });

  it("retries a failing job and records the last error until it succeeds", async () => {
    const job = await enqueueJob(env.pool, { kind: "wordcount", payload: "x y", maxAttempts: 3 });
    let calls = 0;
    const flaky = newWorker("w-flaky", {
      wordcount: (payload) => {
        calls += 1;
        if (calls === 1) throw new Error("temporary outage");
        return wordcount(payload);
      },
    });
    expect(await flaky.runOnce()).toBe("retry");
    expect(await findJob(env.pool, job.id)).toMatchObject({
      status: "queued",
      attempts: 1,
      error: "temporary outage",
    });
    expect(await flaky.runOnce()).toBe("done");
    expect(await findJob(env.pool, job.id)).toMatchObject({
      status: "done",
      attempts: 2,
      error: null,
    });
  });

  it("marks a job failed once its attempts are spent", async () => {
    const job = await enqueueJob(env.pool, { kind: "checksum", payload: "x", maxAttempts: 2 });
    const broken = newWorker("w-broken", {
      checksum: () => {
        throw new Error("disk full");
      },
    });
    expect(await broken.runOnce()).toBe("retry");
    expect(await broken.runOnce()).toBe("failed");
    expect(await broken.runOnce()).toBeNull();
    expect(await findJob(env.pool, job.id)).toMatchObject({
      status: "failed",
      attempts: 2,
      error: "disk full",
    });
  });

  it("waits for the backoff before retrying", async () => {
    await enqueueJob(env.pool, { kind: "checksum", payload: "x", maxAttempts: 3 });
    const slow = new Worker({
      db: env.pool,
      processors: {
        checksum: () => {
          throw new Error("nope");
        },
      },
      log: quiet,
      workerId: "w-backoff",
      pollIntervalMs: 20,
      leaseSeconds: 60,
      retryBaseMs: 60_000,
    });
    expect(await slow.runOnce()).toBe("retry");
    expect(await slow.runOnce()).toBeNull(); // not due for a minute
  });

  it("hands a job over when its worker's lease expires, and drops the stale worker's late write", async () => {
    const job = await enqueueJob(env.pool, { kind: "wordcount", payload: "late", maxAttempts: 3 });
    const stale = await claimJob(env.pool, "w-stale", 1);
    expect(stale?.id).toBe(job.id);
    expect(await claimJob(env.pool, "w-fresh", 60)).toBeNull(); // lease still held
    await new Promise((r) => setTimeout(r, 1_100));
    const fresh = await claimJob(env.pool, "w-fresh", 60);
    expect(fresh).toMatchObject({ id: job.id, attempts: 2 });
    expect(await completeJob(env.pool, stale!, "w-stale", { words: 99 })).toBe(false);
    expect(await completeJob(env.pool, fresh!, "w-fresh", { words: 1 })).toBe(true);
    expect(await findJob(env.pool, job.id)).toMatchObject({ status: "done", result: { words: 1 } });
  });

  it("agrees with the test-tier fixtures: their results are what the processors compute", async () => {
    const client = await env.pool.connect(); // fixtures load in one transaction: one session
    try {
      await loadFixtures(client);
    } finally {
      client.release();
    }
    const { rows } = await env.pool.query<{ kind: string; payload: string; result: unknown }>(
      "SELECT kind, payload, result FROM jobs WHERE status = 'done'",
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.result).toEqual(PROCESSORS[row.kind]!(row.payload));
    // The queued fixture is real work: a worker finishes it.
    expect(await newWorker("w-fixtures").runOnce()).toBe("done");
    expect(await findJob(env.pool, "00000000-0000-4000-8000-000000000003")).toMatchObject({
      status: "done",
      result: PROCESSORS.checksum!("waiting in the queue"),
    });
  });

  it("finds the schema the API migrates", async () => {
    expect(await jobsTableExists(env.pool)).toBe(true);
  });
});
