/**
 * Evidence policy: which signing policy governs a passage, which verifier a promotion uses and
 * how a signer is named. Pure: the verifiers that act on it live in the engines
 * (engines/host/signing.ts, engines/dagger/evidence.ts).
 */
import { projectLabel } from "../artefact.ts";
import { type EnvironmentModel, tierOf } from "../environment/index.ts";
import { TiersError } from "../errors.ts";
import { nextTier } from "./chain.ts";
import type { EvidenceCheck } from "./gates.ts";
import type { Evidence } from "./records.ts";

export type EvidenceKind = "cosign" | "local";

/** A tier's signing policy as environments/<tier>.yaml states it. */
export interface SigningPolicy {
  required: boolean;
  mode: "none" | "key" | "keyless" | string;
  key?: string | undefined;
  identity?: { subject: string; issuer: string } | undefined;
}

/** The digest a passage is about. */
export interface PassageSubject {
  tier: string;
  digest: string;
  repository: string;
}

export interface EvidenceVerifier {
  readonly kind: EvidenceKind;
  /** Verifies that `subject.digest` carries a signature for `subject.tier` by `policy`'s signer. */
  verifySignature(subject: PassageSubject, policy: SigningPolicy): Promise<EvidenceCheck>;
  /** Makes the evidence for a new passage of `subject.tier`, signed per `policy`. */
  sign(subject: PassageSubject, policy: SigningPolicy): Promise<Evidence>;
}

/**
 * The annotation every passage signature of `tier` carries, `<project>.tier=<tier>`: cosign
 * signs it into the payload's `optional` map, promotion verifies it with `cosign verify -a`, and
 * the admission policy (core/manifests/admission.ts) asks the cluster to check the same pair.
 * One definition (projectLabel's `tier` key), so the three can never disagree on the key.
 */
export function passageAnnotations(project: string, tier: string): Record<string, string> {
  return { [projectLabel(project).tier]: tier };
}

/** `key:<ref>` / `identity:<subject> (<issuer>)`: how records and plans name a signer. */
export function describeSigner(policy: SigningPolicy): string | null {
  if (policy.mode === "key" && policy.key) return `key:${policy.key}`;
  if (policy.mode === "keyless" && policy.identity) {
    return `identity:${policy.identity.subject} (${policy.identity.issuer})`;
  }
  return null;
}

/** Which verifier to use: explicit choice first, else cosign when signatures are required. */
export function chooseEvidence(
  requested: string | undefined,
  signingRequired: boolean,
): EvidenceKind {
  if (requested === undefined || requested === "") return signingRequired ? "cosign" : "local";
  if (requested === "cosign" || requested === "local") return requested;
  throw new TiersError(`unknown evidence verifier "${requested}"`, {
    hint: "use --evidence cosign (signatures) or --evidence local (git records + registry digests)",
  });
}

/** The signing policy of a tier, as the evidence verifiers take it. */
export function signingPolicy(model: EnvironmentModel, tier: string): SigningPolicy {
  const s = tierOf(model, tier).signing;
  return { required: s.required, mode: s.mode, key: s.key, identity: s.identity };
}

/**
 * Who signs the passage of `tier`: the tier that will check it (the next one), so each tier's
 * policy names who may vouch for artefacts entering it. The last tier signs with its own.
 */
export function passageSigningPolicy(model: EnvironmentModel, tier: string): SigningPolicy {
  const next = nextTier(model, tier);
  const nextPolicy = next ? signingPolicy(model, next) : undefined;
  if (nextPolicy && nextPolicy.mode !== "none") return nextPolicy;
  return signingPolicy(model, tier);
}

/**
 * The verifier a promotion into `tier` uses: asked for (`--evidence`, else TIERS_EVIDENCE), else
 * cosign when the tier's own policy or the policy of the passage it makes requires signatures.
 */
export function promotionEvidence(
  model: EnvironmentModel,
  tier: string,
  requested: string | undefined,
): EvidenceKind {
  const required =
    signingPolicy(model, tier).required || passageSigningPolicy(model, tier).required;
  return chooseEvidence(requested, required);
}
