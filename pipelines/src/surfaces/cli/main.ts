import { Command, CommanderError } from "commander";
import { ExitCode, TiersError, UsageError } from "../../core/errors.ts";
import { commandLoaders, commandSummaries } from "./commands/index.ts";

/**
 * The command a user asked for: the first word that is not a global option. Global options that
 * take a value (`--root DIR`) are skipped with their value; which ones do is read from the
 * program's own option declarations, so a new global option cannot be mistaken for a command.
 */
export function requestedCommand(
  args: readonly string[],
  valueFlags: ReadonlySet<string>,
): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return undefined;
    if (valueFlags.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/** The flags of `program`'s own options that take a value (`--root <dir>`), long and short. */
function flagsTakingValues(program: Command): Set<string> {
  return new Set(
    program.options
      .filter((option) => option.required || option.optional)
      .flatMap((option) =>
        [option.long, option.short].filter((flag): flag is string => Boolean(flag)),
      ),
  );
}

/**
 * Builds the program with the commands `argv` needs: just the requested one when it is known;
 * for `--help`, `help` or an unknown word, each command's name and summary only (enough for
 * commander to list and suggest), so a cold `tiers --help` imports no engine. Without `argv`,
 * every command in full.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command("tiers")
    .description("Build once, promote the digest: dev → test → staging → prod.")
    .option("--root <dir>", "repository root (default: current directory)")
    .option("--no-color", "never colour output (NO_COLOR is also respected)")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  program.addHelpText(
    "after",
    `
Examples:
  $ tiers validate              check every tier file and policy
  $ tiers doctor                which tools are usable here
  $ tiers env test run          run the test tier in ephemeral containers
  $ tiers plan --env prod       preview a promotion without changing anything`,
  );
  const valueFlags = flagsTakingValues(program);
  const args = argv?.slice(2) ?? [];
  let wanted = requestedCommand(args, valueFlags);
  // `tiers help validate` shows validate's own help, so it needs the real command.
  if (wanted === "help")
    wanted = requestedCommand(args.slice(args.indexOf("help") + 1), valueFlags);
  if (argv && wanted && wanted in commandLoaders) {
    const register = await commandLoaders[wanted]!();
    register(program);
  } else if (argv) {
    // Help or an unknown word: list (and suggest from) the names alone, loading no command.
    for (const [name, summary] of Object.entries(commandSummaries)) {
      program
        .command(name)
        .summary(summary)
        .action(() => {
          // Only reachable when the word was hidden from requestedCommand (after `--`).
          throw new UsageError(`run the command as tiers ${name} …, before any --`);
        });
    }
  } else {
    const commands = await Promise.all(Object.values(commandLoaders).map((load) => load()));
    for (const register of commands) register(program);
  }
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

/**
 * True when the user asked for `--json` on a command that has it: then every outcome, usage
 * errors and refusals included, is one JSON document on stdout (CI scripts parse it).
 */
export function wantsJson(program: Command, argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf("--");
  if (!(end < 0 ? args : args.slice(0, end)).includes("--json")) return false;
  const wanted = requestedCommand(args, flagsTakingValues(program));
  const command = program.commands.find((c) => c.name() === wanted);
  return Boolean(command?.options.some((option) => option.long === "--json"));
}

/** The JSON shape of a failure: `{ ok: false, error: { message, where, hint, exitCode } }`. */
export function failureJson(
  message: string,
  exitCode: number,
  where?: string,
  hint?: string,
): string {
  return `${JSON.stringify({ ok: false, error: { message, where: where ?? null, hint: hint ?? null, exitCode } }, null, 2)}\n`;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv);
  const json = wantsJson(program, argv);
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.exitCode === 0
      ) {
        return ExitCode.ok;
      }
      // commander already printed its message on stderr; --json also gets it on stdout.
      if (json) {
        const message = error.message.replace(/^error: /, "");
        process.stdout.write(
          failureJson(message, ExitCode.usage, undefined, "run with --help for usage"),
        );
      }
      return ExitCode.usage;
    }
    if (error instanceof TiersError) {
      process.stderr.write(`tiers: ${error.describe()}\n`);
      if (json) {
        process.stdout.write(failureJson(error.message, error.exitCode, error.where, error.hint));
      }
      return error.exitCode;
    }
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`tiers: unexpected error: ${text}\n`);
    if (json) {
      process.stdout.write(
        failureJson(
          `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
          ExitCode.failure,
        ),
      );
    }
    return ExitCode.failure;
  }
}
