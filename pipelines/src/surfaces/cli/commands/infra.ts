/**
 * `tiers infra plan|apply --env <tier>`: the infrastructure stage (engines/host/infra.ts).
 * plan saves .tiers/infra/<tier>.tfplan and its summary and prints it with the tier's budget;
 * apply applies that saved plan only (same commit, approvals gate, no protected removal).
 */
import type { Command } from "commander";
import { TiersError, UsageError } from "../../../core/errors.ts";
import { applyInfra, planInfra } from "../../../engines/host/infra.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

async function options(flags: { env?: string }, cmd: Command) {
  const cli = contextFrom(cmd);
  if (!flags.env)
    throw new UsageError("missing --env <tier>", { hint: "e.g. tiers infra plan --env staging" });
  const model = await cli.model();
  return { cli, opts: { root: cli.root, tier: flags.env, model, reporter: cli.reporter } };
}

export const registerInfra: RegisterCommand = (program) => {
  const infra = program
    .command("infra")
    .description("plan or apply a tier's infrastructure (terraform/, the tier's own state)")
    .addHelpText(
      "after",
      `
Examples:
  $ tiers infra plan --env staging     plan, save and record; prints the summary and budget
  $ tiers infra apply --env staging    apply that saved plan once the approvals gate passes`,
    );
  infra
    .command("plan")
    .description(
      "plan terraform/live with <tier>.tfvars; save the plan and its summary under .tiers/infra/",
    )
    .option("--env <tier>", "tier whose infrastructure to plan (a tier with `infra` in its config)")
    .addHelpText(
      "after",
      `
Inits with the tier's state backend (environments/<tier>.yaml infra.state: s3 with a lock
table, or local for dev), plans with terraform/live/<tier>.tfvars, and records the run under
releases/infra/<tier>/. Where a provider cannot be downloaded it says which, checks the tier's
values against modules/tier's guard rails, and exits non-zero: nothing was planned.

Example:
  $ tiers infra plan --env prod`,
    )
    .action(async (flags: { env?: string }, cmd: Command) => {
      const { opts } = await options(flags, cmd);
      const result = await planInfra(opts);
      if (result.outcome === "checked-offline") {
        throw new TiersError(
          `infrastructure of ${flags.env} not planned: provider ${result.providers.join(", ")} could not be downloaded`,
          {
            where: "terraform/live",
            hint: "run on a machine with access to the Terraform registry (or a provider mirror); the tier's values passed modules/tier's checks",
          },
        );
      }
    });
  infra
    .command("apply")
    .description(
      "apply the tier's saved plan: same commit, approvals gate passed, no protected resource removed",
    )
    .option("--env <tier>", "tier whose saved plan to apply")
    .action(async (flags: { env?: string }, cmd: Command) => {
      const { opts } = await options(flags, cmd);
      await applyInfra(opts);
    });
};
