/**
 * The actions of `tiers env <tier>` for the tiers that run locally: a compose tier's stack
 * (up, down, logs, shell, status) and an ephemeral tier's test run (run, clean). Which tier
 * gets which comes from its runtime in the model (env/index.ts), never from its name.
 */
import { ExitCode, UsageError } from "../../../../core/errors.ts";
import { devDown, devLogs, devShell, devStatus, devUp } from "../../../../engines/host/dev-tier.ts";
import { cleanTestTier, runTestTier } from "../../../../engines/host/test-tier.ts";
import { failureModeOf, requireTerminal } from "../../../../engines/host/test-tier-debug.ts";
import { signalExit, withSignals } from "../../signals.ts";
import type { EnvAction, EnvFlags } from "./actions.ts";

const timeout = (flags: EnvFlags, fallback: number) => {
  const seconds = flags.timeout === undefined ? fallback : Number(flags.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout ${flags.timeout}: expected a number of seconds`);
  }
  return seconds;
};

/** A compose tier's actions: its stack with hot reload, on this machine's Docker engine. */
export const composeEnvActions: Record<string, EnvAction> = {
  up: {
    summary: "build dev images if needed, start the stack, wait until healthy, print URLs",
    async run({ cli, tier, flags }) {
      await devUp({
        root: cli.root,
        tier,
        reporter: cli.reporter,
        timeoutSeconds: timeout(flags, 120),
      });
      return ExitCode.ok;
    },
  },
  down: {
    summary: "stop and remove the stack (data volumes survive unless --volumes)",
    async run({ cli, tier, flags }) {
      await devDown({
        root: cli.root,
        tier,
        reporter: cli.reporter,
        volumes: Boolean(flags.volumes),
      });
      return ExitCode.ok;
    },
  },
  logs: {
    summary: "show logs (-f to follow, --tail N)",
    usage: "[service]",
    async run(context) {
      const { cli, flags, args } = context;
      await withSignals(context.cli.reporter, context.tier, (signal) =>
        devLogs({
          root: cli.root,
          tier: context.tier,
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
    async run({ cli, tier, args }) {
      const [service, ...command] = args;
      if (!service)
        throw new UsageError(`tiers env ${tier} shell needs a service`, {
          hint: `e.g. tiers env ${tier} shell SERVICE (see tiers env ${tier} status)`,
        });
      return devShell({ root: cli.root, tier, reporter: cli.reporter, service, command });
    },
  },
  status: {
    summary: "state and health of each service",
    async run({ cli, tier, flags }) {
      const rows = await devStatus({ root: cli.root, tier, reporter: cli.reporter });
      if (flags.json) cli.reporter.raw(JSON.stringify(rows, null, 2));
      else
        for (const row of rows)
          cli.reporter.info(
            tier,
            `${row.service.padEnd(10)} ${row.state.padEnd(12)} ${row.health}`,
          );
      return rows.every((row) => row.health === "healthy") ? ExitCode.ok : ExitCode.failure;
    },
  },
};

/** An ephemeral tier's actions: an isolated test run, always torn down, and its clean-up. */
export const ephemeralEnvActions: Record<string, EnvAction> = {
  run: {
    summary:
      "run the tests in a fresh isolated environment, torn down (unless --keep-on-failure); exit code = result",
    async run(context) {
      const { cli, flags } = context;
      // Refused before anything is built or started: a shell needs a terminal.
      const onFailure = failureModeOf(flags);
      if (onFailure === "interactive") requireTerminal(context.tier);
      const { result: report, signal } = await withSignals(
        context.cli.reporter,
        context.tier,
        (abort) =>
          runTestTier({
            root: cli.root,
            tier: context.tier,
            reporter: cli.reporter,
            signal: abort,
            setupTimeoutSeconds: timeout(flags, 120),
            ...(flags.service ? { services: flags.service } : {}),
            ...(onFailure ? { onFailure } : {}),
          }),
      );
      if (flags.json) cli.reporter.raw(JSON.stringify(report, null, 2));
      for (const service of report.services)
        cli.reporter.info(context.tier, `${service.service}: ${service.outcome}`);
      cli.reporter.info(
        context.tier,
        `${report.outcome}: setup ${report.durations.setup}ms, tests ${report.durations.tests}ms, ${report.durations.loadTest === undefined ? "" : `load test ${report.durations.loadTest}ms, `}teardown ${report.durations.teardown}ms`,
      );
      if (signal) return signalExit[signal] ?? ExitCode.failure;
      return report.outcome === "passed" ? ExitCode.ok : ExitCode.failure;
    },
  },
  clean: {
    summary: "remove containers, networks and volumes a crashed run left behind (by label)",
    async run({ cli, tier, flags }) {
      await cleanTestTier({
        root: cli.root,
        tier,
        reporter: cli.reporter,
        ...(flags.run ? { runId: flags.run } : {}),
      });
      return ExitCode.ok;
    },
  },
};
