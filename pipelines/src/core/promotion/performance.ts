/**
 * Performance evidence (issue 15): the figures a test run's load test measured, the one schema
 * the local report and the record in git (`releases/tests/<commit>.yaml`) both keep them in, and
 * the `performance` gate's pure verdict on them.
 *
 * The baseline rule: a candidate's figures are compared with those recorded for the commit of
 * the digest pinned in the target tier. When there is no baseline (nothing pinned yet, the
 * pinned digest's record carries no figures, or it measured another service) the regression
 * part says so and only the absolute bounds decide. A baseline that exists but cannot be read,
 * and a candidate without figures, fail the gate: the gates fail closed.
 */

import type { PerformanceCriteria } from "../environment/performance-schema.ts";
import { z } from "../zod.ts";

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();

/** What one load test measured. snake_case: the same object is written into the YAML record. */
export const performanceFiguresSchema = z.strictObject({
  /** The service under load. */
  service: z.string().min(1),
  /** The requests each connection sent in turn, `GET /healthz`. */
  requests: z.array(z.string().min(1)).min(1),
  connections: z.number().int().positive(),
  duration_seconds: z.number().positive(),
  /** Mean requests per second over the per-second samples (autocannon's `requests.average`). */
  requests_per_second: z.number().nonnegative(),
  /** Latency percentiles of every completed response, nearest rank, in milliseconds. */
  latency_ms: z.strictObject({ p50: ms, p95: ms, p99: ms }),
  /** Responses received. */
  total_requests: count,
  /** Connection errors, timeouts and non-2xx answers: a fast error is not performance. */
  failed_requests: count,
});
export type PerformanceFigures = z.infer<typeof performanceFiguresSchema>;

/**
 * The p-th percentile (0 < p ≤ 100) of `samples` by the nearest-rank method: the smallest value
 * with at least p% of the samples at or below it. Undefined for no samples.
 */
export function nearestRank(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * Figures from autocannon's result and the response times its `response` event reported
 * (autocannon's own percentiles have no p95: hdr-histogram-percentiles-obj lists 90 and 97.5).
 */
export function figuresOf(input: {
  service: string;
  requests: readonly string[];
  connections: number;
  durationSeconds: number;
  /** autocannon's result: `requests.average`, `errors`, `timeouts`, `non2xx`. */
  result: { requests: { average: number }; errors: number; timeouts: number; non2xx: number };
  responseTimesMs: readonly number[];
}): PerformanceFigures {
  const round = (n: number) => Math.round(n * 100) / 100;
  const at = (p: number) => round(nearestRank(input.responseTimesMs, p) ?? 0);
  return {
    service: input.service,
    requests: [...input.requests],
    connections: input.connections,
    duration_seconds: input.durationSeconds,
    requests_per_second: round(input.result.requests.average),
    latency_ms: { p50: at(50), p95: at(95), p99: at(99) },
    total_requests: input.responseTimesMs.length,
    failed_requests: input.result.errors + input.result.timeouts + input.result.non2xx,
  };
}

/** `p95 12.3 ms, 850 req/s (p50 3.1, p99 20.2 ms; 4250 requests, 10 connections, 5s)`. */
export function describeFigures(f: PerformanceFigures): string {
  return `p95 ${f.latency_ms.p95} ms, ${f.requests_per_second} req/s (p50 ${f.latency_ms.p50}, p99 ${f.latency_ms.p99} ms; ${f.total_requests} requests, ${f.connections} connections, ${f.duration_seconds}s)`;
}

/** The figures the candidate is compared with, or why there are none. */
export type PerformanceBaseline =
  | { state: "figures"; commit: string; figures: PerformanceFigures }
  /** No baseline: the regression part is skipped and says why. */
  | { state: "none"; why: string }
  /** A baseline record exists but cannot be read: the gate fails closed. */
  | { state: "invalid"; why: string };

/** What the gate knows about the candidate's own figures. */
export type CandidatePerformance =
  | { ok: true; commit: string; figures: PerformanceFigures | undefined }
  | { ok: false; why: string };

function percentChange(from: number, to: number): number {
  return from === 0 ? (to === 0 ? 0 : Number.POSITIVE_INFINITY) : ((to - from) / from) * 100;
}

const pct = (n: number) => `${n >= 0 ? "+" : ""}${Math.round(n * 10) / 10}%`;

/** The `performance` gate's verdict for one candidate service. */
export function performanceVerdict(
  service: string,
  criteria: PerformanceCriteria,
  candidate: CandidatePerformance,
  baseline: PerformanceBaseline,
): { ok: boolean; why: string } {
  if (!candidate.ok) return { ok: false, why: `no performance figures: ${candidate.why}` };
  const figures = candidate.figures;
  if (!figures) {
    return {
      ok: false,
      why: `the test record of ${candidate.commit.slice(0, 12)} has no performance figures; run the test tier (with tests.performance) on that commit and record it`,
    };
  }
  if (figures.service !== service) {
    return {
      ok: true,
      why: `${service} is not load-tested (the test run loads ${figures.service})`,
    };
  }
  const problems: string[] = [];
  const checks: string[] = [];
  if (figures.failed_requests > 0) {
    problems.push(`${figures.failed_requests} of the load test's requests failed`);
  }
  const p95 = figures.latency_ms.p95;
  (p95 > criteria.p95_ms ? problems : checks).push(
    `p95 ${p95} ms ${p95 > criteria.p95_ms ? ">" : "≤"} ${criteria.p95_ms}`,
  );
  const rps = figures.requests_per_second;
  (rps < criteria.min_rps ? problems : checks).push(
    `${rps} req/s ${rps < criteria.min_rps ? "<" : "≥"} ${criteria.min_rps}`,
  );

  let regression: string;
  if (criteria.max_regression_pct === undefined) {
    regression = "no regression bound set";
  } else if (baseline.state === "invalid") {
    problems.push(`the baseline cannot be read: ${baseline.why}`);
    regression = "";
  } else if (baseline.state === "none") {
    regression = `no baseline (${baseline.why}): regression not checked, absolute bounds only`;
  } else if (baseline.figures.service !== service) {
    regression = `no baseline (the pinned commit ${baseline.commit.slice(0, 12)} loaded ${baseline.figures.service}): regression not checked, absolute bounds only`;
  } else {
    const max = criteria.max_regression_pct;
    const base = baseline.figures;
    const latency = percentChange(base.latency_ms.p95, p95);
    const throughput = -percentChange(base.requests_per_second, rps);
    const against = `against ${baseline.commit.slice(0, 12)} (p95 ${base.latency_ms.p95} ms, ${base.requests_per_second} req/s)`;
    const bad: string[] = [];
    if (latency > max) bad.push(`p95 ${pct(latency)}`);
    if (throughput > max) bad.push(`throughput ${pct(-throughput)}`);
    if (bad.length > 0) {
      problems.push(`regressed by more than ${max}% ${against}: ${bad.join(", ")}`);
      regression = "";
    } else {
      regression = `p95 ${pct(latency)}, throughput ${pct(-throughput)} ${against}, within ${max}%`;
    }
  }
  const measured = describeFigures(figures);
  return problems.length > 0
    ? { ok: false, why: `${problems.join("; ")} — measured ${measured}` }
    : {
        ok: true,
        why: `${checks.join(", ")}; ${regression} — measured ${measured}`,
      };
}
