import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/metrics.ts";

describe("metrics exposition", () => {
  it("renders HELP, TYPE and one line per label set with sorted, escaped labels", () => {
    const metrics = new Metrics();
    metrics.declare("jobs_total", "counter", "Jobs.");
    metrics.inc("jobs_total", { kind: "a", b: 'q"uote' });
    metrics.inc("jobs_total", { b: 'q"uote', kind: "a" }, 2);
    expect(metrics.render()).toBe(
      '# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total{b="q\\"uote",kind="a"} 3\n',
    );
  });

  it("refuses an undeclared metric instead of exposing it without a type", () => {
    expect(() => new Metrics().inc("nope")).toThrow(/nope used before it was declared/);
  });
});
