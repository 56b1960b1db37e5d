/**
 * The environment variables that carry a tier's observability settings and flags to its
 * services, read by `@tiers/runtime` (services/runtime/src/observability.ts, flags.ts). Part of
 * `runtimeEnvironment(model, tier)`, so compose and the overlays derive them like the rest.
 */
import { flagValues } from "../environment/observability-schema.ts";
import type { Tier } from "../environment/schema.ts";

/** Prefix of every flag variable: `TIERS_FLAG_<NAME>`. */
export const flagPrefix = "TIERS_FLAG_";

/** `pause_enqueue` -> `TIERS_FLAG_PAUSE_ENQUEUE`: the variable a service reads a flag from. */
export function flagVariable(flag: string): string {
  return `${flagPrefix}${flag.toUpperCase()}`;
}

/** Every flag of the tier as the variables @tiers/runtime reads ("true"/"false"). */
export function flagEnvironment(tier: Pick<Tier, "flags">): Record<string, string> {
  return Object.fromEntries(
    Object.entries(flagValues(tier.flags)).map(([flag, on]) => [flagVariable(flag), String(on)]),
  );
}

/** Metrics, tracing and log settings as variables; the endpoint only where tracing is on. */
export function observabilityEnvironment(
  tier: Pick<Tier, "observability">,
): Record<string, string> {
  const { metrics, tracing, logs } = tier.observability;
  return {
    TIERS_METRICS_ENABLED: String(metrics.enabled),
    TIERS_METRICS_PATH: metrics.path,
    TIERS_TRACING_ENABLED: String(tracing.enabled),
    ...(tracing.enabled && tracing.endpoint !== null
      ? {
          TIERS_TRACING_ENDPOINT: tracing.endpoint,
          TIERS_TRACING_SAMPLE_RATE: String(tracing.sample_rate),
        }
      : {}),
    TIERS_LOG_DESTINATION: logs.destination,
  };
}
