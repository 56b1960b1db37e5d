/**
 * The contract of a `tiers env <tier> <action>`: what an action receives and returns, and the
 * table they are listed in (by runtime: a tier gets its runtime's actions). Each area's actions (env/local.ts, env/promotion.ts) implement it;
 * env/index.ts assembles the table and registers the command.
 */
import type { Runtime } from "../../../../core/environment/index.ts";
import type { CliContext } from "../../context.ts";

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
  /** test run: on a failed suite, a shell in its service; teardown when the shell exits. */
  interactive?: boolean;
  /** test run: on a failed suite, keep the stack and print how to enter and remove it. */
  keepOnFailure?: boolean;
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

/** Runtime -> action -> handler: a tier is offered the actions of its runtime. */
export type EnvActionTable = Record<Runtime, Record<string, EnvAction>>;
