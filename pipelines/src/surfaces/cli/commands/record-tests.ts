/**
 * `tiers record-tests [--report <file>]`: turns a test tier run's local report
 * (.tiers/reports/test-<id>.json, written by `tiers env test run`) into the record in git that
 * the tests-passed gate reads (releases/tests/<commit>.yaml). The local report is not evidence
 * on its own: it is untracked and per machine; the committed record is what promotion trusts.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { tierOfRuntime } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { describeFigures } from "../../../core/promotion/performance.ts";
import {
  isTestRunReportName,
  parseTestRunReport,
  type TestRunReport,
  testRunReportsDir,
  testRunVerdict,
} from "../../../core/promotion/test-run.ts";
import { recordTestReport } from "../../../engines/host/promotion/records.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

/** Reads a test run report the way `record-tests` does: one schema, every writer's shape. */
export async function readTestRunReport(file: string): Promise<TestRunReport> {
  return parseTestRunReport(await readFile(file, "utf8"), file);
}

async function newestReport(root: string): Promise<string> {
  const dir = join(root, testRunReportsDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter(isTestRunReportName);
  if (names.length === 0) {
    throw new TiersError("no test tier report found", {
      where: dir,
      hint: "run `tiers env test run` first",
    });
  }
  const dated = await Promise.all(
    names.map(async (n) => ({ n, t: (await stat(join(dir, n))).mtimeMs })),
  );
  dated.sort((a, b) => b.t - a.t);
  return join(dir, dated[0]!.n);
}

export const registerRecordTests: RegisterCommand = (program) => {
  program
    .command("record-tests")
    .description(
      "record the test tier's verdict on a commit in git (what the tests-passed gate reads)",
    )
    .option(
      "--report <file>",
      "a report of `tiers env test run` (default: the newest in .tiers/reports/)",
    )
    .addHelpText(
      "after",
      `
The tests-passed gate reads releases/tests/<commit>.yaml from HEAD, so the verdict counts
only once this command has committed it.

Examples:
  $ tiers env test run && tiers record-tests
  $ tiers record-tests --report .tiers/reports/test-<id>.json`,
    )
    .action(async (flags: { report?: string }, cmd: Command) => {
      const cli = contextFrom(cmd);
      const file = flags.report ?? (await newestReport(cli.root));
      const verdict = testRunVerdict(await readTestRunReport(file));
      const { passed, summary } = verdict;
      const commit = await recordTestReport({ root: cli.root, ...verdict });
      const tier = tierOfRuntime(await cli.model(), "ephemeral");
      cli.reporter.info(
        tier,
        `recorded: tests ${passed ? "passed" : "FAILED"} for ${verdict.commit.slice(0, 12)} — ${summary}${verdict.performance ? `; load test of ${verdict.performance.service}: ${describeFigures(verdict.performance)}` : ""} (commit ${commit.slice(0, 12)})`,
        await cli.marker(tier),
      );
    });
};
