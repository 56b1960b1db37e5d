/**
 * The promotion gates. Each gate is a pure function of facts the engine gathered (git records,
 * registry answers, evidence verification, CI environment), so the same facts always give the
 * same verdict and every verdict says why. Any fact that could not be established fails its
 * gate: the gates fail closed.
 */
import type { GateResult, RejectionRecord } from "./records.ts";
import { isDigest } from "./refs.ts";

/** What one evidence verifier concluded about one passage. */
export interface EvidenceCheck {
  ok: boolean;
  why: string;
  /** Typed failure, so callers and tests can branch without reading prose. */
  failure?: "missing" | "unsigned" | "wrong-signer" | "digest-changed" | "invalid" | "unavailable";
}

/** A service image proposed for promotion. */
export interface Candidate {
  service: string;
  repository: string;
  /** The reference as it was proposed: `repo@sha256:…` is immutable, `repo:tag` is not. */
  reference: string;
  /** The digest promotion would pin (undefined when a tag could not be resolved). */
  digest: string | undefined;
  /** The artefact commit (the image's git SHA tag), when known. */
  commit: string | null;
}

export type Fact<T> = { ok: true; value: T } | { ok: false; why: string };

/** Everything the gates look at for one candidate. */
export interface CandidateFacts {
  candidate: Candidate;
  /** The tier the digest must have passed (from the promotion chain). */
  previousTier: string;
  /** True when the previous tier is the chain start, whose "passage" is being published. */
  previousIsChainStart: boolean;
  previousEvidence: EvidenceCheck;
  tests: Fact<{ passed: boolean; where: string; summary: string }>;
  labels: Fact<Record<string, string>>;
  /** What the registry serves for the candidate: the manifest digest it resolves to. */
  registryDigest: Fact<string>;
  rejection: RejectionRecord | undefined;
}

/** Facts about the tier as a whole. */
export interface TierFacts {
  approvals: { ok: boolean; why: string };
  signing: { ok: boolean; why: string };
}

export const gateNames = [
  "previous-passage",
  "tests-passed",
  "no-dev-label",
  "immutable-reference",
  "registry-digest",
  "not-rejected",
  "approvals",
  "signing-policy",
] as const;
export type GateName = (typeof gateNames)[number];

function gate(name: GateName, ok: boolean, why: string, service?: string): GateResult {
  return service === undefined ? { gate: name, ok, why } : { gate: name, ok, why, service };
}

/** The label that marks development images; policy keeps them out of later tiers. */
export function devLabelKey(project: string): string {
  return `${project}.environment`;
}

export function candidateGates(project: string, facts: CandidateFacts): GateResult[] {
  const { candidate: c } = facts;
  const s = c.service;
  const results: GateResult[] = [];

  results.push(
    gate(
      "previous-passage",
      facts.previousEvidence.ok,
      facts.previousIsChainStart
        ? `published from ${facts.previousTier}: ${facts.previousEvidence.why}`
        : facts.previousEvidence.ok
          ? `passed ${facts.previousTier}: ${facts.previousEvidence.why}`
          : `has not passed ${facts.previousTier}: ${facts.previousEvidence.why}`,
      s,
    ),
  );

  results.push(
    facts.tests.ok
      ? gate(
          "tests-passed",
          facts.tests.value.passed,
          `${facts.tests.value.passed ? "tests passed" : "tests FAILED"}: ${facts.tests.value.summary} (${facts.tests.value.where})`,
          s,
        )
      : gate("tests-passed", false, `no passing test report: ${facts.tests.why}`, s),
  );

  if (facts.labels.ok) {
    const key = devLabelKey(project);
    const value = facts.labels.value[key];
    results.push(
      value === "dev"
        ? gate("no-dev-label", false, `image is labelled ${key}=dev (a development build)`, s)
        : gate("no-dev-label", true, `no ${key}=dev label`, s),
    );
  } else {
    results.push(gate("no-dev-label", false, `labels could not be read: ${facts.labels.why}`, s));
  }

  const byDigest = c.reference.includes("@") && c.digest !== undefined && isDigest(c.digest);
  results.push(
    byDigest
      ? gate("immutable-reference", true, `referenced by digest ${c.digest}`, s)
      : gate(
          "immutable-reference",
          false,
          `"${c.reference}" is a mutable tag; promote a digest (sha256:…) instead`,
          s,
        ),
  );

  if (!facts.registryDigest.ok) {
    results.push(gate("registry-digest", false, facts.registryDigest.why, s));
  } else if (c.digest && facts.registryDigest.value !== c.digest) {
    results.push(
      gate(
        "registry-digest",
        false,
        `digest changed: the registry serves ${facts.registryDigest.value}, the record says ${c.digest}`,
        s,
      ),
    );
  } else {
    results.push(gate("registry-digest", true, `registry serves ${facts.registryDigest.value}`, s));
  }

  results.push(
    facts.rejection
      ? gate(
          "not-rejected",
          false,
          `rejected by ${facts.rejection.rejected_by} at ${facts.rejection.rejected_at}: ${facts.rejection.reason}`,
          s,
        )
      : gate("not-rejected", true, "no rejection recorded", s),
  );
  return results;
}

export function tierGates(facts: TierFacts): GateResult[] {
  return [
    gate("approvals", facts.approvals.ok, facts.approvals.why),
    gate("signing-policy", facts.signing.ok, facts.signing.why),
  ];
}

/** Approval policy of a tier, as configuration states it. */
export interface ApprovalPolicy {
  required: number;
  source: string;
}

/**
 * Decides the approvals gate. `ci-environment`: the job runs in the CI vendor's protected
 * environment named after the tier (the vendor enforced its reviewers before the job started).
 * `record`: enough distinct approvers in releases/approvals/<tier>/<digest>.yaml for every
 * digest.
 */
export function approvalsVerdict(
  tier: string,
  policy: ApprovalPolicy,
  ciEnvironment: string | undefined,
  approversByDigest: ReadonlyMap<string, readonly string[]>,
): { ok: boolean; why: string } {
  if (policy.required <= 0 || policy.source === "none") {
    return { ok: true, why: "this tier requires no approvals" };
  }
  if (policy.source === "ci-environment") {
    return ciEnvironment === tier
      ? { ok: true, why: `running in the CI environment "${tier}" (its protection rules approved)` }
      : {
          ok: false,
          why: ciEnvironment
            ? `CI environment is "${ciEnvironment}", not "${tier}"`
            : `needs ${policy.required} approval(s) from the CI environment "${tier}"; not running in it`,
        };
  }
  if (policy.source === "record") {
    const short: string[] = [];
    for (const [digest, approvers] of approversByDigest) {
      const distinct = new Set(approvers);
      if (distinct.size < policy.required) {
        short.push(`${digest.slice(0, 19)} has ${distinct.size}/${policy.required}`);
      }
    }
    return short.length === 0
      ? { ok: true, why: `${policy.required} approval(s) recorded for every digest` }
      : { ok: false, why: `missing approvals (releases/approvals/${tier}/): ${short.join(", ")}` };
  }
  return { ok: false, why: `unknown approvals source "${policy.source}"` };
}
