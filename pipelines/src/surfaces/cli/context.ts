import { resolve } from "node:path";
import type { Command } from "commander";
import type { EnvironmentModel } from "../../core/environment/model.ts";
import { Reporter, shouldColour } from "../../core/log.ts";

/** What every command needs from the global flags, computed once per invocation. */
export interface CliContext {
  /** Repository root: `--root`, else the current directory. */
  root: string;
  reporter: Reporter;
  color: boolean;
  /**
   * The environment model of `root`, loaded on first use and then shared: a command reads and
   * validates the tier files once, and hands the model to every engine it calls.
   */
  model(): Promise<EnvironmentModel>;
  /** The marker a tier declares; undefined when the model does not load (the error says why). */
  marker(tier: string): Promise<string | undefined>;
}

export function contextFrom(command: Command): CliContext {
  const opts = command.optsWithGlobals<{ root?: string; color?: boolean }>();
  const color = shouldColour(process.stdout, process.env, opts.color);
  const root = resolve(opts.root ?? process.cwd());
  let loaded: Promise<EnvironmentModel> | undefined;
  const model = () => {
    // Imported on first use, so a command that never needs the model does not load its schemas;
    // remembered by content across runs (engines/host/model-cache.ts).
    loaded ??= import("../../engines/host/model-cache.ts").then((m) => m.loadModelCached(root));
    return loaded;
  };
  return {
    root,
    reporter: new Reporter({ color }),
    color,
    model,
    marker: async (tier) => {
      try {
        return (await model()).tiers[tier]?.marker;
      } catch {
        return undefined;
      }
    },
  };
}

/** A command module registers itself on the program; see commands/index.ts. */
export type RegisterCommand = (program: Command) => void;
