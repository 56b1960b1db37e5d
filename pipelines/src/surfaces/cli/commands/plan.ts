/** `tiers plan --env <tier>`: what a promotion would change and whether its gates pass. Changes nothing. */
import type { Command } from "commander";
import { ExitCode } from "../../../core/errors.ts";
import { planToJson } from "../../../core/promotion/plan.ts";
import { computePlan } from "../../../engines/host/promotion/plan.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";
import { printPlan } from "../print-plan.ts";
import { requestFrom, type SelectionFlags, selectionOptions } from "../selection.ts";

export const registerPlan: RegisterCommand = (program) => {
  const command = program
    .command("plan")
    .description(
      "preview a promotion: digests from → to, the overlay diff, every gate and why; changes nothing",
    )
    .option("--env <tier>", "tier to promote into (staging, prod, …)")
    .option("--json", "print the plan as JSON");
  selectionOptions(command)
    .addHelpText(
      "after",
      `
Exit code: 0 when every gate passes (or nothing would change), 1 when a gate fails.
Without --digest/--commit/--image, the plan takes what waits in the tier below.

Examples:
  $ tiers plan --env staging
  $ tiers plan --env prod --commit 3f2a…  --json
  $ tiers plan --env staging --digest sha256:…  --evidence local`,
    )
    .action(async (flags: SelectionFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      const request = requestFrom(cli, flags, "plan");
      const ctx = await computePlan({ ...request, model: await cli.model() });
      if (flags.json) cli.reporter.raw(JSON.stringify(planToJson(ctx.plan), null, 2));
      else printPlan(cli, ctx.plan, ctx.model.tiers[request.tier]?.marker);
      if (!ctx.plan.ok) process.exitCode = ExitCode.failure;
    });
};
