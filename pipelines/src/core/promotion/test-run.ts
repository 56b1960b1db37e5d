/**
 * The local report of a test tier run (`.tiers/reports/test-<id>.json`): its one schema, its
 * path, and the verdict `tiers record-tests` turns into a record in git. Both writers (the host
 * test tier and the Dagger module) produce this shape and `record-tests` parses it, so the three
 * cannot drift. The report is not evidence on its own: it is untracked and per machine.
 */

import { TiersError } from "../errors.ts";
import { z } from "../zod.ts";
import { type PerformanceFigures, performanceFiguresSchema } from "./performance.ts";

/** Where reports land, relative to the repository root. */
export const testRunReportsDir = ".tiers/reports";

/** `.tiers/reports/test-<id>.json`, relative to the repository root. */
export function testRunReportPath(id: string): string {
  return `${testRunReportsDir}/test-${id}.json`;
}

/** `.tiers/reports/test-<id>/<service>.log`: one service's log of a run that did not pass. */
export function testRunLogPath(id: string, service: string): string {
  return `${testRunReportsDir}/test-${id}/${service}.log`;
}

/** Whether a file name in the reports folder is a test run report. */
export function isTestRunReportName(name: string): boolean {
  return /^test-.*\.json$/.test(name);
}

const count = z.number().int().nonnegative();

/** A test run's counts and files, as the service's test runner (vitest) printed them. */
export const suiteSummarySchema = z.object({
  passed: count,
  failed: count,
  skipped: count,
  files: z.array(
    z.object({
      file: z.string(),
      /** The vitest project (unit, integration), when the runner names one. */
      project: z.string().optional(),
      outcome: z.enum(["passed", "failed", "skipped"]),
      tests: count,
      failed: count,
      skipped: count,
    }),
  ),
});
export type SuiteSummary = z.infer<typeof suiteSummarySchema>;

/** Outcome of one service's test run. */
export const serviceResultSchema = z.object({
  service: z.string().min(1),
  outcome: z.enum(["passed", "failed", "not-run"]),
  /** The suite's exit code; null when it never ran. Absent when the runner does not tell. */
  exitCode: z.number().int().nullable().optional(),
  durationMs: z.number().nonnegative().optional(),
  /**
   * What the suite reported, read from its output: test counts and each test file, so the
   * report shows which suites really ran (and which were skipped) rather than an exit code only.
   * Absent when the output held no test summary (the runner never started).
   */
  tests: suiteSummarySchema.optional(),
});
export type ServiceResult = z.infer<typeof serviceResultSchema>;

/** Resources a test run's teardown removed, by kind. */
export const cleanResultSchema = z.object({
  containers: z.array(z.string()),
  networks: z.array(z.string()),
  volumes: z.array(z.string()),
});
export type CleanResult = z.infer<typeof cleanResultSchema>;

/**
 * The report. `id`, `commit`, `outcome` and `services` are the verdict every writer gives; the
 * rest says how a host run went (its Compose project, phase times, teardown), which a Dagger run
 * does not have.
 */
export const testRunReportSchema = z.strictObject({
  id: z.string().min(1),
  commit: z.string().regex(/^[0-9a-f]{40}$/, "a 40-hex git commit SHA the images were built from"),
  outcome: z.enum(["passed", "failed", "interrupted", "error"]),
  services: z.array(serviceResultSchema),
  composeProject: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /**
   * Wall time of each phase (ms): image builds, environment setup, tests, the load test after
   * them (absent in reports older than it, or where no load test is configured), teardown.
   */
  durations: z
    .object({
      build: count,
      setup: count,
      tests: count,
      loadTest: count.optional(),
      teardown: count,
      total: count,
    })
    .optional(),
  /**
   * What teardown removed, and anything it could not. `kept`: a failed run was left running on
   * request (`--keep-on-failure`) for a person to inspect, so nothing was removed yet.
   */
  teardown: z
    .object({
      removed: cleanResultSchema,
      leftovers: z.array(z.string()),
      kept: z.boolean().optional(),
    })
    .optional(),
  /**
   * The full logs of every service of a run that did not pass, one file each (relative to the
   * repository root), kept because the streamed output and the error only show a tail.
   */
  logs: z
    .array(
      z.object({
        service: z.string().min(1),
        file: z.string().min(1),
        /** Bytes the service logged. */
        bytes: count,
        /** True when the file holds only the start and end of the log (see the note in it). */
        truncated: z.boolean(),
      }),
    )
    .optional(),
  error: z.string().optional(),
  /**
   * The load test run after the suites passed (`tests.performance`): its figures, or why it
   * could not measure. Absent when the tier declares no load test or the suites failed.
   */
  performance: z
    .union([performanceFiguresSchema, z.strictObject({ error: z.string().min(1) })])
    .optional(),
});
export type TestRunReport = z.infer<typeof testRunReportSchema>;

/** Serialises a report the way every writer stores it. */
export function renderTestRunReport(report: TestRunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Parses a report; a problem names the file and the field, and nothing is recorded. */
export function parseTestRunReport(text: string, where: string): TestRunReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TiersError(`the test report is not valid JSON: ${(error as Error).message}`, {
      where,
      hint: "run the test tier again (`tiers env test run`); reports are written by tiers only",
    });
  }
  const result = testRunReportSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new TiersError(`the test report is malformed: ${problems}`, {
      where,
      hint: "run the test tier on committed, built images (`tiers build`, then `tiers env test run`)",
    });
  }
  return result.data;
}

/** What `tiers record-tests` commits for a report: passed or not, and a one-line summary. */
export function testRunVerdict(report: TestRunReport): {
  commit: string;
  passed: boolean;
  summary: string;
  performance?: PerformanceFigures;
} {
  const services = report.services.map((s) => `${s.service} ${s.outcome}`).join(", ");
  const figures =
    report.performance && !("error" in report.performance) ? report.performance : undefined;
  return {
    commit: report.commit,
    passed: report.outcome === "passed",
    summary: `${services} (run ${report.id})`,
    // A load test that could not measure records nothing: the performance gate then fails closed.
    ...(figures ? { performance: figures } : {}),
  };
}
