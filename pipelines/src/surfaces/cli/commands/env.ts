/**
 * `tiers env <tier> <action> [args...]`: runs an action in a tier. The actions live in one
 * table, `envActions`, keyed by tier then action, so another area adds its actions (e.g.
 * `bless` and `status` for staging and prod) with a one-line edit to the table.
 * Unknown tier or action is a usage error (exit 2) listing the valid ones.
 */
import type { Command } from "commander";
import { ExitCode, UsageError } from "../../../core/errors.ts";
import { devDown, devLogs, devShell, devStatus, devUp } from "../../../engines/host/dev-tier.ts";
import { cleanTestTier, runTestTier } from "../../../engines/host/test-tier.ts";
import { type CliContext, contextFrom, type RegisterCommand } from "../context.ts";
import { promotionEnvActions } from "./env-promotion.ts";

/** Flags every env action may read (each action documents the ones it uses). */
export interface EnvFlags {
  /** dev down: also remove the data volumes. */
  volumes?: boolean;
  /** dev logs: keep following. */
  follow?: boolean;
  /** dev logs: lines of history per service. */
  tail?: string;
  /** test run: only these services (repeatable). */
  service?: string[];
  /** test clean: only this run's resources. */
  run?: string;
  /** dev up / test run: seconds to wait for health. */
  timeout?: string;
  /** Print machine-readable output. */
  json?: boolean;
}

/** What an action receives: the CLI context, positional arguments after the action, flags. */
export interface EnvActionContext {
  cli: CliContext;
  tier: string;
  args: string[];
  flags: EnvFlags;
}

/** One action of one tier. Returns the exit code (default 0). */
export interface EnvAction {
  /** One line for `tiers env --help`. */
  summary: string;
  /** Positional arguments, for the usage line (e.g. "<service>"). */
  usage?: string;
  run(context: EnvActionContext): Promise<number | undefined>;
}

/** Tier -> action -> handler. */
export type EnvActionTable = Record<string, Record<string, EnvAction>>;

const timeout = (flags: EnvFlags, fallback: number) => {
  const seconds = flags.timeout === undefined ? fallback : Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout ${flags.timeout}: expected a number of seconds`);
  }
  return seconds;
};

/** Exit codes of a run stopped by a signal, as shells report them (128 + signal number). */
const signalExit: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `work` with SIGINT/SIGTERM turned into an abort: the first signal stops the current step
 * and lets the work tear down; later ones only say teardown is still running, so a second
 * Ctrl-C cannot leave containers behind.
 */
async function withSignals<T>(
  context: EnvActionContext,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<{ result: T; signal: NodeJS.Signals | undefined }> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!received) {
      received = signal;
      context.cli.reporter.warn(context.tier, `${signal}: stopping; tearing everything down…`);
      controller.abort(new Error(`interrupted by ${signal}`));
    } else {
      context.cli.reporter.warn(
        context.tier,
        `${signal} again: still tearing down, nothing will be left behind`,
      );
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return { result: await work(controller.signal), signal: received };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** The dev and test tiers' actions (this area). Other areas add tiers or actions here. */
export const envActions: EnvActionTable = {
  dev: {
    up: {
      summary: "build dev images if needed, start the stack, wait until healthy, print URLs",
      async run({ cli, flags }) {
        await devUp({
          root: cli.root,
          reporter: cli.reporter,
          timeoutSeconds: timeout(flags, 120),
        });
        return ExitCode.ok;
      },
    },
    down: {
      summary: "stop and remove the stack (data volumes survive unless --volumes)",
      async run({ cli, flags }) {
        await devDown({ root: cli.root, reporter: cli.reporter, volumes: Boolean(flags.volumes) });
        return ExitCode.ok;
      },
    },
    logs: {
      summary: "show logs (-f to follow, --tail N)",
      usage: "[service]",
      async run(context) {
        const { cli, flags, args } = context;
        await withSignals(context, (signal) =>
          devLogs({
            root: cli.root,
            reporter: cli.reporter,
            follow: Boolean(flags.follow),
            signal,
            ...(args[0] ? { service: args[0] } : {}),
            ...(flags.tail ? { tail: Number(flags.tail) } : {}),
          }),
        );
        return ExitCode.ok;
      },
    },
    shell: {
      summary: "open an interactive shell (or run a command) in a running service",
      usage: "<service> [-- command...]",
      async run({ cli, args }) {
        const [service, ...command] = args;
        if (!service)
          throw new UsageError(
            "tiers env dev shell needs a service, e.g. `tiers env dev shell api`",
          );
        return devShell({ root: cli.root, reporter: cli.reporter, service, command });
      },
    },
    status: {
      summary: "state and health of each service",
      async run({ cli, flags }) {
        const rows = await devStatus({ root: cli.root, reporter: cli.reporter });
        if (flags.json) cli.reporter.raw(JSON.stringify(rows, null, 2));
        else
          for (const row of rows)
            cli.reporter.info(
              "dev",
              `${row.service.padEnd(10)} ${row.state.padEnd(12)} ${row.health}`,
            );
        return rows.every((row) => row.health === "healthy") ? ExitCode.ok : ExitCode.failure;
      },
    },
  },
  test: {
    run: {
      summary:
        "run the tests in a fresh isolated environment, always torn down; exit code = result",
      async run(context) {
        const { cli, flags } = context;
        const { result: report, signal } = await withSignals(context, (abort) =>
          runTestTier({
            root: cli.root,
            reporter: cli.reporter,
            signal: abort,
            setupTimeoutSeconds: timeout(flags, 120),
            ...(flags.service ? { services: flags.service } : {}),
          }),
        );
        if (flags.json) cli.reporter.raw(JSON.stringify(report, null, 2));
        for (const service of report.services)
          cli.reporter.info("test", `${service.service}: ${service.outcome}`);
        cli.reporter.info(
          "test",
          `${report.outcome}: setup ${report.durations.setup}ms, tests ${report.durations.tests}ms, teardown ${report.durations.teardown}ms`,
        );
        if (signal) return signalExit[signal] ?? ExitCode.failure;
        return report.outcome === "passed" ? ExitCode.ok : ExitCode.failure;
      },
    },
    clean: {
      summary: "remove containers, networks and volumes a crashed run left behind (by label)",
      async run({ cli, flags }) {
        await cleanTestTier({
          root: cli.root,
          reporter: cli.reporter,
          ...(flags.run ? { runId: flags.run } : {}),
        });
        return ExitCode.ok;
      },
    },
  },
  ...promotionEnvActions, // staging/prod: bless, status (the promotion area)
};

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
