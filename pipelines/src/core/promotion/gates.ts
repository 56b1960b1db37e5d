/**
 * The promotion gates. Each gate is a pure function of facts the engine gathered (git records,
 * registry answers, evidence verification, CI environment), so the same facts always give the
 * same verdict and every verdict says why. Any fact that could not be established fails its
 * gate: the gates fail closed.
 */
import { developmentImageLabel, projectLabel } from "../artefact.ts";
import { gateNames } from "../environment/schema.ts";
import type { OverridableGate } from "../environment/time-schema.ts";
import { checkExpandContract, type MigrationFile } from "../repository/expand-contract.ts";
import { describeInvalid, type RecordRead } from "./record-read.ts";
import type { GateResult, RejectionRecord, Waiver } from "./records.ts";
import { isDigest } from "./refs.ts";
import { type ScanFact, type SecurityCriteria, securityVerdict } from "./security.ts";

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
  /** The previous tier's passage: its git record exists and the registry still serves it. */
  passage: EvidenceCheck;
  /** The previous tier's passage signature, verified against this tier's signing policy. */
  signature: EvidenceCheck;
  tests: Fact<{ passed: boolean; where: string; summary: string }>;
  labels: Fact<Record<string, string>>;
  /** What the registry serves for the candidate: the manifest digest it resolves to. */
  registryDigest: Fact<string>;
  /** The digest's rejection record: absent passes `not-rejected`; present or invalid fail it. */
  rejection: RecordRead<RejectionRecord>;
  /** The soak verdict (core/promotion/soak.ts), when the tier asks for a soak. */
  soak?: { ok: boolean; why: string };
  /** What the expand-contract gate judges, when the tier asks for it (gathered from git). */
  expandContract?: Fact<ExpandContractFact>;
  /** The performance verdict (core/promotion/performance.ts), when the tier sets its criteria. */
  performance?: { ok: boolean; why: string };
  /** Recorded overrides of time gates for this digest, already limited to the tier's allow-list. */
  waivers?: Partial<Record<OverridableGate, Waiver>>;
  /**
   * Overrides recorded but not counted, and why: the tier does not let the gate be waived, or
   * the override is by whoever runs this promotion (separation of duties, as for approvals).
   */
  refusedWaivers?: Partial<Record<OverridableGate, RefusedWaiver>>;
  /** The digest's recorded scan and the tier's threshold, when the tier lists security-scan. */
  security?: { criteria: SecurityCriteria | undefined; scan: ScanFact | undefined };
}

/** An override that is recorded but does not count, and why. */
export interface RefusedWaiver {
  waiver: Waiver;
  why: string;
}

/** Facts about the tier as a whole. */
export interface TierFacts {
  approvals: { ok: boolean; why: string };
  /** The window verdict (core/promotion/windows.ts), when the tier declares windows. */
  window?: { ok: boolean; why: string };
  /** A window override, when every candidate digest carries one the tier allows. */
  windowWaiver?: Waiver;
}

/**
 * Gates a tier can ask for in `promotion.gates` (environments/<tier>.yaml): the environment
 * schema's list, which is what a tier file is validated against.
 */
export const configurableGates = gateNames;

/**
 * Gates every promotion checks whatever the configuration says, because they are what
 * "build once, promote the digest" means: a digest (never a tag), the digest the registry
 * serves, built from a commit whose tests passed.
 */
export const invariantGates = ["immutable-reference", "registry-digest", "tests-passed"] as const;

/**
 * Gates that follow from a tier's time settings rather than `promotion.gates`: `soak` when
 * `promotion.criteria.soak` is set, `window` when `windows:` has entries.
 */
export const timeGates = ["soak", "window"] as const;

export type GateName =
  | (typeof configurableGates)[number]
  | (typeof invariantGates)[number]
  | (typeof timeGates)[number];

/** The gates a promotion into a tier checks: its configured ones plus the invariants. */
export function requiredGates(
  configured: readonly string[],
  signingRequired: boolean,
  timed: { soak?: boolean; window?: boolean } = {},
): Set<GateName> {
  const set = new Set<GateName>(invariantGates);
  if (timed.soak) set.add("soak");
  if (timed.window) set.add("window");
  for (const name of configured) {
    if ((configurableGates as readonly string[]).includes(name)) set.add(name as GateName);
  }
  // A signing policy that requires signatures implies the signature gate.
  if (signingRequired) set.add("signature");
  return set;
}

function gate(name: GateName, ok: boolean, why: string, service?: string): GateResult {
  return service === undefined ? { gate: name, ok, why } : { gate: name, ok, why, service };
}

/**
 * A time gate's result with overrides applied: a failing verdict with an allowed override
 * passes and carries the waiver (so the passage record keeps it); an override the tier does
 * not allow is named but changes nothing. A passing verdict ignores overrides.
 */
