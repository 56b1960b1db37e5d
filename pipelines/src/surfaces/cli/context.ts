import { resolve } from "node:path";
import type { Command } from "commander";
import { Reporter, shouldColour } from "../../core/log.ts";

/** What every command needs from the global flags, computed once per invocation. */
export interface CliContext {
  /** Repository root: `--root`, else the current directory. */
  root: string;
  reporter: Reporter;
  color: boolean;
}

export function contextFrom(command: Command): CliContext {
  const opts = command.optsWithGlobals<{ root?: string; color?: boolean }>();
  const color = shouldColour(process.stdout, process.env, opts.color);
  return { root: resolve(opts.root ?? process.cwd()), reporter: new Reporter({ color }), color };
}

/** A command module registers itself on the program; see commands/index.ts. */
export type RegisterCommand = (program: Command) => void;
