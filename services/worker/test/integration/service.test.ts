import { describe, expect, it } from "vitest";
import { startApi } from "../../../api/src/service.ts";
import { freePort } from "../../../api/test/support/postgres.ts";
import { postgresSuite } from "../../../api/test/support/postgres-suite.ts";
import { checksum, wordcount } from "../../src/processors.ts";
import { startWorker } from "../../src/service.ts";

// Both real services, side by side, against a real PostgreSQL: a job posted to the API is
// claimed by the worker and shown done by the API. DATABASE_URL's server or a throwaway one.
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

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("api and worker together on a real PostgreSQL", () => {
  it("enqueues through the API, processes in the worker, and shows the result through the API", async () => {
    const url = await freshDatabaseUrl();
    const api = await startApi({ ...testTier, DATABASE_URL: url, MIGRATE_ON_START: "true" });
    postgres.defer(() => api.close());
    const worker = await startWorker({
      ...testTier,
      DATABASE_URL: url,
      WORKER_POLL_INTERVAL_MS: "20",
    });
    postgres.defer(() => worker.close());
    const apiBase = `http://127.0.0.1:${api.port}`;
    const workerBase = `http://127.0.0.1:${worker.port}`;

    expect((await fetch(`${workerBase}/readyz`)).status).toBe(200);
    expect((await fetch(`${workerBase}/healthz`)).status).toBe(200);

    const payloads = { wordcount: "three little words", checksum: "promote the digest" };
    const ids: Record<string, string> = {};
    for (const [kind, payload] of Object.entries(payloads)) {
      const res = await fetch(`${apiBase}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind, payload }),
      });
      expect(res.status).toBe(202);
      ids[kind] = ((await res.json()) as { id: string }).id;
    }
    const shown = async (id: string) =>
      waitFor(async () => {
        const job = (await (await fetch(`${apiBase}/jobs/${id}`)).json()) as {
          status: string;
          result: unknown;
        };
        return job.status === "done" || job.status === "failed" ? job : undefined;
      }, `job ${id} to finish`);
    expect(await shown(ids.wordcount!)).toMatchObject({
      status: "done",
      result: wordcount(payloads.wordcount),
    });
    expect(await shown(ids.checksum!)).toMatchObject({
      status: "done",
      result: checksum(payloads.checksum),
    });
    expect(worker.worker.counts.done).toBe(2);
    const metrics = await (await fetch(`${workerBase}/metrics`)).text();
    expect(metrics).toContain('tiers_jobs_processed_total{outcome="done"} 2');
    const apiMetrics = await (await fetch(`${apiBase}/metrics`)).text();
    expect(apiMetrics).toContain('tiers_jobs_enqueued_total{kind="checksum"} 1');
  });

  it("scrapes show the queue's depth while jobs wait, and a lease that expired under a slow job", async () => {
    // The series the tiers' alerts and dashboards read (pipelines/src/core/observability/
    // kubernetes.ts metricNames), scraped over HTTP from both real workers. In the test tier this
    // runs inside the worker's test container against the tier's PostgreSQL.
    const url = await freshDatabaseUrl();
    const api = await startApi({ ...testTier, DATABASE_URL: url, MIGRATE_ON_START: "true" });
    postgres.defer(() => api.close());
    const apiBase = `http://127.0.0.1:${api.port}`;
    const post = async (kind: string, payload: string) => {
      const res = await fetch(`${apiBase}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind, payload }),
      });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const sample = (text: string, series: string) =>
      Number(new RegExp(`^${series} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);

    // A slow worker with a one-second lease holds its first job until released.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => {};
    const inHand = new Promise<void>((resolve) => (started = resolve));
    const slow = await startWorker(
      {
        ...testTier,
        DATABASE_URL: url,
        WORKER_ID: "slow",
        WORKER_POLL_INTERVAL_MS: "20",
        WORKER_LEASE_SECONDS: "1",
      },
      {
        processors: {
          wordcount: async (payload) => {
            started();
            await gate;
            return wordcount(payload);
          },
          checksum,
        },
      },
    );
    postgres.defer(() => slow.close());
    const held = await post("wordcount", "held past its lease");
    await inHand;
    const waiting = [await post("checksum", "waits"), await post("checksum", "waits too")];
    // Busy with the first job, the slow worker leaves the other two waiting.
    expect(
      sample(await scrape(slow.port), "tiers_worker_queue_depth"),
      "two jobs queued behind the held one",
    ).toBeGreaterThanOrEqual(2);
    expect(sample(await scrape(slow.port), "tiers_worker_lease_expiries_total")).toBe(0);

    // A second worker takes the queue, and the held job once its lease has expired.
    const fast = await startWorker({
      ...testTier,
      DATABASE_URL: url,
      WORKER_ID: "fast",
      WORKER_POLL_INTERVAL_MS: "20",
    });
    postgres.defer(() => fast.close());
    // All three done by the second worker before the slow one is released, so the slow one
    // finds nothing left to claim afterwards.
    for (const id of [held, ...waiting]) {
      await waitFor(async () => {
        const job = (await (await fetch(`${apiBase}/jobs/${id}`)).json()) as { status: string };
        return job.status === "done" ? job : undefined;
      }, `job ${id} to be finished by the second worker`);
    }
    // The slow worker finishes late: its result is refused, counted as a lease expiry.
    release();
    await waitFor(
      async () => (slow.worker.counts["lease-lost"] > 0 ? true : undefined),
      "the slow worker to find its lease lost",
    );
    const late = await scrape(slow.port);
    expect(sample(late, "tiers_worker_lease_expiries_total")).toBe(1);
    expect(late).toMatch(/^# TYPE tiers_worker_lease_expiries_total counter$/m);
    const drained = await scrape(fast.port);
    expect(sample(drained, "tiers_worker_queue_depth")).toBe(0);
    expect(sample(drained, 'tiers_jobs_processed_total\\{outcome="done"\\}')).toBe(3);
    expect(sample(drained, "tiers_worker_lease_expiries_total")).toBe(0);
  });

  it("reports not ready until the API's migrations created the schema", async () => {
    const url = await freshDatabaseUrl();
    const lines: string[] = [];
    const worker = await startWorker(
      { ...testTier, DATABASE_URL: url },
      { write: (line) => lines.push(line) },
    );
    postgres.defer(() => worker.close());
    const res = await fetch(`http://127.0.0.1:${worker.port}/readyz`);
    expect(res.status).toBe(503);
    expect(JSON.stringify(await res.json())).toMatch(/migrations have not run/);
  });

  it("stays alive and reports not ready while the database is unreachable, logging it once", async () => {
    const port = await freePort();
    const lines: string[] = [];
    const worker = await startWorker(
      {
        ...testTier,
        DATABASE_URL: `postgresql://nobody@127.0.0.1:${port}/none`,
        WORKER_POLL_INTERVAL_MS: "20",
      },
      { write: (line) => lines.push(line) },
    );
    postgres.defer(() => worker.close());
    const base = `http://127.0.0.1:${worker.port}`;
    await new Promise((r) => setTimeout(r, 100)); // a few failed polls
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/unreachable/);
    const failures = lines.filter((l) => l.includes("claiming or recording a job failed"));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^🜁 .*ECONNREFUSED/);
  });

  it("finishes the job in hand, then stops claiming, on close()", async () => {
    const url = await freshDatabaseUrl();
    const api = await startApi({ ...testTier, DATABASE_URL: url, MIGRATE_ON_START: "true" });
    postgres.defer(() => api.close());
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = () => {};
    const inHand = new Promise<void>((resolve) => (started = resolve));
    const worker = await startWorker(
      { ...testTier, DATABASE_URL: url, WORKER_POLL_INTERVAL_MS: "20" },
      {
        processors: {
          wordcount: async (payload) => {
            started();
            await gate;
            return wordcount(payload);
          },
          checksum,
        },
      },
    );
    const base = `http://127.0.0.1:${api.port}`;
    const post = (payload: string) =>
      fetch(`${base}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "wordcount", payload }),
      }).then(async (r) => ((await r.json()) as { id: string }).id);
    const first = await post("slow job");
    await inHand;
    const second = await post("never claimed");
    const closing = worker.close();
    release();
    await closing;
    const status = async (id: string) =>
      ((await (await fetch(`${base}/jobs/${id}`)).json()) as { status: string }).status;
    expect(await status(first)).toBe("done");
    expect(await status(second)).toBe("queued");
  });
});
