/**
 * Which part each tier plays, derived from the model and never from a tier's name: the release
 * tiers (every Kubernetes tier), the production tier (the end of the promotion chain), and the
 * tier that runs a local runtime (the compose stack, the ephemeral test tier). The one
 * definition of each; policies, engines and the CLI all ask here.
 */
import { TiersError } from "../errors.ts";

/**
 * A release tier runs release images only (no dev features, no mutable tags, no literal
 * secrets): every tier that runs on Kubernetes. The one definition, used everywhere.
 */
export function isReleaseTier(tier: { runtime?: unknown }): boolean {
  return tier.runtime === "kubernetes";
}

/** The release tiers of a loaded model, in promotion order. */
export function releaseTiersOf(model: {
  order: readonly string[];
  tiers: Readonly<Record<string, { runtime: string }>>;
}): string[] {
  return model.order.filter((name) => isReleaseTier(model.tiers[name]!));
}

/**
 * The production tier, which additionally requires mTLS and persistence: the end of the
 * promotion chain. `order` is the chain's order (empty while the chain is broken).
 */
export function productionTier(order: readonly string[]): string | undefined {
  return order.at(-1);
}

/** The production tier of a loaded model: the last tier of its promotion order. */
export function productionTierOf(model: { order: readonly string[] }): string | undefined {
  return productionTier(model.order);
}

/** The runtimes a tier runs on, as the tier files spell them. */
export type Runtime = "compose" | "ephemeral" | "kubernetes";

/** The tiers of a loaded model that run on `runtime`, in promotion order. */
export function tiersOfRuntime(
  model: { order: readonly string[]; tiers: Readonly<Record<string, { runtime: string }>> },
  runtime: Runtime,
): string[] {
  return model.order.filter((name) => model.tiers[name]!.runtime === runtime);
}

/**
 * The tier that runs on `runtime` (the first in promotion order when several do): where the
 * engines run the compose stack or the ephemeral test tier. A model without one is an error
 * that names the runtime, never a silent default.
 */
export function tierOfRuntime(
  model: { order: readonly string[]; tiers: Readonly<Record<string, { runtime: string }>> },
  runtime: Runtime,
): string {
  const [tier] = tiersOfRuntime(model, runtime);
  if (tier === undefined) {
    throw new TiersError(`no tier runs on ${runtime}; declared tiers: ${model.order.join(", ")}`, {
      hint: `add one with: tiers add tier NAME --after TIER --runtime ${runtime}`,
    });
  }
  return tier;
}
