/**
 * The test run report: the one shape both writers (host test tier, Dagger module) produce and
 * `tiers record-tests` parses. Bad input is refused naming the file and the field.
 */
import { describe, expect, it } from "vitest";
import { TiersError } from "../../../../pipelines/src/core/errors.ts";
import {
  isTestRunReportName,
  parseTestRunReport,
  renderTestRunReport,
  type TestRunReport,
  testRunReportPath,
  testRunVerdict,
} from "../../../../pipelines/src/core/promotion/test-run.ts";

const commit = "a".repeat(40);

const hostRun: TestRunReport = {
  id: "run1",
  composeProject: "shop-test-run1",
  commit,
  startedAt: "2026-12-01T00:00:00.000Z",
  finishedAt: "2026-12-01T00:01:00.000Z",
  outcome: "failed",
  durations: { build: 1, setup: 2, tests: 3, teardown: 4, total: 10 },
  services: [
    { service: "one", outcome: "failed", exitCode: 1, durationMs: 3 },
    { service: "two", outcome: "not-run", exitCode: null, durationMs: 0 },
  ],
  teardown: { removed: { containers: [], networks: [], volumes: [] }, leftovers: [] },
};

describe("the test run report", () => {
  it("lives at .tiers/reports/test-<id>.json, and only such names are reports", () => {
    expect(testRunReportPath("run1")).toBe(".tiers/reports/test-run1.json");
    expect(isTestRunReportName("test-run1.json")).toBe(true);
    expect(isTestRunReportName("notes.json")).toBe(false);
  });

  it("reads back what a host run writes, and its verdict is what record-tests commits", () => {
    const parsed = parseTestRunReport(renderTestRunReport(hostRun), "r.json");
    expect(parsed).toEqual(hostRun);
    expect(testRunVerdict(parsed)).toEqual({
      commit,
      passed: false,
      summary: "one failed, two not-run (run run1)",
    });
  });

  it("refuses a report without the commit the images were built from, naming the file", () => {
    const text = JSON.stringify({ ...hostRun, commit: "" });
    expect(() => parseTestRunReport(text, ".tiers/reports/test-run1.json")).toThrow(
      expect.objectContaining({
        where: ".tiers/reports/test-run1.json",
        message: expect.stringMatching(/^the test report is malformed: commit: /),
      }),
    );
  });

  it("refuses an unknown outcome and a field no writer writes", () => {
    expect(() => parseTestRunReport(JSON.stringify({ ...hostRun, outcome: "ok" }), "r")).toThrow(
      /outcome/,
    );
    expect(() => parseTestRunReport(JSON.stringify({ ...hostRun, verdict: "x" }), "r")).toThrow(
      /verdict/,
    );
  });

  it("refuses text that is not JSON", () => {
    expect(() => parseTestRunReport("{", "r.json")).toThrow(TiersError);
  });
});
