import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type ApiDeps, createApiHandler, type Readiness, routeOf } from "../../src/app.ts";

/** A fake `jobs` table: just enough SQL understanding to serve the handler's two queries. */
function fakeDb() {
  const rows = new Map<string, Record<string, unknown>>();
  const queries: string[] = [];
  return {
    rows,
    queries,
    query: async (sql: string, params: unknown[] = []) => {
      queries.push(sql);
      if (sql.startsWith("INSERT INTO jobs")) {
        const now = new Date("2026-01-01T00:00:00Z");
        const row = {
          id: "11111111-2222-4333-8444-555555555555",
          kind: params[0],
          status: "queued",
          attempts: 0,
          max_attempts: params[2],
          result: null,
          last_error: null,
          created_at: now,
          updated_at: now,
        };
        rows.set(row.id, row);
        return { rows: [row] };
      }
      if (sql.startsWith("SELECT")) {
        const row = rows.get(params[0] as string);
        return { rows: row ? [row] : [] };
      }
      throw new Error(`unexpected query: ${sql}`);
    },
  };
}

let server: Server | undefined;
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

async function serve(overrides: Partial<ApiDeps> = {}) {
  const errors: string[] = [];
  const db = fakeDb();
  const deps: ApiDeps = {
    db: db as unknown as ApiDeps["db"],
    version: { service: "api", tier: "test", gitSha: "abc123", imageDigest: null },
    readiness: async () => ({ ready: true, checks: { database: { ok: true } } }),
    log: { error: (message) => errors.push(message) },
    ...overrides,
  };
  server = createServer(createApiHandler(deps));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, db, errors };
}

describe("api handler", () => {
  it("answers liveness without touching the database", async () => {
    const { base, db } = await serve();
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(db.queries).toEqual([]);
  });

  it("reports not ready with the failing checks as 503", async () => {
    const report: Readiness = {
      ready: false,
      checks: { database: { ok: false, detail: "unreachable: ECONNREFUSED" } },
    };
    const { base } = await serve({ readiness: async () => report });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual(report);
  });

  it("reports not ready while shutting down, without asking the database", async () => {
    let asked = false;
    const { base } = await serve({
      isShuttingDown: () => true,
      readiness: async () => {
        asked = true;
        return { ready: true, checks: {} };
      },
    });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(asked).toBe(false);
  });

  it("returns tier, git SHA and image digest on /version", async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const { base } = await serve({
      version: { service: "api", tier: "staging", gitSha: "deadbeef", imageDigest: digest },
    });
    expect(await (await fetch(`${base}/version`)).json()).toEqual({
      service: "api",
      tier: "staging",
      gitSha: "deadbeef",
      imageDigest: digest,
    });
  });

  it("enqueues a valid job with 202 and a Location, then shows it", async () => {
    const { base } = await serve();
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "wordcount", payload: "one two" }),
    });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string; status: string; maxAttempts: number };
    expect(job.status).toBe("queued");
    expect(job.maxAttempts).toBe(3);
    expect(res.headers.get("location")).toBe(`/jobs/${job.id}`);
    const shown = await fetch(`${base}/jobs/${job.id}`);
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { id: string }).id).toBe(job.id);
  });

  it("rejects an invalid job with every problem listed and writes nothing", async () => {
    const { base, db } = await serve();
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "resize", payload: 3, colour: "red" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { problems: string[] };
    expect(body.problems).toHaveLength(3);
    expect(body.problems.join("\n")).toMatch(/unknown field "colour"/);
    expect(db.queries).toEqual([]);
  });

  it("rejects non-JSON bodies with 415 and malformed JSON with 400", async () => {
    const { base } = await serve();
    const plain = await fetch(`${base}/jobs`, { method: "POST", body: "hello" });
    expect(plain.status).toBe(415);
    const broken = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(broken.status).toBe(400);
  });

  it("answers 400 for a malformed id and 404 for an unknown one", async () => {
    const { base, db } = await serve();
    expect((await fetch(`${base}/jobs/not-a-uuid`)).status).toBe(400);
    expect((await fetch(`${base}/jobs/%E0%A4%A`)).status).toBe(400);
    expect(db.queries).toEqual([]);
    expect((await fetch(`${base}/jobs/99999999-2222-4333-8444-555555555555`)).status).toBe(404);
  });

  it("answers 405 for a wrong method and 404 for an unknown route", async () => {
    const { base } = await serve();
    expect((await fetch(`${base}/jobs`)).status).toBe(405);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });

  it("hides internal errors from the caller but logs them", async () => {
    const { base, errors } = await serve({
      db: {
        query: async () => {
          throw new Error("connection terminated unexpectedly");
        },
      } as unknown as ApiDeps["db"],
    });
    const res = await fetch(`${base}/jobs/11111111-2222-4333-8444-555555555555`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toMatch(/terminated/);
    expect(errors).toEqual(["request failed"]);
  });
});

