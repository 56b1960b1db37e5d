/**
 * `tiers validate [--json]`: checks every tier file and every policy.
 *
 * Output shape, chosen so editors and CI annotations can jump to each problem:
 * - one line per problem, `<file>:<line>:<col>: <message> [<rule>]`, the file relative to the
 *   repository root; the line starts with the location, never with a marker, because that is
 *   what editors parse;
 * - then one summary line per tier with problems, which starts with that tier's marker;
 * - on success, one line per tier (marker first) saying what runs there.
 * Exit 0 when valid, 1 when there is any problem, 2 on a usage error. `--json` prints the
 * problems as a JSON array of {file, line, column, path, message, rule, tier?} instead.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import type { Command } from "commander";
import type { EnvironmentModel } from "../../../core/environment/model.ts";
import { formatProblem, type Problem } from "../../../core/environment/problems.ts";
import { ExitCode, UsageError } from "../../../core/errors.ts";
import { defaultMarkers, markerFor, pipelineMarker } from "../../../core/markers.ts";
import {
  repositoryCheckCacheFile,
  validateRepositoryKeyed,
} from "../../../engines/host/model-cache.ts";
import { rememberedByReads } from "../../../engines/host/read-trace.ts";
import { hostReader, type RepositoryReader } from "../../../engines/host/repository-reader.ts";
import { type CliContext, contextFrom, type RegisterCommand } from "../context.ts";

export const registerValidate: RegisterCommand = (program) => {
  program
    .command("validate")
    .description(
      "check every tier file against the schema and policies, then the repository against the model",
    )
    .option(
      "--json",
      "print the problems as a JSON array (file, line, column, path, message, rule)",
    )
    .option(
      "--print-schema",
      "print the JSON Schema of an environment file (for editors) instead of validating",
    )
    .addHelpText(
      "after",
      `
Each problem is one line, "<file>:<line>:<col>: <message> [<rule>]", located in the file the
offending value was written in (base.yaml or the tier file), or "<path>: <message> [<rule>]"
for a file the model needs that does not exist. Once the tier files are valid, the repository
is checked against them: an overlay per kubernetes tier pinning every service built here,
compose files per compose or ephemeral tier, each Dockerfile with the targets the tiers build,
tfvars per tier with infrastructure, no overlay, tfvars or CI job of an undeclared tier, the
CI templates' generated tier jobs (\`tiers ci generate --check\`), each signed kubernetes
tier's admission policy (\`tiers admission generate\`), and, for each blue-green tier, no
migration it does not run yet that drops or renames a table or column outside a marked
contract step (docs/k8s.md "Expand then contract"). Exit 0 when valid, 1 when not.

Examples:
  $ tiers validate                     check the repository in the current directory
  $ tiers validate --json | jq length  count problems, e.g. in CI
  $ tiers --root ../other validate     check another checkout
  $ tiers validate --print-schema > docs/environments/tier-file.schema.json
                                       refresh the JSON Schema editors use`,
    )
    .action(async (options: { json?: boolean; printSchema?: boolean }, command: Command) => {
      const context = contextFrom(command);
      if (options.printSchema) {
        const { environmentFileJsonSchema } = await import(
          "../../../core/environment/json-schema.ts"
        );
        context.reporter.raw(environmentFileJsonSchema().trimEnd());
        return;
      }
      if (!existsSync(context.root)) {
        throw new UsageError(`--root ${context.root} does not exist`, {
          hint: "pass the directory of a tiers repository (the one holding environments/)",
        });
      }
      const { result: validated, key } = await validateRepositoryKeyed(context.root);
      const problems = validated.model
        ? await checkAgainstModel(context.root, validated.model, key)
        : validated.problems;
      const model = problems.length === 0 ? validated.model : undefined;
      if (options.json) {
        context.reporter.raw(JSON.stringify(problems, null, 2));
      } else if (model) {
        printSummary(context, model);
      } else {
        printProblems(context, problems);
      }
      if (problems.length > 0) process.exitCode = ExitCode.failure;
    });
};

/**
 * Only a sound model can say what the repository must hold; then the files are checked against
 * it (overlays, compose files, Dockerfiles, tfvars, CI jobs and their drift), and the migrations
 * a blue-green tier has not run yet against expand/contract. A bundled run remembers the answer
 * with what the checks read (engines/host/read-trace.ts), so a repeated validate of an unchanged
 * repository re-reads those files and git answers but loads no YAML or SQL parser.
 */
