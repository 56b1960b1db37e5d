/**
 * `tiers promote --env <tier>`: plan, refuse on any failing gate, else pin the digest in the
 * tier's overlay, record the passage and the promotion in one git commit, then deploy.
 */
import type { Command } from "commander";
import { firstLine, TiersError } from "../../../core/errors.ts";
import { gateLine } from "../../../core/promotion/gates.ts";
import { failingGates } from "../../../core/promotion/plan.ts";
import { computePlan } from "../../../engines/host/promotion/plan.ts";
import {
  GateFailure,
  type PromoteOutcome,
  promote,
} from "../../../engines/host/promotion/promote.ts";
import { type CliContext, contextFrom, type RegisterCommand } from "../context.ts";
import { cliDeployer } from "../deployer.ts";
import { printPlan } from "../print-plan.ts";
import { confirm } from "../prompt.ts";
import { requestFrom, type SelectionFlags, selectionOptions } from "../selection.ts";

/** Flags of promote (and bless). */
export interface PromoteFlags extends SelectionFlags {
  yes?: boolean;
  deploy?: boolean;
  kubeconfig?: string;
}

/** Prints what a promotion did, every line led by the tier's marker. */
export function printOutcome(
  cli: CliContext,
  tier: string,
  marker: string | undefined,
  outcome: PromoteOutcome,
) {
  const say = (text: string) => cli.reporter.info(tier, text, marker);
  if (!outcome.changed) {
    say(
      `already pinned: ${outcome.plan.changes.map((c) => `${c.service}@${c.to.slice(0, 19)}`).join(", ")} — nothing changed, no commit`,
    );
    return;
  }
  for (const c of outcome.plan.changes.filter((x) => x.from !== x.to)) {
    say(`pinned ${c.service}: ${c.from ?? "(nothing)"} → ${c.to}`);
  }
  say(`recorded the passage and the promotion in commit ${outcome.commit?.slice(0, 12)}`);
  if (outcome.deploy) say(`deploy ${outcome.deploy.outcome}: ${outcome.deploy.detail}`);
}

/** Runs a promotion as the CLI does: optional confirmation, then promote. */
export async function runPromotion(
  cli: CliContext,
  flags: PromoteFlags,
  mode: "ask" | "go",
  commandName: string,
): Promise<void> {
  const request = requestFrom(cli, flags, commandName);
  const model = await cli.model();
  const marker = model.tiers[request.tier]?.marker;
  let expectedHead: string | undefined;
  if (mode === "ask") {
    const ctx = await computePlan({ ...request, model });
    printPlan(cli, ctx.plan, marker);
    if (!ctx.plan.ok || ctx.plan.unchanged) {
      if (ctx.plan.unchanged && ctx.plan.ok) {
        cli.reporter.info(request.tier, "already pinned — nothing changed, no commit", marker);
        return;
      }
    } else if (!(await confirm(`${marker ?? ""} promote into ${request.tier}?`))) {
      throw new TiersError("not confirmed; nothing was changed", { hint: "answer y to promote" });
    }
    expectedHead = ctx.head;
  }
  const outcome = await promote({
    ...request,
    model,
    ...(expectedHead ? { expectedHead } : {}),
    deploy: flags.deploy === false ? "skip" : "auto",
    deployer: cliDeployer(cli, flags.kubeconfig),
    reporter: cli.reporter,
  }).catch((error: unknown) => {
    if (!(error instanceof GateFailure)) throw error;
    // Every failing gate on its own marker-led line, then one summary error.
    for (const g of failingGates(error.plan)) {
      cli.reporter.error(request.tier, gateLine(g).text, marker);
    }
    throw new TiersError(firstLine(error), {
      where: error.where,
      hint: error.hint,
    });
  });
  printOutcome(cli, request.tier, marker, outcome);
}

export const registerPromote: RegisterCommand = (program) => {
  const command = program
    .command("promote")
    .description("promote a digest into a tier: gates, then pin + record in git, then deploy")
    .option("--env <tier>", "tier to promote into (staging, prod, …)")
    .option("-y, --yes", "do not ask for confirmation on a terminal (CI never asks)")
    .option("--no-deploy", "pin and record only; skip the deploy step")
    .option(
      "--kubeconfig <file>",
      "kubeconfig for the deploy step (default: $TIERS_KUBECONFIG, $KUBECONFIG, ~/.kube/config)",
    );
  selectionOptions(command)
    .addHelpText(
      "after",
      `
Refuses (exit 1, every failing gate listed) unless all gates pass. Promoting what is already
pinned changes nothing. Only one promotion runs at a time per repository; the loser of a race
gets a clear error and nothing changes. Without a kubeconfig the deploy step renders and checks
the overlay offline and is reported as skipped.

Examples:
  $ tiers promote --env staging
  $ tiers promote --env prod --commit 3f2a… --yes
  $ tiers promote --env staging --digest sha256:… --evidence local --no-deploy`,
    )
    .action(async (flags: PromoteFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      const mode = flags.yes || !process.stdin.isTTY ? "go" : "ask";
      await runPromotion(cli, flags, mode, "promote");
    });
};
