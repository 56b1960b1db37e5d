/** The load test and performance criteria in tier files: accepted, and refused where written. */
import { describe, expect, it } from "vitest";
import { validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import { asSources, edit, fixtureFiles, locate } from "./fixtures.ts";

// The fixture repository's tiers (test/fixtures/repo), not the shipped sample.
const files = fixtureFiles;
const validate = (f: Record<string, string>) => validateSources(asSources(f));

function loadTest(service = "api", port = "http", extra = ""): string {
  return `tests:
  performance:
    service: ${service}
    port: ${port}
    command: [node, src/server.ts]
    duration_seconds: 3
    connections: 4
    timeout_seconds: 5
    requests:
      - { method: GET, path: /healthz }${extra}
`;
}

function withPerformance(options: { load?: string; gate?: boolean; criteria?: string } = {}) {
  const f = files();
  f["test.yaml"] += options.load ?? loadTest();
  const gates = options.gate === false ? "" : ", performance";
  f["staging.yaml"] = edit(
    f["staging.yaml"]!,
    "  gates: [passage, signature, not-rejected, no-dev-image, approvals]\n",
    `  gates: [passage, signature, not-rejected, no-dev-image, approvals${gates}]\n${options.criteria ?? "  criteria:\n    performance: { p95_ms: 250, min_rps: 50, max_regression_pct: 50 }\n"}`,
  );
  return f;
}

describe("performance settings of a tier", () => {
  it("a load test and criteria validate and reach the model", () => {
    const result = validate(withPerformance());
    expect(result.problems).toEqual([]);
    expect(result.model!.tiers.test!.tests?.performance).toMatchObject({
      service: "api",
      connections: 4,
    });
    expect(result.model!.tiers.staging!.promotion.criteria?.performance).toEqual({
      p95_ms: 250,
      min_rps: 50,
      max_regression_pct: 50,
    });
  });

  it("a load test of an unknown service or port is refused at that field", () => {
    const f = withPerformance({ load: loadTest("nosuch") });
    const at = locate(f["test.yaml"]!, "service: nosuch", "nosuch");
    expect(validate(f).problems).toContainEqual(
      expect.objectContaining({
        file: "environments/test.yaml",
        path: "tests.performance.service",
        ...at,
      }),
    );
    const port = validate(withPerformance({ load: loadTest("api", "grpc") })).problems;
    expect(port).toContainEqual(
      expect.objectContaining({
        path: "tests.performance.port",
        message: expect.stringMatching(/no port "grpc" \(http, debug\)/),
      }),
    );
  });

  it("a body without its content type, and an unbounded duration, are refused", () => {
    const f = withPerformance({
      load: loadTest("api", "http", "\n      - { method: POST, path: /jobs, body: '{}' }"),
    });
    expect(validate(f).problems).toContainEqual(
      expect.objectContaining({ path: "tests.performance.requests[1].content_type" }),
    );
    const long = withPerformance({
      load: loadTest().replace("duration_seconds: 3", "duration_seconds: 600"),
    });
    expect(validate(long).problems).toContainEqual(
      expect.objectContaining({ path: "tests.performance.duration_seconds" }),
    );
  });

  it("the gate and its criteria go together", () => {
    const noCriteria = validate(withPerformance({ criteria: "" })).problems;
    expect(noCriteria).toContainEqual(
      expect.objectContaining({
        path: "promotion.gates",
        message: expect.stringMatching(/performance gate needs thresholds/),
      }),
    );
    const noGate = validate(withPerformance({ gate: false })).problems;
    expect(noGate).toContainEqual(
      expect.objectContaining({
        path: "promotion.criteria.performance",
        message: expect.stringMatching(/unless promotion.gates lists performance/),
      }),
    );
  });

  it("only an ephemeral tier runs a load test", () => {
    const f = withPerformance();
    f["staging.yaml"] += loadTest();
    expect(validate(f).problems).toContainEqual(
      expect.objectContaining({
        file: "environments/staging.yaml",
        path: "tests.performance",
        message: expect.stringMatching(/only an ephemeral tier/),
      }),
    );
  });
});
