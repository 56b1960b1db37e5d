import { describe, expect, it } from "vitest";
import { PermanentJobError, type Processor } from "../../src/processors.ts";
import { type Queryable, retryDelayMs } from "../../src/queue.ts";
import { Worker } from "../../src/worker.ts";

interface Call {
  sql: string;
  params: unknown[];
}

/**
 * A database stand-in that hands out `claimed` once and records every statement, so the
 * test reads which outcome the worker wrote (the SQL itself is exercised in integration).
 */
function fakeQueue(claimed: Record<string, unknown> | null, writes = 1) {
  const calls: Call[] = [];
  let handedOut = false;
  const db: Queryable = {
    query: (async (sql: string, params: unknown[] = []) => {
      calls.push({ sql, params });
      if (sql.trimStart().startsWith("UPDATE jobs\n        SET status = 'running'")) {
        if (handedOut || !claimed) return { rows: [], rowCount: 0 };
        handedOut = true;
        return { rows: [claimed], rowCount: 1 };
      }
      return { rows: [], rowCount: writes };
    }) as unknown as Queryable["query"],
  };
  return { db, calls };
}

function job(overrides: Record<string, unknown> = {}) {
  return {
    id: "j1",
    kind: "wordcount",
    payload: "a b",
    attempts: 1,
    max_attempts: 3,
    ...overrides,
  };
}

function worker(db: Queryable, processors: Record<string, Processor> = {}) {
  const logs: string[] = [];
  const log = {
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string) => logs.push(`warn ${m}`),
    error: (m: string) => logs.push(`error ${m}`),
  };
  const instance = new Worker({
    db,
    processors: { wordcount: (p) => ({ words: p.split(" ").length }), ...processors },
    log,
    workerId: "w-test",
    pollIntervalMs: 10,
    leaseSeconds: 30,
    retryBaseMs: 1000,
  });
  return { instance, logs };
}

describe("worker job handling (statements recorded by a stand-in database)", () => {
  it("returns null and writes nothing when the queue is empty", async () => {
    const { db, calls } = fakeQueue(null);
    expect(await worker(db).instance.runOnce()).toBeNull();
    expect(calls).toHaveLength(1);
  });

  it("claims with the worker id and lease, then records the result as done", async () => {
    const { db, calls } = fakeQueue(job());
    const { instance } = worker(db);
    expect(await instance.runOnce()).toBe("done");
    expect(calls[0]?.params).toEqual(["w-test", 30]);
    expect(calls[1]?.sql).toMatch(/status = 'done'/);
    expect(calls[1]?.params).toEqual(["j1", "w-test", 1, JSON.stringify({ words: 2 })]);
    expect(instance.counts.done).toBe(1);
  });

  it("queues a failed attempt again with exponential backoff while attempts remain", async () => {
    const { db, calls } = fakeQueue(job({ attempts: 2 }));
    const { instance } = worker(db, {
      wordcount: () => {
        throw new Error("flaky dependency");
      },
    });
    expect(await instance.runOnce()).toBe("retry");
    expect(calls[1]?.params).toEqual(["j1", "w-test", 2, "queued", "flaky dependency", 2]);
  });

  it("fails the job for good on its last attempt", async () => {
    const { db, calls } = fakeQueue(job({ attempts: 3 }));
    const { instance } = worker(db, {
      wordcount: () => {
        throw new Error("still broken");
      },
    });
    expect(await instance.runOnce()).toBe("failed");
    expect(calls[1]?.params.slice(3, 5)).toEqual(["failed", "still broken"]);
  });

  it("does not spend retries on a permanent error", async () => {
    const { db, calls } = fakeQueue(job({ attempts: 1 }));
    const { instance } = worker(db, {
      wordcount: () => {
        throw new PermanentJobError("payload is not text");
      },
    });
    expect(await instance.runOnce()).toBe("failed");
    expect(calls[1]?.params[3]).toBe("failed");
  });

  it("fails a job whose previous worker died on the last attempt instead of running it again", async () => {
    let ran = false;
    const { db, calls } = fakeQueue(job({ attempts: 4, max_attempts: 3 }));
    const { instance } = worker(db, {
      wordcount: () => {
        ran = true;
        return {};
      },
    });
    expect(await instance.runOnce()).toBe("failed");
    expect(ran).toBe(false);
    expect(String(calls[1]?.params[4])).toMatch(/abandoned/);
  });

  it("reports a lost lease when its fenced write matches no row", async () => {
    const { db } = fakeQueue(job(), 0);
    const { instance, logs } = worker(db);
    expect(await instance.runOnce()).toBe("lease-lost");
    expect(logs.join("\n")).toMatch(/lease expired/);
  });

  it("keeps polling after a database error and stops promptly when asked", async () => {
    let polls = 0;
    const db: Queryable = {
      query: (async () => {
        polls += 1;
        throw new Error("connect ECONNREFUSED");
      }) as unknown as Queryable["query"],
    };
    const { instance, logs } = worker(db);
    instance.start();
    await new Promise((r) => setTimeout(r, 60));
    const started = Date.now();
    await instance.stop();
    expect(Date.now() - started).toBeLessThan(50);
    expect(polls).toBeGreaterThan(1);
    expect(logs).toEqual(["error claiming or recording a job failed"]); // once per outage
    expect(instance.running).toBe(false);
  });
});

describe("retry delay", () => {
  it("doubles per attempt from the base and caps at one minute", () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, 500))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(30, 1000)).toBe(60_000);
  });
});
