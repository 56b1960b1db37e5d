/**
 * `tiers ci generate [--check]`: writes the per-tier blocks of the CI templates from the
 * promotion chain (core/ci/tier-jobs.ts); `--check` writes nothing and exits 1 on drift.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { formatProblem } from "../../../core/environment/index.ts";
import { ExitCode } from "../../../core/errors.ts";
import { pipelineMarker } from "../../../core/markers.ts";
import { atomicWrite } from "../../../engines/host/atomic-write.ts";
import { hostReader } from "../../../engines/host/repository-reader.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";
import { generateCi } from "../repository.ts";

export const registerCi: RegisterCommand = (program) => {
  const ci = program
    .command("ci")
    .description("CI templates generated from the tier model")
    .addHelpText(
      "after",
      `
Examples:
  $ tiers ci generate           rewrite the tier jobs of release.yml and .gitlab-ci.yml
  $ tiers ci generate --check   exit 1 when they drifted from environments/*.yaml`,
    );
  ci.command("generate")
    .description(
      "write the per-tier jobs of .github/workflows/release.yml and .gitlab-ci.yml from the promotion chain",
    )
    .option("--check", "write nothing; report every generated block that differs (exit 1)")
    .addHelpText(
      "after",
      `
Only the lines between "# >>> tiers ci generate: <block>" and "# <<< tiers ci generate: <block>"
are rewritten; everything outside the blocks stays as written. Protected environments are
named after the tiers; each job says how many reviewers its tier's approvals ask for.

Examples:
  $ tiers ci generate                   after adding, removing or reordering a tier
  $ tiers ci generate --check           in CI (tiers validate runs it too)
  $ tiers --root ../other ci generate   another checkout`,
    )
    .action(async (options: { check?: boolean }, command: Command) => {
      const cli = contextFrom(command);
      const { root, reporter } = cli;
      const model = await cli.model();
      const result = await generateCi(hostReader(root), model, {
        check: options.check === true,
        write: (file, text) => atomicWrite(join(root, file), text),
      });
      for (const problem of result.problems) reporter.raw(formatProblem(problem));
      if (result.problems.length > 0) {
        process.exitCode = ExitCode.failure;
        return;
      }
      const verb = options.check ? "up to date" : "unchanged";
      if (result.changed.length === 0) {
        reporter.info(undefined, `CI templates ${verb}`, pipelineMarker);
      }
      for (const file of result.changed) reporter.info(undefined, `wrote ${file}`, pipelineMarker);
    });
};
