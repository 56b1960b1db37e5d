/**
 * `tiers env <tier> <action> [args...]`: runs an action in a tier. The actions live in one
 * table, `envActions`, keyed by tier then action, so another area adds its actions (e.g.
 * `bless` and `status` for staging and prod) with a one-line edit to the table.
 * Unknown tier or action is a usage error (exit 2) listing the valid ones.
 */
import type { Command } from "commander";
import { ExitCode, UsageError } from "../../../../core/errors.ts";
import { contextFrom, type RegisterCommand } from "../../context.ts";
import type { EnvAction, EnvActionTable, EnvFlags } from "./actions.ts";
import { localEnvActions } from "./local.ts";
import { promotionEnvActions } from "./promotion.ts";

/** Every tier's actions: dev and test (local.ts), then staging/prod bless and status (promotion.ts). */
export const envActions: EnvActionTable = { ...localEnvActions, ...promotionEnvActions };

/** `tiers env` usage text listing every tier and action in the table, in aligned columns. */
export function envUsage(table: EnvActionTable = envActions): string {
  const rows = Object.entries(table).flatMap(([tier, actions]) =>
    Object.entries(actions).map(([name, action]) => [
      `tiers env ${tier} ${name}${action.usage ? ` ${action.usage}` : ""}`,
      action.summary,
    ]),
  );
  const width = Math.max(...rows.map(([left]) => left!.length));
  return rows.map(([left, summary]) => `  ${left!.padEnd(width)}  ${summary}`).join("\n");
}

/** `dev: up|down|…, test: run|clean, …`: the one-line summary of the table. */
function envSummary(table: EnvActionTable = envActions): string {
  return Object.entries(table)
    .map(([tier, actions]) => `${tier}: ${Object.keys(actions).join("|")}`)
    .join(", ");
}

/** Finds the action, or a usage error naming the valid tiers / actions. */
export function resolveEnvAction(
  table: EnvActionTable,
  tier: string,
  action: string | undefined,
): EnvAction {
  const actions = table[tier];
  if (!actions) {
    throw new UsageError(`unknown tier "${tier}" for tiers env`, {
      hint: `tiers with actions: ${Object.keys(table).join(", ")}`,
    });
  }
  const found = action ? actions[action] : undefined;
  if (!found) {
    throw new UsageError(
      action ? `unknown action "${action}" for tier ${tier}` : `tiers env ${tier} needs an action`,
      {
        hint: `actions for ${tier}: ${Object.keys(actions).join(", ")}`,
      },
    );
  }
  return found;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const registerEnv: RegisterCommand = (program) => {
  program
    .command("env")
    .description(`act on a tier: tiers env <tier> <action> (${envSummary()})`)
    .argument("<tier>", `tier: ${Object.keys(envActions).join(", ")}`)
    .argument("[action]", "what to do in that tier")
    .argument("[args...]", "arguments of the action (e.g. a service name)")
    .option("--volumes", "dev down: also remove data volumes")
    .option("-f, --follow", "dev logs: keep following")
    .option("--tail <lines>", "dev logs: lines of history per service")
    .option("--service <name>", "test run: only this service (repeatable)", collect)
    .option("--run <id>", "test clean: only this run's resources")
    .option("--timeout <seconds>", "dev up / test run: how long to wait for health")
    .option("--json", "machine-readable output (dev status, test run)")
    .option("-y, --yes", "bless: promote without asking (required when there is no terminal)")
    .option("--digest <sha256>", "bless: the digest to promote")
    .option("--commit <sha>", "bless: every image of this published commit")
    .option("--evidence <kind>", "bless/status: evidence verifier, cosign or local")
    .option("--no-deploy", "bless: pin and record only; skip the deploy step")
    .option("--verify", "status: verify signatures with cosign")
    .addHelpText(
      "after",
      () =>
        `\nActions:\n${envUsage()}\n\nExamples:\n  $ tiers env dev up && tiers env dev status\n  $ tiers env dev shell api\n  $ tiers env dev shell api -- node -e "console.log(1)"\n  $ tiers env test run          exit code = the tests' result\n  $ tiers env test clean        after a run was killed`,
    )
    .action(
      async (
        tier: string,
        action: string | undefined,
        args: string[],
        flags: EnvFlags,
        command: Command,
      ) => {
        const cli = contextFrom(command);
        const handler = resolveEnvAction(envActions, tier, action);
        const code = await handler.run({ cli, tier, args, flags });
        if (code !== undefined && code !== ExitCode.ok) process.exitCode = code;
      },
    );
};
