/**
 * 🜁 What a test-tier run that did not pass leaves for a person: the full log of every service
 * under `.tiers/reports/test-<id>/` (the streamed output and an error only show a tail), and on
 * request the stack itself — `--keep-on-failure` keeps it running and prints the compose
 * commands to look at it; `--interactive` opens a shell in the failed service and tears
 * everything down when the shell exits.
 *
 * The suite's own container is a one-off (`compose run --rm`) that ends with its suite, and
 * `docker-compose exec` only enters a service's container, never a one-off (v1.29 and v2 alike),
 * so a failed service is kept as a fresh service container of the same image, environment,
 * network and database, whose command is a bounded `sleep` (limits.ts `debug-shell`).
 * runTestTier calls `afterFailedRun` from one spot, on its failure path.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { UsageError } from "../../core/errors.ts";
import { inputLimit, timeoutFor } from "../../core/limits.ts";
import type { Reporter } from "../../core/log.ts";
import { type TestRunReport, testRunLogPath } from "../../core/promotion/test-run.ts";
import { loadTopology } from "../../core/topology.ts";
import * as compose from "../../tools/compose.ts";
import type { ContainerState } from "../../tools/docker.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import { atomicWrite } from "./atomic-write.ts";
import { openShell, shellCommand } from "./shell.ts";

/** What to do with a run whose suite failed: open a shell in it, or keep it running. */
export type FailureMode = "interactive" | "keep";

/** The flags of `tiers env <ephemeral tier> run` as one mode; both at once is a usage error. */
export function failureModeOf(flags: {
  interactive?: boolean;
  keepOnFailure?: boolean;
}): FailureMode | undefined {
  if (flags.interactive && flags.keepOnFailure) {
    throw new UsageError("--interactive and --keep-on-failure exclude each other", {
      hint: "--interactive already keeps the stack while its shell is open",
    });
  }
  return flags.interactive ? "interactive" : flags.keepOnFailure ? "keep" : undefined;
}

/**
 * `--interactive` needs a terminal for its shell; without one (CI, a pipe) it is refused before
 * anything is built or started, rather than keeping a stack nobody can enter.
 */
export function requireTerminal(
  tier: string,
  streams: { stdin: { isTTY?: boolean }; stdout: { isTTY?: boolean } } = process,
): void {
  if (streams.stdin.isTTY && streams.stdout.isTTY) return;
  throw new UsageError(`tiers env ${tier} run --interactive needs a terminal (stdin and stdout)`, {
    hint: `without one, use --keep-on-failure: it keeps the stack and prints the commands to enter it`,
  });
}

export type ServiceLog = NonNullable<TestRunReport["logs"]>[number];

/**
 * A log as kept in a report file: whole when it fits in `limit` bytes, else its first quarter
 * and last three quarters (the failure is usually at the end, the setup at the start), whole
 * lines only, with a note at the top and where lines were cut saying how much is missing.
 */
export function boundedLog(
  service: string,
  lines: readonly string[],
  limit: number,
): { text: string; bytes: number; truncated: boolean } {
  const sizes = lines.map((line) => Buffer.byteLength(line) + 1);
  const bytes = sizes.reduce((sum, size) => sum + size, 0);
  if (bytes <= limit)
    return { text: lines.map((line) => `${line}\n`).join(""), bytes, truncated: false };
  let head = 0;
  for (let used = 0; head < lines.length && used + sizes[head]! <= limit / 4; head++) {
    used += sizes[head]!;
  }
  let tail = lines.length;
  for (let used = 0; tail > head && used + sizes[tail - 1]! <= (limit * 3) / 4; tail--) {
    used += sizes[tail - 1]!;
  }
  const omitted = sizes.slice(head, tail).reduce((sum, size) => sum + size, 0);
  const why = `the log of ${service} is ${bytes} bytes; a report keeps ${limit} per service (TIERS_LIMIT_REPORT_LOG_BYTES)`;
  const text = [
    `[tiers: truncated: ${why}; ${tail - head} line(s), ${omitted} bytes, cut after line ${head}]`,
    ...lines.slice(0, head),
    `[tiers: ${tail - head} line(s), ${omitted} bytes omitted here]`,
    ...lines.slice(tail),
  ]
    .map((line) => `${line}\n`)
    .join("");
  return { text, bytes, truncated: true };
}

