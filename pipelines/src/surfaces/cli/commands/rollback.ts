/** `tiers rollback --env <tier> [--to <digest|commit>]`: restore earlier pins, recorded as a rollback. */
import type { Command } from "commander";
import { UsageError } from "../../../core/errors.ts";
import { rollback } from "../../../engines/host/promotion/rollback.ts";
import { type CliContext, contextFrom, type RegisterCommand } from "../context.ts";
import { cliDeployer } from "../deployer.ts";

export interface RollbackFlags {
  env?: string;
  to?: string;
  reason?: string;
  deploy?: boolean;
  kubeconfig?: string;
}

export const registerRollback: RegisterCommand = (program) => {
  program
    .command("rollback")
    .description("restore an earlier overlay pin from git history and record it as a rollback")
    .option("--env <tier>", "tier to roll back (a tier whose runtime is kubernetes)")
    .option(
      "--to <digest|commit>",
      "a digest pinned earlier, or an overlay commit (default: the previous distinct pins)",
    )
    .option("--reason <text>", "why (kept in the history record and the commit message)")
    .option("--no-deploy", "restore the pin and record it only; skip the deploy step")
    .option("--kubeconfig <file>", "kubeconfig for the deploy step")
    .addHelpText(
      "after",
      `
Refuses a rejected digest. The rollback is a new commit (history is never rewritten), with a
record under releases/history/<tier>/.

Examples:
  $ tiers rollback --env prod
  $ tiers rollback --env staging --to sha256:…  --reason "smoke test regression"`,
    )
    .action(async (flags: RollbackFlags, cmd: Command) => {
      await runRollback(contextFrom(cmd), flags);
    });
};

/** `tiers rollback` (and `tiers env <tier> rollback`): restore earlier pins of one tier. */
export async function runRollback(cli: CliContext, flags: RollbackFlags): Promise<void> {
  if (!flags.env)
    throw new UsageError("missing --env <tier>", { hint: "e.g. tiers rollback --env prod" });
  const model = await cli.model();
  const marker = model.tiers[flags.env]?.marker;
  const outcome = await rollback({
    root: cli.root,
    tier: flags.env,
    model,
    ...(flags.to ? { to: flags.to } : {}),
    ...(flags.reason ? { reason: flags.reason } : {}),
    deploy: flags.deploy === false ? "skip" : "auto",
    deployer: cliDeployer(cli, flags.kubeconfig),
  });
  const say = (text: string) => cli.reporter.info(flags.env, text, marker);
  if (!outcome.changed) {
    say(`already at the pins of ${outcome.restoredFrom.slice(0, 12)} — nothing changed, no commit`);
    return;
  }
  for (const c of outcome.changes.filter((x) => x.from !== x.to))
    say(`rolled back ${c.service}: ${c.from} → ${c.to}`);
  say(
    `recorded as a rollback in commit ${outcome.commit?.slice(0, 12)} (restores ${outcome.restoredFrom.slice(0, 12)})`,
  );
  if (outcome.deploy) say(`deploy ${outcome.deploy.outcome}: ${outcome.deploy.detail}`);
}