describe("api metrics", () => {
  it("counts requests by route template and status, and jobs by kind", async () => {
    const { base } = await serve();
    await fetch(`${base}/healthz`);
    await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "wordcount", payload: "a" }),
    });
    await fetch(`${base}/jobs/99999999-2222-4333-8444-555555555555`);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain(
      'tiers_http_requests_total{method="GET",route="/healthz",status="200"} 1',
    );
    expect(text).toContain(
      'tiers_http_requests_total{method="GET",route="/jobs/:id",status="404"} 1',
    );
    expect(text).toContain('tiers_jobs_enqueued_total{kind="wordcount"} 1');
    expect(text).toContain("# TYPE tiers_http_requests_total counter");
  });

  it("maps paths to route templates so job ids do not become series", () => {
    expect(routeOf("/jobs/0000")).toBe("/jobs/:id");
    expect(routeOf("/jobs")).toBe("/jobs");
    expect(routeOf("/admin")).toBe("unmatched");
  });
});

describe("flags change what the api does (environments/base.yaml flags)", () => {
  it("pause_enqueue: POST /jobs answers 503 and enqueues nothing", async () => {
    const { base, db } = await serve({ flags: { pauseEnqueue: true } });
    const res = await fetch(`${base}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "wordcount", payload: "a" }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toMatch(/pause_enqueue/);
    expect(db.queries).toEqual([]);
  });

  it("verbose_errors: a 500 carries the error message only when the flag is on", async () => {
    const failing = {
      readiness: async () => {
        throw new Error("connection refused by 10.0.0.7");
      },
    };
    const off = await serve(failing);
    const quiet = await (await fetch(`${off.base}/readyz`)).json();
    expect(JSON.stringify(quiet)).not.toContain("10.0.0.7");
    server?.close();
    const on = await serve({ ...failing, flags: { verboseErrors: true } });
    const loud = (await (await fetch(`${on.base}/readyz`)).json()) as { error: string };
    expect(loud.error).toBe("connection refused by 10.0.0.7");
  });

  it("serves metrics at the tier's path, and not at all when metrics are off", async () => {
    const moved = await serve({ metricsPath: "/internal/metrics" });
    expect((await fetch(`${moved.base}/internal/metrics`)).status).toBe(200);
    server?.close();
    const off = await serve({ metricsPath: null });
    expect((await fetch(`${off.base}/metrics`)).status).toBe(404);
  });

  it("times requests in a latency histogram by route", async () => {
    const { base } = await serve();
    await fetch(`${base}/healthz`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain("# TYPE tiers_http_request_duration_seconds histogram");
    expect(text).toMatch(
      /tiers_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/,
    );
  });
});

describe("the test-only fault switch", () => {
  it("delays every request by faultDelayMs", async () => {
    const { base } = await serve({ faultDelayMs: 120 });
    const started = performance.now();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });
});
