/**
 * `tiers record-tests [--report <file>]`: turns a test tier run's local report
 * (.tiers/reports/test-<id>.json, written by `tiers env test run`) into the record in git that
 * the tests-passed gate reads (releases/tests/<commit>.yaml). The local report is not evidence
 * on its own: it is untracked and per machine; the committed record is what promotion trusts.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { loadModel, tierOfRuntime } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { recordTestReport } from "../../../engines/host/promotion/records.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";
import { markerOf } from "./plan.ts";

interface LocalReport {
  id?: string;
  commit?: string;
  outcome?: string;
  services?: Array<{ service: string; outcome: string }>;
}

async function newestReport(root: string): Promise<string> {
  const dir = join(root, ".tiers", "reports");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
    /^test-.*\.json$/.test(n),
  );
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
      const report = JSON.parse(await readFile(file, "utf8")) as LocalReport;
      if (!report.commit || !/^[0-9a-f]{40}$/.test(report.commit)) {
        throw new TiersError("the report names no commit the images were built from", {
          where: file,
          hint: "run the test tier on committed, built images (`tiers build`, then `tiers env test run`)",
        });
      }
      const passed = report.outcome === "passed";
      const summary = `${(report.services ?? []).map((s) => `${s.service} ${s.outcome}`).join(", ")} (run ${report.id ?? "?"})`;
      const commit = await recordTestReport({
        root: cli.root,
        commit: report.commit,
        passed,
        summary,
      });
      const tier = tierOfRuntime(await loadModel(cli.root), "ephemeral");
      cli.reporter.info(
        tier,
        `recorded: tests ${passed ? "passed" : "FAILED"} for ${report.commit.slice(0, 12)} — ${summary} (commit ${commit.slice(0, 12)})`,
        await markerOf(cli.root, tier),
      );
    });
};
