/**
 * The promotion plan: exactly what `tiers promote` would change and whether it may. Building
 * and rendering it is pure; `tiers plan` prints it and changes nothing.
 */
import { type FlagDifference, formatFlagDifference } from "../observability/promotion.ts";
import { unifiedDiff } from "./diff.ts";
import { gateLine, type OutputLine } from "./gates.ts";
import { findPin, type OverlayPin, type PinEdit, setPins } from "./overlay.ts";
import type { GateResult, PinChange } from "./records.ts";
import { shortDigest } from "./refs.ts";
import { type SupplyChainLine, supplyChainPlanLines } from "./supply-chain-plan.ts";

/** One service's move. */
export interface PlannedChange extends PinChange {
  repository: string;
}

export interface PromotionPlan {
  tier: string;
  /** The tier the digests must have passed. */
  from: string;
  /** The overlay the pin lives in, or null for tiers without one (the test tier). */
  overlay: string | null;
  /** The artefact commit, when every candidate came from one. */
  commit: string | null;
  /** Which evidence verifier checks passages: `cosign` signatures or `local` git records. */
  evidence: "cosign" | "local";
  changes: PlannedChange[];
  /** Flags whose value differs between `from` and `tier`: the same digest behaves differently. */
  flags: FlagDifference[];
  /** True when every candidate is already pinned: promoting changes nothing. */
  unchanged: boolean;
  /** Unified diff of the overlay ("" when nothing changes). */
  diff: string;
  /** The overlay text after the edit (not shown; promote writes it). */
  overlayAfter: string | null;
  gates: GateResult[];
  /** Each candidate's SBOM, scan and provenance (shown next to the gates; decides nothing). */
  supplyChain: SupplyChainLine[];
  ok: boolean;
}

export interface PlanCandidate {
  service: string;
  repository: string;
  digest: string;
}

/**
 * Computes the overlay edit for the candidates. A service without an `images:` entry in the
 * overlay is an error rather than a silent insert: the pin's shape belongs to the overlay's
 * authors, promotion only moves the digest.
 */
export function computeOverlayEdit(
  overlayText: string,
  pins: readonly OverlayPin[],
  candidates: readonly PlanCandidate[],
  where: string,
): { changes: PlannedChange[]; after: string; missing: string[] } {
  const edits: PinEdit[] = [];
  const changes: PlannedChange[] = [];
  const missing: string[] = [];
  for (const c of candidates) {
    const pin = findPin(pins, c.service, c.repository);
    if (!pin) {
      missing.push(c.service);
      continue;
    }
    changes.push({
      service: c.service,
      image: pin.name,
      repository: pin.newName ?? c.repository,
      from: pin.digest ?? null,
      to: c.digest,
    });
    if (pin.digest !== c.digest) edits.push({ index: pin.index, digest: c.digest });
  }
  const after = edits.length > 0 ? setPins(overlayText, edits, where) : overlayText;
  return { changes, after, missing };
}

export function buildPlan(input: {
  tier: string;
  from: string;
  overlay: string | null;
  overlayBefore: string | null;
  overlayAfter: string | null;
  commit: string | null;
  evidence: "cosign" | "local";
  changes: PlannedChange[];
  /** Flag values that change on the way (core/observability/promotion.ts flagDifferences). */
  flags?: FlagDifference[];
  gates: GateResult[];
  supplyChain?: SupplyChainLine[];
  /** Candidates that never resolved to a digest: not plannable, though their gates say why. */
  unresolved?: number;
}): PromotionPlan {
  const diff =
    input.overlay && input.overlayBefore !== null && input.overlayAfter !== null
      ? unifiedDiff(input.overlayBefore, input.overlayAfter, {
          fromFile: `a/${input.overlay}`,
          toFile: `b/${input.overlay}`,
        })
      : "";
  const unchanged = input.changes.length > 0 && input.changes.every((c) => c.from === c.to);
  return {
    tier: input.tier,
    from: input.from,
    overlay: input.overlay,
    commit: input.commit,
    evidence: input.evidence,
    changes: input.changes,
    flags: input.flags ?? [],
    unchanged,
    diff,
    overlayAfter: input.overlayAfter,
    gates: input.gates,
    supplyChain: input.supplyChain ?? [],
    ok: input.gates.every((g) => g.ok) && (input.unresolved ?? 0) === 0,
  };
}

export function failingGates(plan: PromotionPlan): GateResult[] {
  return plan.gates.filter((g) => !g.ok);
}

/**
 * The plan as lines, each with its level: failing gates and a BLOCKED verdict are errors. The
 * caller prefixes each with the tier's marker.
 */
export function planLines(plan: PromotionPlan): OutputLine[] {
  const lines: OutputLine[] = [];
  const info = (text: string) => lines.push({ level: "info", text });
  info(
    `plan: promote into ${plan.tier} (from ${plan.from})${plan.commit ? ` — artefact ${plan.commit.slice(0, 12)}` : ""}`,
  );
  info(`evidence verifier: ${plan.evidence}`);
  for (const c of plan.changes) {
    const move =
      c.from === c.to
        ? `${shortDigest(c.to)} (already pinned)`
        : `${shortDigest(c.from ?? undefined)} → ${shortDigest(c.to)}`;
    info(`  ${c.service}: ${move}  [${c.repository}@${c.to}]`);
  }
  if (plan.flags.length === 0) info(`flags: same values as ${plan.from}`);
  else {
    info(`flags that change (${plan.from} → ${plan.tier}):`);
    for (const d of plan.flags) info(`  ${formatFlagDifference(d)}`);
  }
  if (plan.overlay === null) info("overlay: none (this tier has no Kustomize overlay to pin)");
  else if (plan.diff) {
    info(`overlay diff (${plan.overlay}):`);
    for (const line of plan.diff.trimEnd().split("\n")) info(`  ${line}`);
  } else info(`overlay: ${plan.overlay} unchanged`);
  lines.push(...supplyChainPlanLines(plan.supplyChain));
  info("gates:");
  for (const g of plan.gates) {
    const line = gateLine(g);
    lines.push({ ...line, text: `  ${line.text}` });
  }
  const failing = failingGates(plan).length;
  if (failing > 0) {
    lines.push({
      level: "error",
      text: `verdict: BLOCKED — ${failing} gate(s) failed; nothing would change`,
    });
  } else if (plan.unchanged) info("verdict: nothing to do — already pinned");
  else info("verdict: ready — `tiers promote` would pin and record this");
  return lines;
}

/** The plan's text, line by line (what `planLines` prints, without the levels). */
export function renderPlan(plan: PromotionPlan): string[] {
  return planLines(plan).map((line) => line.text);
}

/** The JSON shape of `tiers plan --json` (stable keys; no internal overlay text). */
export function planToJson(plan: PromotionPlan): object {
  const { overlayAfter: _omit, ...rest } = plan;
  return rest;
}
