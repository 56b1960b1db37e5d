/**
 * Errors a user can hit. Every one says what was wrong, where, and what to do next, and
 * carries the exit code the CLI uses, so surfaces never invent their own mapping.
 */

/** Exit codes shared by every surface (CLI, Makefile, CI). */
export const ExitCode = {
  ok: 0,
  /** The thing checked is wrong (invalid config, failed gate, failed tests). */
  failure: 1,
  /** The command was called wrongly (unknown flag, missing argument). */
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface TiersErrorOptions {
  /** What the user should do next, printed after the message. */
  hint?: string;
  /** Where the problem is: a file path, `file:line:col`, a registry URL, a service name. */
  where?: string;
  exitCode?: ExitCode;
  cause?: unknown;
}

export class TiersError extends Error {
  readonly hint: string | undefined;
  readonly where: string | undefined;
  readonly exitCode: ExitCode;

  constructor(message: string, options: TiersErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.where = options.where;
    this.exitCode = options.exitCode ?? ExitCode.failure;
  }

  /** One or two lines for a terminal: `where: message` then the hint. */
  describe(): string {
    const head = this.where ? `${this.where}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  hint: ${this.hint}` : head;
  }
}

/** The command line itself was wrong; exit code 2. */
export class UsageError extends TiersError {
  constructor(message: string, options: Omit<TiersErrorOptions, "exitCode"> = {}) {
    super(message, { ...options, exitCode: ExitCode.usage });
  }
}

/** A tier name that no environments/<tier>.yaml declares: a usage error (exit 2). */
export class UnknownTierError extends UsageError {
  readonly tier: string;
  constructor(tier: string, declared: readonly string[]) {
    super(`unknown tier "${tier}"; declared tiers: ${declared.join(", ")}`, {
      where: "environments/",
      hint: "name one of the declared tiers",
    });
    this.tier = tier;
  }
}

/** The first line of an error's message (or of its string form): what one-line reports show. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? "";
}
