/** `tiers plan`: resolves the candidates, gathers their facts and lets core judge them. Changes nothing. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type EnvironmentModel, tierOf } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { unpromotedDigest } from "../../../core/manifests/pins.ts";
import { flagDifferences } from "../../../core/observability/promotion.ts";
import { hasOverlay, requirePromotable } from "../../../core/promotion/chain.ts";
import {
  type EvidenceKind,
  type EvidenceVerifier,
  promotionEvidence,
} from "../../../core/promotion/evidence.ts";
import {
  type Candidate,
  type CandidateFacts,
  candidateGates,
  requiredGates,
  tierGates,
} from "../../../core/promotion/gates.ts";
import { oneReleaseVerdict, type PinAfter } from "../../../core/promotion/one-release.ts";
import { type OverlayPin, overlayPath } from "../../../core/promotion/overlay.ts";
import {
  buildPlan,
  computeOverlayEdit,
  type PlannedChange,
  type PromotionPlan,
} from "../../../core/promotion/plan.ts";
import { presentOrThrow } from "../../../core/promotion/record-read.ts";
import { type GateResult, passagePath, passageSchema } from "../../../core/promotion/records.ts";
import { serviceOfRepository } from "../../../core/promotion/services.ts";
import { PromotionRepo, whoAmI } from "../history.ts";
import { loadModelCached } from "../model-cache.ts";
import { evidenceVerifier } from "../signing.ts";
import { tierVerification } from "../verify-period.ts";
import { resolveCandidates } from "./candidates.ts";
import { approvalsFacts, candidateFacts } from "./facts.ts";
import { performanceFacts } from "./performance-facts.ts";
import type { PromotionRequest } from "./request.ts";
import { hostSources, type PromotionSources, readRecord } from "./sources.ts";
import { recordedEvidence, scanFact, supplyChainLines } from "./supply-chain-facts.ts";
import { candidateSoak, digestOverrides, tierHistory, windowFacts } from "./time-facts.ts";

/** A computed plan with everything promote needs to act on it. */
export interface PlanContext {
  model: EnvironmentModel;
  repo: PromotionRepo;
  head: string;
  plan: PromotionPlan;
  candidates: Candidate[];
  evidenceKind: EvidenceKind;
  verifier: EvidenceVerifier;
  /** Working-tree overlay text the edit applies to. */
  overlayBefore: string | null;
}

/** Computes the plan of a promotion into `request.tier`. Changes nothing. */
export async function computePlan(request: PromotionRequest): Promise<PlanContext> {
  const model = request.model ?? (await loadModelCached(request.root));
  const tier = tierOf(model, request.tier);
  const from = requirePromotable(model, request.tier);
  const env = request.env ?? process.env;
  const repo = new PromotionRepo(request.root, env);
  const sources = hostSources(request.root, env, repo, request.sources);
  // HEAD, who is promoting and the candidates are independent reads (git, git, registry): all
  // start now and run side by side; they are awaited in the order their errors take precedence.
  repo.prefetch();
  const pendingHead = repo.head();
  // Separation of duties: whoever runs the promotion never counts as one of its approvers, nor
  // waives its time gates.
  const pendingActor = whoAmI(repo, env);
  const pendingCandidates = resolveCandidates(request, model, sources);
  for (const pending of [pendingActor, pendingCandidates]) pending.catch(() => undefined);
  const head = await pendingHead;
  const kind = promotionEvidence(model, request.tier, request.evidence ?? env.TIERS_EVIDENCE);
  const verifier = evidenceVerifier(kind, { root: request.root, project: model.project, env });
  const candidates = await pendingCandidates;

  const soak = tier.promotion.criteria?.soak;
  const required = requiredGates(tier.promotion.gates, tier.signing.required, {
    soak: soak !== undefined,
    window: (tier.windows ?? []).length > 0,
  });
  // One clock for every time verdict of this plan (tests set it; see request.now).
  const now = (request.now ?? (() => new Date()))();
  const history = soak ? await tierHistory(sources.records, from) : undefined;
  const actor = await pendingActor;
  const facts: CandidateFacts[] = [];
  const overrides: Array<Awaited<ReturnType<typeof digestOverrides>>> = [];
  for (const c of candidates) {
    const f = await candidateFacts(
      request.tier,
      model,
      sources,
      verifier,
      c,
      required.has("signature"),
    );
    if (required.has("expand-contract")) {
      // Loaded only for a tier that judges it: the SQL parser is PostgreSQL's own, compiled to
      // WebAssembly, and loading it costs a cold plan tens of milliseconds.
      const { expandContractFact } = await import("./expand-contract-facts.ts");
      f.expandContract = await expandContractFact(repo, sources.records, model, request.tier, c);
    }
    const o = await digestOverrides(sources.records, request.tier, tier, c.digest, actor);
    overrides.push(o);
    if (soak && history) {
      const verdict = candidateSoak(from, soak, history, c, now);
      f.soak = o.problem ? { ...verdict, why: `${verdict.why}; ${o.problem}` } : verdict;
    }
    const security = required.has("security-scan")
      ? {
          criteria: tier.promotion.criteria?.security,
          scan: c.digest ? await scanFact(sources.records, c.digest) : undefined,
        }
      : undefined;
    if (required.has("performance")) {
      const verdict = await performanceFacts(sources.records, model, request.tier, c);
      if (verdict) f.performance = verdict;
    }
    facts.push({
      ...f,
      waivers: o.waivers,
      refusedWaivers: o.refused,
      ...(security ? { security } : {}),
    });
  }
  // The SBOM, scan and provenance next to the gates: shown when the tier judges the scan or
  // any of it was recorded, so tiers without supply-chain evidence print what they did before.
  const recorded = await recordedEvidence(sources.records);
  const evidenceLines = (
    await Promise.all(
      facts.map((f) => supplyChainLines(sources.records, f.candidate, recorded, f.security?.scan)),
    )
  ).flat();
  const supplyChain =
    required.has("security-scan") || evidenceLines.some((l) => l.ok) ? evidenceLines : [];
  const gates: GateResult[] = facts.flatMap((f) => candidateGates(model.project, f, required));
  const approvals = await approvalsFacts(request.tier, model, sources, candidates, env, actor);
  const windows = required.has("window")
    ? windowFacts(
        tier,
        now,
        overrides.map((o) => o.waivers),
        overrides.map((o) => o.refused),
      )
    : {};
  gates.push(...tierGates({ approvals, ...windows }, required));
  // The target tier's verification verdict (deploy.verify), beside the gates: informs the
  // promotion, and fails it only when a verification record cannot be read.
  if (tier.deploy.verify) {
    const verdict = await tierVerification(sources.records, request.tier, tier, () => now);
    if (verdict) gates.push({ gate: "verification", ok: verdict.ok, why: verdict.why });
  }

  const digested = candidates.filter((c): c is Candidate & { digest: string } => Boolean(c.digest));
  const pinning = hasOverlay(model, request.tier)
    ? await overlayChanges(request, repo, digested)
    : await passageChanges(request.tier, sources, digested);
  if (pinning.overlay && pinning.before !== null) {
    const one = await oneRelease(
      request,
      model,
      sources,
      repo.pins.read(pinning.before, pinning.overlay),
      digested,
    );
    if (one) gates.push(one);
  }
  const commits = [...new Set(candidates.map((c) => c.commit))];
  const plan = buildPlan({
    tier: request.tier,
    from,
    overlay: pinning.overlay,
    overlayBefore: pinning.before,
    overlayAfter: pinning.after,
    commit: commits.length === 1 ? (commits[0] ?? null) : null,
    evidence: kind,
    changes: pinning.changes,
    flags: flagDifferences(model, from, request.tier),
    gates,
    supplyChain,
    unresolved: candidates.length - digested.length,
  });
  return {
    model,
    repo,
    head,
    plan,
    candidates,
    evidenceKind: kind,
    verifier,
    overlayBefore: pinning.before,
  };
}