export function withWaiver(
  result: GateResult,
  waiver: Waiver | undefined,
  refused?: RefusedWaiver,
): GateResult {
  if (result.ok) return result;
  if (waiver) {
    return {
      ...result,
      ok: true,
      why: `WAIVED by ${waiver.by} at ${waiver.at} ("${waiver.reason}"); the gate said: ${result.why}`,
      waiver,
    };
  }
  if (refused) {
    return {
      ...result,
      why: `${result.why}; an override by ${refused.waiver.by} is recorded but does not count: ${refused.why}`,
    };
  }
  return result;
}

/** The label that marks development images; policy keeps them out of later tiers. */
export function devLabelKey(project: string): string {
  return projectLabel(project).environment;
}

/** The gates of one candidate, in a fixed order, limited to `required`. */
export function candidateGates(
  project: string,
  facts: CandidateFacts,
  required: ReadonlySet<GateName>,
): GateResult[] {
  const { candidate: c } = facts;
  const s = c.service;
  const results: GateResult[] = [];
  const want = (name: GateName) => required.has(name);

  if (want("passage")) {
    results.push(
      gate(
        "passage",
        facts.passage.ok,
        facts.previousIsChainStart
          ? `published from ${facts.previousTier}: ${facts.passage.why}`
          : facts.passage.ok
            ? `passed ${facts.previousTier}: ${facts.passage.why}`
            : `has not passed ${facts.previousTier}: ${facts.passage.why}`,
        s,
      ),
    );
  }
  if (want("signature")) {
    results.push(gate("signature", facts.signature.ok, facts.signature.why, s));
  }

  if (want("tests-passed")) {
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
  }

  if (want("no-dev-image")) {
    if (facts.labels.ok) {
      const key = devLabelKey(project);
      const value = facts.labels.value[key];
      results.push(
        value === developmentImageLabel
          ? gate(
              "no-dev-image",
              false,
              `image is labelled ${key}=${developmentImageLabel} (a development build)`,
              s,
            )
          : gate("no-dev-image", true, `no ${key}=${developmentImageLabel} label`, s),
      );
    } else {
      results.push(gate("no-dev-image", false, `labels could not be read: ${facts.labels.why}`, s));
    }
  }

  if (want("immutable-reference")) {
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
  }

  if (want("registry-digest")) {
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
      results.push(
        gate("registry-digest", true, `registry serves ${facts.registryDigest.value}`, s),
      );
    }
  }

  if (want("not-rejected")) results.push(notRejectedGate(facts.rejection, s));

  if (want("expand-contract")) results.push(expandContractGate(facts.expandContract, s));
  if (want("security-scan")) {
    // No security fact means nobody read the scan: fail closed.
    const verdict = facts.security
      ? securityVerdict(facts.security.criteria, c.digest, facts.security.scan)
      : { ok: false, why: "the scan report was not read" };
    results.push(gate("security-scan", verdict.ok, verdict.why, s));
  }
  if (want("performance")) {
    // No verdict means nobody judged the figures: fail closed.
    const p = facts.performance ?? { ok: false, why: "the performance figures were not judged" };
    results.push(gate("performance", p.ok, p.why, s));
  }

  if (want("soak")) {
    // No soak fact means nobody measured it: fail closed.
    const soak = facts.soak ?? { ok: false, why: "the soak was not measured" };
    results.push(
      withWaiver(
        gate("soak", soak.ok, soak.why, s),
        facts.waivers?.soak,
        facts.refusedWaivers?.soak,
      ),
    );
  }
  return results;
}

// --- expand-contract (issue 14) ---

/**
 * What the expand-contract gate needs about one candidate, all read from git by the engine: the
 * candidate commit's migrations, and which migrations the target tier runs now — those present
 * at the commit of the digest its overlay pins (the commit its passage record names).
 */
export interface ExpandContractFact {
  /** The tier being promoted into. */
  tier: string;
  /** The service's migrations directory (absent: the service has none, e.g. a pulled image). */
  dir?: string;
  /** The candidate commit's migrations, in the runner's order. */
  migrations: readonly MigrationFile[];
  /** Migration ids the tier runs; null when nothing is promoted there yet (no live colour). */
  released: ReadonlySet<string> | null;
  /** Where `released` was read from, for the verdict. */
  releasedFrom: string;
}

/**
 * The expand-contract verdict: a candidate whose commit carries a migration the target tier has
 * not run that drops or renames a table or column is refused, unless that migration is marked
 * as the contract step of an expand the tier already runs (core/repository/expand-contract.ts,
 * the rule `tiers validate` checks, applied here to the commit being promoted). A fact that
 * could not be read fails the gate. The SQL parser must have been loaded (loadSqlParser).
 */
