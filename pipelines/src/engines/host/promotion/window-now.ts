/**
 * Whether a tier's windows let a promotion in at a given instant, as `tiers status` tells it.
 * The RRULE engine (time-facts.ts, rrule-temporal) is loaded only when a tier has windows, so a
 * status of tiers without windows never pays for it.
 */
import type { Tier } from "../../../core/environment/schema.ts";

export async function windowOf(tier: Tier, now: Date): Promise<{ open: boolean; why: string }> {
  const { tierWindowVerdict } = await import("./time-facts.ts");
  const verdict = tierWindowVerdict(tier, now);
  return { open: verdict.open, why: verdict.why };
}
