import { TiersError } from "../core/errors.ts";
import { describeInvocation, type Invocation } from "./invocation.ts";

/**
 * A tool exited non-zero or could not start. Carries the (redacted) command, exit code and
 * captured output so the error reads well when printed, like execa's, and a `kind` so callers
 * can branch on typed failures (e.g. cosign's "no signatures found") without string matching.
 */
export class ToolError<Kind extends string = string> extends TiersError {
  readonly command: string;
  readonly exitCode_: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly kind: Kind | "failed" | "not-found" | "timeout";

  constructor(
    invocation: Invocation,
    details: {
      exitCode?: number;
      stdout?: string;
      stderr?: string;
      kind?: Kind | "failed" | "not-found" | "timeout";
      message?: string;
      hint?: string;
      /** Where the problem is (for a timeout: the host the call talked to). */
      where?: string;
    },
  ) {
    const command = describeInvocation(invocation);
    const tail = (details.stderr || details.stdout || "")
      .trim()
      .split("\n")
      .slice(-5)
      .join("\n    ");
    const base =
      details.message ??
      (details.kind === "not-found"
        ? `${invocation.tool} is not installed or not on PATH`
        : `${invocation.tool} exited with code ${details.exitCode}`);
    super(`${base}\n  command: ${command}${tail ? `\n  output:  ${tail}` : ""}`, {
      where: details.where,
      hint:
        details.hint ??
        (details.kind === "not-found"
          ? "run `tiers doctor` to see which tools are missing"
          : undefined),
    });
    this.command = command;
    this.exitCode_ = details.exitCode;
    this.stdout = details.stdout ?? "";
    this.stderr = details.stderr ?? "";
    this.kind = details.kind ?? "failed";
  }
}
