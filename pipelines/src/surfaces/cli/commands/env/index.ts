/**
 * `tiers env <tier> <action> [args...]`: runs an action in a tier. A tier is offered the actions
 * of its runtime (compose → up/down/logs/shell/status; ephemeral → run/clean; kubernetes →
 * bless/status/deploy/rollback), read from the model, so every tier the chain declares has its
 * actions whatever it is called. Unknown tier or action is a usage error (exit 2) listing the
 * declared tiers / that tier's actions.
 */
import type { Command } from "commander";
import type { Runtime } from "../../../../core/environment/index.ts";
import { ExitCode, UsageError } from "../../../../core/errors.ts";
import { contextFrom, type RegisterCommand } from "../../context.ts";
import type { EnvAction, EnvActionTable, EnvFlags } from "./actions.ts";
import { composeEnvActions, ephemeralEnvActions } from "./local.ts";
import { kubernetesEnvActions } from "./promotion.ts";

/** Every runtime's actions: compose and ephemeral (local.ts), kubernetes (promotion.ts). */
export const envActions: EnvActionTable = {
  compose: composeEnvActions,
  ephemeral: ephemeralEnvActions,
  kubernetes: kubernetesEnvActions,
};

/** `tiers env` usage text: each runtime's actions, in aligned columns, for `<tier>`. */
export function envUsage(table: EnvActionTable = envActions): string {
  const rows = (Object.entries(table) as [Runtime, Record<string, EnvAction>][]).flatMap(
    ([runtime, actions]) =>
      Object.entries(actions).map(([name, action]) => [
        `${runtime.padEnd(10)}  tiers env <tier> ${name}${action.usage ? ` ${action.usage}` : ""}`,
        action.summary,
      ]),
  );
  const width = Math.max(...rows.map(([left]) => left!.length));
  return rows.map(([left, summary]) => `  ${left!.padEnd(width)}  ${summary}`).join("\n");
}

/** `compose: up|down|…, ephemeral: run|clean, …`: the one-line summary of the table. */
function envSummary(table: EnvActionTable = envActions): string {
  return Object.entries(table)
    .map(([runtime, actions]) => `${runtime}: ${Object.keys(actions).join("|")}`)
    .join(", ");
}

/** A tier's name and runtime, as the model declares them. */
export interface EnvTier {
  name: string;
  runtime: Runtime;
}

/** Finds the action for the tier's runtime, or a usage error naming the valid tiers / actions. */
export function resolveEnvAction(
  table: EnvActionTable,
  declared: readonly EnvTier[],
  tier: string,
  action: string | undefined,
): EnvAction {
  const found = declared.find((t) => t.name === tier);
  if (!found) {
    throw new UsageError(`unknown tier "${tier}" for tiers env`, {
      hint: `declared tiers: ${declared.map((t) => t.name).join(", ")}`,
    });
  }
  const actions = table[found.runtime];
  const handler = action ? actions[action] : undefined;
  if (!handler) {
    throw new UsageError(
      action ? `unknown action "${action}" for tier ${tier}` : `tiers env ${tier} needs an action`,
      {
        hint: `actions for ${tier} (${found.runtime}): ${Object.keys(actions).join(", ")}`,
      },
    );
  }
  return handler;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export const registerEnv: RegisterCommand = (program) => {
  program
    .command("env")
    .description(`act on a tier: tiers env <tier> <action> (${envSummary()})`)
    .argument("<tier>", "a tier the promotion chain declares (environments/<tier>.yaml)")
    .argument("[action]", "what to do in that tier")
    .argument("[args...]", "arguments of the action (e.g. a service name)")
    .option("--volumes", "compose down: also remove data volumes")
    .option("-f, --follow", "compose logs: keep following")
    .option("--tail <lines>", "compose logs: lines of history per service")
    .option("--service <name>", "ephemeral run: only this service (repeatable)", collect)
    .option("--interactive", "ephemeral run: on a failed suite, a shell in its service (a TTY)")
    .option("--keep-on-failure", "ephemeral run: on a failed suite, keep the stack to inspect")
    .option("--run <id>", "ephemeral clean: only this run's resources")
    .option("--timeout <seconds>", "compose up / ephemeral run: how long to wait for health")
    .option("--json", "machine-readable output (status, ephemeral run)")
    .option("-y, --yes", "bless: promote without asking (required when there is no terminal)")
    .option("--digest <sha256>", "bless: the digest to promote")
    .option("--commit <sha>", "bless: every image of this published commit")
    .option("--evidence <kind>", "bless/status: evidence verifier, cosign or local")
    .option("--no-deploy", "bless/rollback: pin and record only; skip the deploy step")
    .option("--verify", "status: verify signatures with cosign")
    .option("--dry-run", "deploy: render, check and show the plan; contact no cluster")
    .option("--manifests", "deploy --dry-run: print the manifests that would be applied")
    .option("--kubeconfig <file>", "deploy/rollback: kubeconfig to use, read as a secret")
    .option("--context <name>", "deploy: kubeconfig context")
    .option("--to <ref>", "rollback: the digest or commit to restore (default: the previous pins)")
    .option("--reason <text>", "rollback: why (kept in the record)")
    .addHelpText(
      "after",
      () =>
        `\nActions (a tier gets those of its runtime):\n${envUsage()}\n\nExamples (the sample's tiers):\n  $ tiers env dev up && tiers env dev status\n  $ tiers env dev shell api\n  $ tiers env dev shell api -- node -e "console.log(1)"\n  $ tiers env test run          exit code = the tests' result\n  $ tiers env test run --interactive   a shell in a failed suite's service\n  $ tiers env test clean        after a run was killed`,
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
        const model = await cli.model();
        const declared = model.order.map((name) => ({
          name,
          runtime: model.tiers[name]!.runtime,
        }));
        const handler = resolveEnvAction(envActions, declared, tier, action);
        const code = await handler.run({ cli, tier, args, flags });
        if (code !== undefined && code !== ExitCode.ok) process.exitCode = code;
      },
    );
};