async function checkAgainstModel(
  root: string,
  model: EnvironmentModel,
  key: string | undefined,
): Promise<Problem[]> {
  const check = async (reader: RepositoryReader) => {
    const [{ checkRepositoryAt }, { checkExpandContractAt }] = await Promise.all([
      import("../repository.ts"),
      import("../expand-contract.ts"),
    ]);
    return [
      ...(await checkRepositoryAt(reader, model)),
      ...(await checkExpandContractAt(reader, model)),
    ];
  };
  if (!key) return check(hostReader(root));
  return rememberedByReads(root, { key, file: repositoryCheckCacheFile(root) }, check);
}

function printProblems(context: CliContext, problems: readonly Problem[]): void {
  const { reporter } = context;
  for (const problem of problems) reporter.raw(formatProblem(problem));
  reporter.raw("");
  const byTier = new Map<string, number>();
  for (const problem of problems) {
    if (problem.tier) byTier.set(problem.tier, (byTier.get(problem.tier) ?? 0) + 1);
  }
  // Known tiers in their usual order first (the chain itself may be what is broken).
  const known = Object.keys(defaultMarkers);
  const rank = (tier: string) => (known.includes(tier) ? known.indexOf(tier) : known.length);
  const tiers = [...byTier].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
  for (const [tier, count] of tiers) {
    reporter.error(tier, `${tier}: ${plural(count, "problem")}`);
  }
  const shared = problems.filter((p) => !p.tier).length;
  if (shared > 0) {
    reporter.error(undefined, `shared by every tier: ${plural(shared, "problem")}`);
  }
  reporter.error(
    undefined,
    `${plural(problems.length, "problem")} in ${where(context)}; fix them and run \`tiers validate\` again`,
  );
}

function printSummary(context: CliContext, model: EnvironmentModel): void {
  const { reporter } = context;
  const rows = model.order.map((name) => {
    const tier = model.tiers[name]!;
    const services = Object.entries(tier.services)
      .map(([service, spec]) =>
        spec.autoscaling.enabled
          ? `${service}×${spec.autoscaling.min}–${spec.autoscaling.max}`
          : `${service}×${spec.replicas}`,
      )
      .join(", ");
    const features = Object.entries(tier.features)
      .filter(([, on]) => on)
      .map(([feature]) => feature)
      .join(", ");
    const { required, source } = tier.approvals;
    const approvals = required > 0 ? `${plural(required, "approval")} (${source})` : "no approvals";
    return {
      tier,
      cells: [name, tier.runtime, tier.deploy.strategy, approvals, `services ${services}`],
      features: `features ${features || "none"}`,
    };
  });
  // Columns line up so tiers can be compared at a glance.
  const widths = rows[0]!.cells.map((_, i) => Math.max(...rows.map((r) => r.cells[i]!.length)));
  for (const row of rows) {
    const line = [...row.cells.map((cell, i) => cell.padEnd(widths[i]!)), row.features].join("  ");
    reporter.info(row.tier.tier, line, markerFor(row.tier.tier, row.tier.marker));
  }
  reporter.info(
    undefined,
    `${reporter.paint("valid", "green")}: project ${model.project}, ${model.order.length} tiers, promotion ${model.order.join(" → ")} (${where(context)})`,
    pipelineMarker,
  );
}

/** The environments directory as the user would type it: relative when below the cwd. */
function where(context: CliContext): string {
  const dir = relative(process.cwd(), join(context.root, "environments"));
  return dir === "" || dir.startsWith("..") || isAbsolute(dir)
    ? `${join(context.root, "environments")}/`
    : `${dir}/`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