/**
 * The one-release rule over the tier's pins after the promotion: a moved pin comes from its
 * candidate's commit, one left alone from its passage into this tier (an unreadable passage
 * fails the plan, naming the file); the unpromoted placeholder runs nothing and is left out.
 */
async function oneRelease(
  request: PromotionRequest,
  model: EnvironmentModel,
  sources: PromotionSources,
  pins: readonly OverlayPin[],
  digested: ReadonlyArray<Candidate & { digest: string }>,
): Promise<GateResult | undefined> {
  const after: PinAfter[] = [];
  for (const pin of pins) {
    const service = serviceOfRepository(model, request.tier, pin.newName ?? pin.name) ?? pin.name;
    const moved = digested.find((c) => c.service === service);
    if (moved) {
      after.push({ service, commit: moved.commit, moved: true });
      continue;
    }
    if (!pin.digest || pin.digest === unpromotedDigest) continue;
    const passage = presentOrThrow(
      await readRecord(sources.records, passageSchema, passagePath(request.tier, pin.digest)),
    );
    after.push({ service, commit: passage?.commit ?? null, moved: false });
  }
  return oneReleaseVerdict({ tier: request.tier, after, service: request.service });
}

interface Pinning {
  overlay: string | null;
  before: string | null;
  after: string | null;
  changes: PlannedChange[];
}

/** A Kubernetes tier: the overlay edit that pins each digest. */
async function overlayChanges(
  request: PromotionRequest,
  repo: PromotionRepo,
  digested: ReadonlyArray<Candidate & { digest: string }>,
): Promise<Pinning> {
  const overlay = overlayPath(request.tier);
  const before = await readFile(join(request.root, overlay), "utf8").catch(() => {
    throw new TiersError(`${request.tier} has no overlay to pin`, {
      where: overlay,
      hint: "create k8s/overlays/<tier>/kustomization.yaml with an images: entry per service",
    });
  });
  const pins = repo.pins.read(before, overlay);
  const edit = computeOverlayEdit(before, pins, digested, overlay);
  if (edit.missing.length > 0) {
    throw new TiersError(`no images: entry for ${edit.missing.join(", ")}`, {
      where: overlay,
      hint: "add `- name: <image>, newName: <repository>, digest: …` for each service; promotion only edits digest",
    });
  }
  const changes = edit.changes.map((c) => ({
    ...c,
    from: c.from === unpromotedDigest ? null : c.from,
  }));
  return { overlay, before, after: edit.after, changes };
}

/** A tier without an overlay (the test tier): "pinned" means its passage is recorded. */
async function passageChanges(
  tier: string,
  sources: PromotionSources,
  digested: ReadonlyArray<Candidate & { digest: string }>,
): Promise<Pinning> {
  const changes: PlannedChange[] = [];
  for (const c of digested) {
    // An unreadable passage fails the plan naming the file: it is neither "pinned" nor "new".
    const existing = presentOrThrow(
      await readRecord(sources.records, passageSchema, passagePath(tier, c.digest)),
    );
    changes.push({
      service: c.service,
      image: c.repository,
      repository: c.repository,
      from: existing ? c.digest : null,
      to: c.digest,
    });
  }
  return { overlay: null, before: null, after: null, changes };
}
