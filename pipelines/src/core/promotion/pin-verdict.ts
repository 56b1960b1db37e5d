/**
 * Which overlay pins hold: the decision `tiers deploy` (both engines) makes before it applies
 * anything, and automatic rollback makes before it restores earlier pins. A pin holds when its
 * digest has a passage into the tier recorded in git (a valid record about this digest, and the
 * registry still serves it), is not rejected (an unreadable rejection counts as one), and —
 * where the tier's signing policy requires signatures — the signature the promotion gate checked
 * (the previous tier's passage, annotated with that tier, by this tier's signer) still verifies.
 * That is the promotion gate re-checked at deploy, and the same rule the admission policy puts
 * in the cluster (docs/k8s.md#admission). Pure: the engines gather the facts.
 */
import { type EnvironmentModel, tierOf } from "../environment/index.ts";
import { TiersError } from "../errors.ts";
import { unpromotedDigest } from "../manifests/pins.ts";
import { chainStart, previousTier } from "./chain.ts";
import { type SigningPolicy, signingPolicy } from "./evidence.ts";
import type { EvidenceCheck } from "./gates.ts";
import { notRejectedGate } from "./gates.ts";
import type { RecordRead } from "./record-read.ts";
import type { RejectionRecord } from "./records.ts";
import { isDigest } from "./refs.ts";

/** One pin of a tier's overlay, as the overlay file states it. */
export interface OverlayPinRef {
  service: string;
  /** The overlay's `images[].name`. */
  image: string;
  repository: string;
  /** The pinned digest (undefined when the entry pins none). */
  digest: string | undefined;
  /** The overlay file the pin is in. */
  overlay: string;
}

/** What the engine found out about one pin. Checks it did not make are absent. */
export interface PinFacts extends OverlayPinRef {
  /** The passage into the tier: record valid and about this digest, registry serves it. */
  passage?: EvidenceCheck;
  rejection?: RecordRead<RejectionRecord>;
  /** Only where the tier's signing policy requires signatures (see deploySignature). */
  signature?: EvidenceCheck;
}

export interface PinVerdict extends OverlayPinRef {
  holds: boolean;
  /** Every reason it does not hold (empty when it holds). */
  why: string[];
}

/**
 * What a deploy of `tier` re-verifies of each pin's signature: the previous tier's passage by
 * the tier's own signing policy (what the signature gate checked on the way in), or undefined
 * where the policy does not require signatures or the previous tier is the chain start (which
 * makes no signed passages).
 */
export function deploySignature(
  model: EnvironmentModel,
  tier: string,
): { passageOf: string; policy: SigningPolicy } | undefined {
  const policy = signingPolicy(model, tier);
  const from = previousTier(model, tier);
  if (!policy.required || !from || chainStart(model) === from) return undefined;
  return { passageOf: from, policy };
}

/** True for the placeholder pin (`sha256:000…`): nothing promoted, which deploy refuses itself. */
export function isPlaceholderPin(pin: Pick<OverlayPinRef, "digest">): boolean {
  return pin.digest === unpromotedDigest;
}

/** Whether one pin holds, and every reason it does not. */
export function pinVerdict(facts: PinFacts, signatureRequired: boolean, tier: string): PinVerdict {
  const { passage, rejection, signature, ...pin } = facts;
  const why: string[] = [];
  if (!facts.digest || !isDigest(facts.digest)) {
    why.push(`pins ${facts.digest ?? "no digest"}, not a sha256 digest`);
  } else {
    if (!passage) why.push(`its passage into ${tier} was not checked`);
    else if (!passage.ok) why.push(`no passage into ${tier} holds: ${passage.why}`);
    if (!rejection) why.push("its rejection record was not checked");
    else {
      const gate = notRejectedGate(rejection);
      if (!gate.ok) why.push(gate.why);
    }
    if (signatureRequired) {
      if (!signature) why.push("its signature was not checked");
      else if (!signature.ok) why.push(`signature does not verify: ${signature.why}`);
    }
  }
  return { ...pin, holds: why.length === 0, why };
}

/** The verdicts of a tier's pins (placeholder pins aside: nothing promoted is not a pin to check). */
export function pinVerdicts(
  model: EnvironmentModel,
  tier: string,
  facts: readonly PinFacts[],
): PinVerdict[] {
  tierOf(model, tier);
  const signatureRequired = deploySignature(model, tier) !== undefined;
  return facts
    .filter((f) => !isPlaceholderPin(f))
    .map((f) => pinVerdict(f, signatureRequired, tier));
}

/** The refusal of a deploy whose pins do not all hold, naming each pin and why; else undefined. */
export function deployRefusal(
  tier: string,
  verdicts: readonly PinVerdict[],
): TiersError | undefined {
  const failing = verdicts.filter((v) => !v.holds);
  if (failing.length === 0) return undefined;
  const lines = failing.map(
    (v) => `  ✗ ${v.service} ${v.digest ?? "(no digest)"} (${v.overlay}): ${v.why.join("; ")}`,
  );
  return new TiersError(
    `deploy of ${tier} refused: ${failing.length} pin(s) do not hold; nothing was applied\n${lines.join("\n")}`,
    {
      where: failing[0]!.overlay,
      hint: `pin only what promotion recorded: \`tiers promote --env ${tier}\` (or \`tiers rollback --env ${tier}\`) writes the overlay; see \`tiers env ${tier} status\``,
    },
  );
}

/**
 * Which pin moves an automatic rollback may make: only back to a pin that holds (or to the
 * placeholder, "nothing promoted"). A move whose target does not hold stays where it is and is
 * reported; when no move may be made, the rollback is refused with every reason.
 */
export function restorable<C extends { service: string; to: string }>(
  tier: string,
  moves: readonly C[],
  verdicts: readonly PinVerdict[],
): { restore: C[]; kept: Array<{ move: C; why: string[] }> } {
  const restore: C[] = [];
  const kept: Array<{ move: C; why: string[] }> = [];
  for (const move of moves) {
    if (move.to === unpromotedDigest) {
      restore.push(move);
      continue;
    }
    const verdict = verdicts.find((v) => v.service === move.service && v.digest === move.to);
    if (verdict?.holds) restore.push(move);
    else kept.push({ move, why: verdict?.why ?? [`${move.to} was not verified for ${tier}`] });
  }
  return { restore, kept };
}
