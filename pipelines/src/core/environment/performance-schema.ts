/**
 * The performance keys of a tier (issue 15): the load test an ephemeral tier runs after its
 * suites pass (`tests.performance`), and the thresholds a promotion judges its figures by
 * (`promotion.criteria.performance`). Kept apart from schema.ts so the load test's bounds and
 * the cross-checks against `services:` sit where they are declared.
 */
import { z } from "../zod.ts";

const urlPath = z.string().regex(/^\//, 'expected an HTTP path starting with "/"');
const serviceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, "expected a lower-case name: letters, digits and '-'");

/** Methods a load-test request may use (autocannon sends any; these are the ones that make sense). */
export const loadTestMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;

/** One request of the load test; connections send them in turn (autocannon's `requests`). */
export const loadTestRequestSchema = z.strictObject({
  method: z.enum(loadTestMethods),
  path: urlPath,
  /** Request body, sent as is (a JSON text for a JSON API). */
  body: z.string().optional(),
  /** The body's content type; required with a body so nothing guesses it. */
  content_type: z.string().min(1).optional(),
});

/**
 * A short, bounded load test against one service of the ephemeral stack. Every number has an
 * upper bound: the load test is a baseline, not a soak, and it must never hold a run up.
 */
export const loadTestSchema = z
  .strictObject({
    /** The service under load (a key of `services:`). */
    service: serviceName,
    /** Which of the service's `ports:` serves HTTP. */
    port: z.string().min(1),
    /**
     * How the service's image starts its server: the test image's CMD runs the suite, so the
     * load test says what to run instead (the production target's CMD, usually).
     */
    command: z.array(z.string().min(1)).min(1),
    /**
     * Extra variables for the server under load only (not the suites), e.g. a service's
     * test-only fault switch. Plain values on the command line: never a secret.
     */
    environment: z
      .record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, "expected an UPPER_CASE name"), z.string())
      .optional(),
    /** Seconds of load at fixed concurrency. */
    duration_seconds: z.number().int().min(1).max(60),
    /** Concurrent connections, each sending the requests in turn. */
    connections: z.number().int().min(1).max(256),
    /** Seconds one request may take before it counts as a timeout (and a failed request). */
    timeout_seconds: z.number().int().min(1).max(30),
    /** Seconds the server may take to answer its liveness path before the load test gives up. */
    startup_timeout_seconds: z.number().int().min(1).max(300).optional(),
    requests: z.array(loadTestRequestSchema).min(1),
  })
  .superRefine((value, ctx) => {
    value.requests.forEach((request, index) => {
      if ((request.body === undefined) !== (request.content_type === undefined)) {
        ctx.addIssue({
          code: "custom",
          path: ["requests", index, request.body === undefined ? "body" : "content_type"],
          message: "body and content_type go together: set both or neither",
        });
      }
    });
  });
export type LoadTestSettings = z.infer<typeof loadTestSchema>;

/** `tests:` of a tier: what its test run does besides each service's own suite. */
export const testsSchema = z.strictObject({
  performance: loadTestSchema.optional(),
});

/**
 * Thresholds the `performance` gate judges a candidate's recorded figures by. Absolute bounds
 * are meant to be generous (machine noise is real); the regression bound compares with the
 * figures of the digest pinned in the tier, measured by the same kind of run (docs/promotion.md).
 */
export const performanceCriteriaSchema = z.strictObject({
  /** Highest acceptable 95th-percentile latency, in milliseconds. */
  p95_ms: z.number().positive(),
  /** Lowest acceptable throughput, in requests per second. */
  min_rps: z.number().positive(),
  /**
   * Largest allowed worsening against the pinned digest's figures, in percent, of p95 latency
   * (up) or throughput (down). Absent: no regression check, absolute bounds only.
   */
  max_regression_pct: z.number().min(0).max(1000).optional(),
});
export type PerformanceCriteria = z.infer<typeof performanceCriteriaSchema>;

/** Problems of a tier's performance keys against the rest of it, each at its field's path. */
export function performanceIssues(tier: {
  runtime: string;
  services: Record<string, { ports: Record<string, number> }>;
  tests?: { performance?: LoadTestSettings | undefined } | undefined;
  promotion: { gates: readonly string[]; criteria?: { performance?: unknown } | undefined };
}): Array<{ path: Array<string | number>; message: string }> {
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  const load = tier.tests?.performance;
  if (load && tier.runtime !== "ephemeral") {
    issues.push({
      path: ["tests", "performance"],
      message: `only an ephemeral tier runs a load test (its test run); this tier's runtime is ${tier.runtime}`,
    });
  }
  if (load) {
    const service = tier.services[load.service];
    if (!service) {
      issues.push({
        path: ["tests", "performance", "service"],
        message: `no service "${load.service}" in services (${Object.keys(tier.services).join(", ")})`,
      });
    } else if (service.ports[load.port] === undefined) {
      issues.push({
        path: ["tests", "performance", "port"],
        message: `service ${load.service} has no port "${load.port}" (${Object.keys(service.ports).join(", ")})`,
      });
    }
  }
  const gated = tier.promotion.gates.includes("performance");
  const criteria = tier.promotion.criteria?.performance !== undefined;
  if (gated && !criteria) {
    issues.push({
      path: ["promotion", "gates"],
      message:
        "the performance gate needs thresholds: set promotion.criteria.performance { p95_ms, min_rps }",
    });
  }
  if (criteria && !gated) {
    issues.push({
      path: ["promotion", "criteria", "performance"],
      message: "performance criteria judge nothing unless promotion.gates lists performance",
    });
  }
  return issues;
}