export interface FailedRun {
  root: string;
  tier: string;
  id: string;
  reporter: Reporter;
  project: compose.ComposeProject;
  outcome: TestRunReport["outcome"];
  /** Each suite's streamed output, by service, in the order they ran. */
  suiteOutputs: ReadonlyMap<string, readonly string[]>;
  /** Services whose suite failed. */
  failed: readonly string[];
  mode?: FailureMode;
  /** The label (core/artefact.ts projectLabel `kept`) a kept service container carries. */
  keptLabel: string;
  /** The run's own runner (it hands compose the run's database password by secret name). */
  run: (invocation: Invocation, options?: { reject?: boolean }) => Promise<ToolResult>;
  /** Container state per service of the run's project (compose-health.ts serviceStates). */
  states: (services: readonly string[]) => Promise<Map<string, ContainerState>>;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/**
 * After a run that did not pass: writes every service's log, then keeps the stack or opens a
 * shell as asked. `kept` is true when the stack must stay (`--keep-on-failure`); otherwise the
 * caller tears down as always (after the shell exited, with `--interactive`).
 */
export async function afterFailedRun(
  failed: FailedRun,
): Promise<{ logs: ServiceLog[]; kept: boolean }> {
  const { tier, reporter } = failed;
  const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
  // Nothing here may stop the teardown that follows: a problem is said and the run goes on.
  const logs = await saveServiceLogs(failed).catch((error: unknown) => {
    reporter.warn(tier, `the failed run's logs could not be kept: ${message(error)}`);
    return [] as ServiceLog[];
  });
  if (!failed.mode) return { logs, kept: false };
  if (failed.failed.length === 0) {
    reporter.warn(
      tier,
      `no suite failed (the run ended ${failed.outcome}), so there is nothing to ${failed.mode === "interactive" ? "open a shell in" : "keep"}: tearing down`,
    );
    return { logs, kept: false };
  }
  try {
    await reporter.step(tier, `keep ${failed.failed.join(", ")} for debugging`, () =>
      keepServices(failed),
    );
  } catch (error) {
    // Half a kept stack helps nobody: say why and tear it all down.
    reporter.warn(
      tier,
      `could not keep the failed service for debugging (${message(error)}): tearing down`,
    );
    return { logs, kept: false };
  }
  printHowTo(failed, logs);
  if (failed.mode === "keep") return { logs, kept: true };
  const service = failed.failed[0]!;
  reporter.info(tier, `opening a shell in ${service}; the stack is torn down when it exits`);
  try {
    const code = await openShell(failed.root, failed.project, service, [], {
      ...(failed.signal ? { signal: failed.signal } : {}),
      timeoutMs: timeoutFor("debug-shell", failed.env).ms,
    });
    reporter.info(tier, `shell in ${service} exited (${code}): tearing down`);
  } catch (error) {
    reporter.warn(tier, `the shell in ${service} failed (${message(error)}): tearing down`);
  }
  return { logs, kept: false };
}

/**
 * One log file per service: each suite's streamed output, and `compose logs` of every other
 * service that has a container (the database). A log that cannot be read is noted in its file
 * rather than silently missing.
 */
async function saveServiceLogs(failed: FailedRun): Promise<ServiceLog[]> {
  const limit = inputLimit("report-log-bytes", failed.env);
  const collected = new Map<string, readonly string[]>(failed.suiteOutputs);
  // What cannot be listed is said, not skipped silently: the suites' logs are still written.
  const unlisted = (error: unknown) => {
    failed.reporter.warn(
      failed.tier,
      `the logs of ${failed.project.name}'s other services are not kept: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  };
  const topology = await loadTopology(failed.root, failed.tier, failed.env).catch(unlisted);
  const others = Object.keys(topology?.services ?? {}).filter((name) => !collected.has(name));
  const running = (await failed.states(others).catch(unlisted)) ?? new Map();
  for (const service of others.filter((name) => running.has(name))) {
    const result = await failed
      .run(compose.logs(failed.project, { services: [service] }), { reject: false })
      .catch((error: unknown) => ({ exitCode: 1, stdout: "", stderr: String(error) }));
    collected.set(
      service,
      result.exitCode === 0
        ? result.stdout.split("\n")
        : [`[tiers: docker-compose logs ${service} failed: ${result.stderr.trim()}]`],
    );
  }
  const logs: ServiceLog[] = [];
  for (const [service, lines] of collected) {
    const file = testRunLogPath(failed.id, service);
    const kept = boundedLog(service, lines, limit);
    await atomicWrite(join(failed.root, file), kept.text);
    logs.push({ service, file, bytes: kept.bytes, truncated: kept.truncated });
  }
  if (logs.length) {
    failed.reporter.info(
      failed.tier,
      `full logs: ${logs.map((log) => `${log.file}${log.truncated ? " (truncated)" : ""}`).join(", ")}`,
    );
  }
  return logs;
}

/**
 * Starts each failed service as a service container (so `exec` finds it) through a temporary
 * override whose entrypoint only sleeps, without its dependencies (they run already). The
 * override is needed only to create the container: exec, logs and down work without it.
 */
async function keepServices(failed: FailedRun): Promise<void> {
  const seconds = Math.ceil(timeoutFor("debug-shell", failed.env).ms / 1000);
  const dir = await mkdtemp(join(tmpdir(), "tiers-keep-"));
  try {
    const override = join(dir, "keep.compose.json");
    const services = Object.fromEntries(
      failed.failed.map((service) => [
        service,
        // `exec sleep`: the keep-alive is PID 1 and stops at once on `down`.
        {
          entrypoint: ["sh", "-c", `exec sleep ${seconds}`],
          command: [],
          // Merged with the run's labels (tier, run, owner) by compose, so clean still finds it.
          labels: { [failed.keptLabel]: "true" },
        },
      ]),
    );
    // JSON is YAML: compose reads it like any other file.
    await writeFile(override, JSON.stringify({ services }));
    const project = { ...failed.project, files: [...failed.project.files, override] };
    await failed.run(compose.up(project, { services: failed.failed, noDeps: true }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A command line a person can paste: the program and each argument shell-quoted when needed. */
export function commandLine(invocation: Invocation): string {
  const quote = (word: string) =>
    /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
  return [invocation.tool, ...invocation.args].map(quote).join(" ");
}

/** Prints how to enter, read and remove the kept stack: commands that work from any folder. */
function printHowTo(failed: FailedRun, logs: readonly ServiceLog[]): void {
  const { tier, reporter, root } = failed;
  // Absolute compose files, so the commands work whatever the current folder.
  const project = {
    ...failed.project,
    files: failed.project.files.map((file) => (isAbsolute(file) ? file : join(root, file))),
  };
  const lifetime = timeoutFor("debug-shell", failed.env).text;
  reporter.info(tier, `kept compose project ${project.name} (run ${failed.id}):`);
  for (const service of failed.failed) {
    const shell = commandLine(compose.exec(project, service, shellCommand));
    reporter.info(
      tier,
      `  ${failed.mode === "interactive" ? "re-attach" : "shell"} (${service}): ${shell}`,
    );
  }
  // Without --follow, so it can be pasted into a script; a person adds it to keep watching.
  reporter.info(tier, `  logs: ${commandLine(compose.logs(project))}`);
  if (logs.length) {
    // compose logs never shows a one-off container: a suite's output is in these files only.
    reporter.info(tier, `  full logs of the run: ${logs.map((log) => log.file).join(", ")}`);
  }
  const cleanUp = commandLine(compose.down(project, { volumes: true, removeOrphans: true }));
  if (failed.mode === "interactive") {
    reporter.info(
      tier,
      `  clean up: automatic when the shell exits; if tiers was killed: tiers env ${tier} clean --run ${failed.id}`,
    );
  } else {
    reporter.info(tier, `  clean up: tiers env ${tier} clean --run ${failed.id}`);
    reporter.info(tier, `        or: ${cleanUp}`);
    reporter.info(
      tier,
      `  the kept service container stops by itself after ${lifetime} (TIERS_TIMEOUT_DEBUG_SHELL); the rest stays until cleaned up`,
    );
  }
}