export function expandContractGate(
  fact: Fact<ExpandContractFact> | undefined,
  service: string,
): GateResult {
  const name = "expand-contract";
  if (!fact) return gate(name, false, "the migrations were not read", service);
  if (!fact.ok) return gate(name, false, fact.why, service);
  const f = fact.value;
  if (!f.dir || f.migrations.length === 0)
    return gate(name, true, `no migrations${f.dir ? ` in ${f.dir}` : ""}`, service);
  if (f.released === null) {
    return gate(
      name,
      true,
      `nothing live in ${f.tier} yet (${f.releasedFrom}): no colour reads the old schema`,
      service,
    );
  }
  const problems = checkExpandContract({
    tier: f.tier,
    service,
    migrations: f.migrations,
    released: f.released,
  });
  if (problems.length) {
    const listed = problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    return gate(name, false, listed.join("; "), service);
  }
  const fresh = f.migrations.filter((m) => !f.released!.has(m.id)).length;
  return gate(
    name,
    true,
    fresh
      ? `${fresh} migration(s) new to ${f.tier}, none drops or renames what it still reads (${f.releasedFrom})`
      : `no migration new to ${f.tier} (${f.releasedFrom})`,
    service,
  );
}

/**
 * The `not-rejected` verdict of one rejection read. Only a rejection that is certainly absent
 * passes: a record that exists but cannot be read may be a rejection, so it fails closed.
 */
export function notRejectedGate(
  rejection: RecordRead<RejectionRecord>,
  service?: string,
): GateResult {
  switch (rejection.state) {
    case "absent":
      return gate("not-rejected", true, "no rejection recorded", service);
    case "present":
      return gate(
        "not-rejected",
        false,
        `rejected by ${rejection.value.rejected_by} at ${rejection.value.rejected_at}: ${rejection.value.reason}`,
        service,
      );
    case "invalid":
      return gate(
        "not-rejected",
        false,
        `rejection record cannot be read, so the digest counts as rejected: ${describeInvalid(rejection)}`,
        service,
      );
  }
}

/** Tier-wide gates (approvals, window), limited to `required`. */
export function tierGates(facts: TierFacts, required: ReadonlySet<GateName>): GateResult[] {
  const results: GateResult[] = [];
  if (required.has("approvals")) {
    results.push(gate("approvals", facts.approvals.ok, facts.approvals.why));
  }
  if (required.has("window")) {
    const window = facts.window ?? { ok: false, why: "the windows were not evaluated" };
    results.push(withWaiver(gate("window", window.ok, window.why), facts.windowWaiver));
  }
  return results;
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
 *
 * Separation of duties: whoever runs the promotion (`actor`) never counts as one of its
 * approvers, as GitHub's "Prevent self-review" rule for environments forbids the user who
 * triggered a deployment to approve it
 * (https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment#required-reviewers).
 * The actor's approvals stay listed in the record and are named in the verdict, but not counted.
 */
export function approvalsVerdict(
  tier: string,
  policy: ApprovalPolicy,
  ciEnvironment: string | undefined,
  approversByDigest: ReadonlyMap<string, readonly string[]>,
  actor?: string,
  /** Approval records that exist but cannot be read: each fails the gate, named. */
  unreadable: readonly string[] = [],
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
    if (unreadable.length > 0) {
      return {
        ok: false,
        why: `approval record(s) cannot be read, so they count for nothing: ${unreadable.join("; ")}`,
      };
    }
    const short: string[] = [];
    let selfApproved = false;
    for (const [digest, approvers] of approversByDigest) {
      const distinct = new Set(approvers);
      if (actor !== undefined && distinct.delete(actor)) selfApproved = true;
      if (distinct.size < policy.required) {
        short.push(`${digest.slice(0, 19)} has ${distinct.size}/${policy.required}`);
      }
    }
    const note = selfApproved
      ? `; approvals by ${actor}, who runs this promotion, are listed but not counted (separation of duties)`
      : "";
    return short.length === 0
      ? { ok: true, why: `${policy.required} approval(s) recorded for every digest${note}` }
      : {
          ok: false,
          why: `missing approvals (releases/approvals/${tier}/): ${short.join(", ")}${note}`,
        };
  }
  return { ok: false, why: `unknown approvals source "${policy.source}"` };
}

/** `<gate> [<service>]`: how every line that names a gate names it. */
export function gateLabel(g: { gate: string; service?: string | undefined }): string {
  return `${g.gate}${g.service ? ` [${g.service}]` : ""}`;
}

/**
 * A line of output and how it is printed: a surface picks stdout or stderr from `level`, never
 * by searching the text for a ✗.
 */
export interface OutputLine {
  level: "info" | "error";
  text: string;
}

/** One gate's line, `✓ passage [api]: passed test` or `✗ approvals: missing approvals`. */
export function gateLine(g: {
  gate: string;
  ok: boolean;
  why: string;
  service?: string | undefined;
}): OutputLine {
  return { level: g.ok ? "info" : "error", text: `${g.ok ? "✓" : "✗"} ${gateLabel(g)}: ${g.why}` };
}
