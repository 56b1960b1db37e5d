/**
 * Feature flags as a service reads them: `TIERS_FLAG_<NAME>=true|false`, one variable per flag
 * the tier declares (environments/base.yaml `flags`, switched per tier). The pipeline sets every
 * declared flag, so a name without a variable is a flag nobody declared, e.g. a typo in code,
 * and asking for it throws instead of quietly answering "off".
 */
import { type Env, TierError } from "./tier.ts";

const prefix = "TIERS_FLAG_";

/** The tier's flags, read once at start-up. */
export interface Flags {
  /** True when `name` is on; throws TierError for a flag the tier does not declare. */
  isOn(name: string): boolean;
  /** Every declared flag and its value, by name. */
  readonly all: Readonly<Record<string, boolean>>;
}

/**
 * Reads every `TIERS_FLAG_*` variable. An empty value (compose's default when a stack is
 * started by hand, not by `tiers env`) is off; anything but true, false or empty is an error.
 */
export function flagsOf(env: Env = process.env): Flags {
  const all: Record<string, boolean> = {};
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length).toLowerCase();
    const value = raw?.trim() ?? "";
    if (value === "true") all[name] = true;
    else if (value === "false" || value === "") all[name] = false;
    else problems.push(`${key}=${raw} is not true or false`);
  }
  if (problems.length > 0) throw new TierError(problems);
  return {
    all,
    isOn(name) {
      const value = all[name];
      if (value === undefined) {
        const known = Object.keys(all).sort();
        throw new TierError([
          `unknown flag "${name}": declare it in environments/base.yaml flags (declared: ${known.join(", ") || "none"})`,
        ]);
      }
      return value;
    },
  };
}
