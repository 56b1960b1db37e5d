/**
 * The performance gate's rule on fixed figures: absolute bounds, regression against the
 * pinned digest's figures, no baseline (absolute bounds only, said so), and failing closed.
 */
import { describe, expect, it } from "vitest";
import {
  type CandidatePerformance,
  figuresOf,
  nearestRank,
  type PerformanceFigures,
  performanceVerdict,
} from "../../../../pipelines/src/core/promotion/performance.ts";
import { testReportSchema } from "../../../../pipelines/src/core/promotion/records.ts";
import {
  parseTestRunReport,
  testRunVerdict,
} from "../../../../pipelines/src/core/promotion/test-run.ts";

const criteria = { p95_ms: 100, min_rps: 50, max_regression_pct: 25 };
const commit = "a".repeat(40);
const baseCommit = "b".repeat(40);

function figures(p95: number, rps: number, extra: Partial<PerformanceFigures> = {}) {
  return {
    service: "svc",
    requests: ["GET /live"],
    connections: 4,
    duration_seconds: 3,
    requests_per_second: rps,
    latency_ms: { p50: p95 / 2, p95, p99: p95 * 2 },
    total_requests: rps * 3,
    failed_requests: 0,
    ...extra,
  } satisfies PerformanceFigures;
}
const measured = (f: PerformanceFigures): CandidatePerformance => ({
  ok: true,
  commit,
  figures: f,
});
const baseline = (f: PerformanceFigures) => ({
  state: "figures" as const,
  commit: baseCommit,
  figures: f,
});
const none = { state: "none" as const, why: "nothing is pinned in stage yet for svc" };

describe("nearestRank", () => {
  it("is the smallest sample with at least p% at or below it", () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(nearestRank(samples, 50)).toBe(50);
    expect(nearestRank(samples, 95)).toBe(95);
    expect(nearestRank(samples, 99)).toBe(99);
    expect(nearestRank([7], 95)).toBe(7);
    expect(nearestRank([], 95)).toBeUndefined();
  });

  it("figures count every response time and add errors, timeouts and non-2xx as failed", () => {
    const f = figuresOf({
      service: "svc",
      requests: ["GET /live"],
      connections: 2,
      durationSeconds: 1,
      result: { requests: { average: 40.456 }, errors: 1, timeouts: 2, non2xx: 3 },
      responseTimesMs: [1, 2, 3, 4],
    });
    expect(f).toMatchObject({
      requests_per_second: 40.46,
      latency_ms: { p50: 2, p95: 4, p99: 4 },
      total_requests: 4,
      failed_requests: 6,
    });
  });
});

describe("performanceVerdict", () => {
  it("passes within the bounds and the regression limit, and shows the figures", () => {
    const v = performanceVerdict(
      "svc",
      criteria,
      measured(figures(40, 200)),
      baseline(figures(35, 210)),
    );
    expect(v.ok).toBe(true);
    expect(v.why).toMatch(/p95 40 ms ≤ 100, 200 req\/s ≥ 50/);
    expect(v.why).toMatch(/p95 \+14\.3%, throughput -4\.8% against bbbbbbbbbbbb/);
  });

  it("fails a p95 above the bound or a throughput below it", () => {
    expect(performanceVerdict("svc", criteria, measured(figures(150, 200)), none)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/^p95 150 ms > 100/),
    });
    expect(performanceVerdict("svc", criteria, measured(figures(40, 20)), none)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/20 req\/s < 50/),
    });
  });

  it("fails a regression beyond max_regression_pct even within the absolute bounds", () => {
    const latency = performanceVerdict(
      "svc",
      criteria,
      measured(figures(60, 200)),
      baseline(figures(40, 200)),
    );
    expect(latency).toMatchObject({
      ok: false,
      why: expect.stringMatching(/regressed by more than 25% .*p95 \+50%/),
    });
    const throughput = performanceVerdict(
      "svc",
      criteria,
      measured(figures(40, 100)),
      baseline(figures(40, 200)),
    );
    expect(throughput).toMatchObject({ ok: false, why: expect.stringMatching(/throughput -50%/) });
  });

  it("without a baseline says so and judges the absolute bounds only", () => {
    const v = performanceVerdict("svc", criteria, measured(figures(90, 60)), none);
    expect(v.ok).toBe(true);
    expect(v.why).toMatch(
      /no baseline \(nothing is pinned in stage yet for svc\): regression not checked, absolute bounds only/,
    );
  });

  it("fails closed: no figures, an unreadable record, an unreadable baseline, failed requests", () => {
    expect(
      performanceVerdict("svc", criteria, { ok: true, commit, figures: undefined }, none),
    ).toMatchObject({
      ok: false,
      why: expect.stringMatching(/has no performance figures/),
    });
    expect(
      performanceVerdict("svc", criteria, { ok: false, why: "record is malformed" }, none).ok,
    ).toBe(false);
    expect(
      performanceVerdict("svc", criteria, measured(figures(40, 200)), {
        state: "invalid",
        why: "x.yaml:3:1: bad",
      }),
    ).toMatchObject({
      ok: false,
      why: expect.stringMatching(/baseline cannot be read: x\.yaml:3:1/),
    });
    expect(
      performanceVerdict("svc", criteria, measured(figures(40, 200, { failed_requests: 3 })), none),
    ).toMatchObject({
      ok: false,
      why: expect.stringMatching(/3 of the load test's requests failed/),
    });
  });

  it("passes a service the test run does not load, naming the one it does", () => {
    const v = performanceVerdict("other", criteria, measured(figures(40, 200)), none);
    expect(v).toEqual({ ok: true, why: "other is not load-tested (the test run loads svc)" });
  });
});

describe("test records", () => {
  it("stay readable without figures (written before the load test existed)", () => {
    const old = {
      kind: "test-report",
      commit,
      passed: true,
      summary: "svc passed",
      recorded_by: "ci",
      recorded_at: "2026-01-01T00:00:00Z",
    };
    expect(testReportSchema.parse(old).performance).toBeUndefined();
    expect(
      testReportSchema.parse({ ...old, performance: figures(1, 2) }).performance?.latency_ms.p95,
    ).toBe(1);
    expect(testReportSchema.safeParse({ ...old, performance: { p95: 1 } }).success).toBe(false);
  });
});

describe("test run reports", () => {
  const report = {
    id: "r1",
    commit,
    outcome: "passed",
    services: [{ service: "svc", outcome: "passed" }],
  };
  it("carry the figures into the verdict record-tests commits", () => {
    const parsed = parseTestRunReport(
      JSON.stringify({ ...report, performance: figures(3, 9) }),
      "r1.json",
    );
    expect(testRunVerdict(parsed).performance?.latency_ms.p95).toBe(3);
  });

  it("a load test that could not measure records no figures (the gate then fails closed)", () => {
    const parsed = parseTestRunReport(
      JSON.stringify({ ...report, performance: { error: "no answer" } }),
      "r1.json",
    );
    expect(testRunVerdict(parsed)).not.toHaveProperty("performance");
    expect(() =>
      parseTestRunReport(JSON.stringify({ ...report, performance: { p95: 1 } }), "r1.json"),
    ).toThrow(/the test report is malformed: performance/);
  });
});
