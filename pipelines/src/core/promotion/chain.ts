/**
 * The promotion chain as configuration declares it. Nothing here knows tier names: the order
 * comes from the environment model (`order`, and each tier's `promotion.from`).
 */
import { TiersError, UnknownTierError } from "../errors.ts";

/** The part of a tier's validated configuration promotion reads. */
export interface PromotionTier {
  tier?: string;
  marker?: string;
  runtime?: string;
  promotion?: { from?: string | null } | null;
  approvals?: { required?: number; source?: string } | null;
  signing?: {
    required?: boolean;
    mode?: string;
    key?: string | null;
    identity?: { subject?: string | null; issuer?: string | null } | null;
  } | null;
}

/** The part of the environment model promotion reads (structurally a subset of it). */
export interface PromotionModel {
  project: string;
  order: readonly string[];
  tiers: Readonly<Record<string, PromotionTier>>;
}

/** The tier a digest must have passed before it may enter `tier`. */
export function previousTier(model: PromotionModel, tier: string): string | undefined {
  // Only the chain promotion.from declares: the schema requires it on every tier, so the
  // order list never stands in for it (a tier that declares none starts a chain).
  return tierConfig(model, tier).promotion?.from ?? undefined;
}

/** The tier that promotes from `tier`, if any. */
export function nextTier(model: PromotionModel, tier: string): string | undefined {
  tierConfig(model, tier);
  return model.order.find((name) => name !== tier && previousTier(model, name) === tier);
}

/** The first tier of the chain (dev): where artefacts are published, not promoted into. */
export function chainStart(model: PromotionModel): string | undefined {
  return model.order.find((name) => previousTier(model, name) === undefined);
}

/** The configuration of `tier`, or UnknownTierError (the same lookup as `tierOf`). */
export function tierConfig(model: PromotionModel, tier: string): PromotionTier {
  const config = model.tiers[tier];
  if (!config) {
    throw new UnknownTierError(tier, model.order);
  }
  return config;
}

/** A tier that can be promoted into: it has a previous tier in the chain. */
export function requirePromotable(model: PromotionModel, tier: string): string {
  const from = previousTier(model, tier);
  if (!from) {
    throw new TiersError(
      `${tier} is the start of the promotion chain; nothing is promoted into it`,
      {
        where: `environments/${tier}.yaml`,
        hint: `promote into ${nextTier(model, tier) ?? "a later tier"} instead`,
      },
    );
  }
  return from;
}

/** True when `tier` keeps a Kustomize overlay pin (its runtime is Kubernetes). */
export function hasOverlay(model: PromotionModel, tier: string): boolean {
  return tierConfig(model, tier).runtime === "kubernetes";
}
