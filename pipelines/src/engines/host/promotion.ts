/**
 * Promotion on the host: gathers the facts the pure gates judge (git records at HEAD, the
 * registry via skopeo, evidence via cosign or local records, approvals), builds the plan, and
 * — for `promote`, `rollback` and `reject` — writes one git commit under an exclusive lock with
 * a compare-and-swap on the branch. The overlay pin (`images[].digest`) is the only field of
 * k8s/ it ever edits.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  type ArtefactRecord,
  artefactDir,
  parseArtefactRecord,
  readArtefactRecord,
} from "../../core/artefact.ts";
import {
  type EnvironmentModel,
  imageRepository,
  loadModel,
  type Tier,
} from "../../core/environment/index.ts";
import { TiersError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import {
  chainStart,
  hasOverlay,
  nextTier,
  type PromotionModel,
  previousTier,
  requirePromotable,
} from "../../core/promotion/chain.ts";
import {
  approvalsVerdict,
  type Candidate,
  type CandidateFacts,
  candidateGates,
  type EvidenceCheck,
  type Fact,
  requiredGates,
  tierGates,
} from "../../core/promotion/gates.ts";
import { findPin, overlayPath, readPins, setPins } from "../../core/promotion/overlay.ts";
import {
  buildPlan,
  computeOverlayEdit,
  failingGates,
  type PlannedChange,
  type PromotionPlan,
} from "../../core/promotion/plan.ts";
import {
  type ApprovalRecord,
  approvalPath,
  approvalSchema,
  type GateResult,
  type HistoryRecord,
  historyPath,
  historySchema,
  type PassageRecord,
  passagePath,
  passageSchema,
  type RejectionRecord,
  rejectionPath,
  rejectionSchema,
  releasesDir,
  renderRecord,
  type TestReportRecord,
  testReportPath,
  testReportSchema,
} from "../../core/promotion/records.ts";
import { isDigest, parseImageRef, pinnedRef, shortDigest } from "../../core/promotion/refs.ts";
import * as registry from "../../tools/registry.ts";
import { acquireLock, PromotionRepo, unpromotedDigest, whoAmI } from "./history.ts";
import { runHost } from "./run.ts";
import {
  chooseEvidence,
  describeSigner,
  type EvidenceKind,
  type EvidenceVerifier,
  evidenceVerifier,
  type SigningPolicy,
} from "./signing.ts";

/** What to promote and how to check it. */
export interface PromotionRequest {
  root: string;
  tier: string;
  /** One digest (its service is found from artefact records or the registry). */
  digest?: string;
  /** Every image of one published commit (.tiers/artefacts/<commit>.json). */
  commit?: string;
  /** Any image reference, tag or digest (a tag fails the immutable-reference gate). */
  image?: string;
  /** Limit to one service, or name the service of a bare digest. */
  service?: string;
  /** `cosign` or `local`; default: cosign when a signing policy involved requires it. */
  evidence?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Already loaded model (tests, callers that loaded it). */
  model?: EnvironmentModel;
}

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

function asPromotionModel(model: EnvironmentModel): PromotionModel {
  return model as unknown as PromotionModel;
}

function tierOfModel(model: EnvironmentModel, name: string): Tier {
  requireTier(model, name);
  return model.tiers[name]!;
}

function requireTier(model: EnvironmentModel, name: string): void {
  if (!model.tiers[name]) {
    throw new TiersError(`unknown tier "${name}"`, {
      where: "environments/",
      hint: `declared tiers: ${model.order.join(", ")}`,
      exitCode: 2,
    });
  }
}

/** The signing policy of a tier, as the evidence verifiers take it. */
export function signingPolicy(model: EnvironmentModel, tier: string): SigningPolicy {
  const s = tierOfModel(model, tier).signing;
  return { required: s.required, mode: s.mode, key: s.key, identity: s.identity };
}

/**
 * Who signs the passage of `tier`: the tier that will check it (the next one), so each tier's
 * policy names who may vouch for artefacts entering it. The last tier signs with its own.
 */
export function passageSigningPolicy(model: EnvironmentModel, tier: string): SigningPolicy {
  const next = nextTier(asPromotionModel(model), tier);
  const nextPolicy = next ? signingPolicy(model, next) : undefined;
  if (nextPolicy && nextPolicy.mode !== "none") return nextPolicy;
  return signingPolicy(model, tier);
}

function verifierFor(
  model: EnvironmentModel,
  request: PromotionRequest,
): { kind: EvidenceKind; verifier: EvidenceVerifier } {
  const env = request.env ?? process.env;
  const required =
    signingPolicy(model, request.tier).required ||
    passageSigningPolicy(model, request.tier).required;
  const kind = chooseEvidence(request.evidence ?? env.TIERS_EVIDENCE, required);
  return {
    kind,
    verifier: evidenceVerifier(kind, { root: request.root, project: model.project, env }),
  };
}

// ---------------------------------------------------------------------------------------------
// Registry facts

/** What skopeo says about one reference, or why it could not say. */
async function inspectRef(
  root: string,
  ref: string,
  env: NodeJS.ProcessEnv,
): Promise<Fact<registry.RemoteImage>> {
  const invocation = registry.inspect(ref);
  try {
    const result = await runHost(invocation, { root, env, reject: false });
    if (result.exitCode !== 0) {
      const error = registry.registryError(invocation, result, registry.registryOf(ref));
      return { ok: false, why: `${error.message.split("\n")[0]} (${ref})` };
    }
    return { ok: true, value: registry.parseInspect(result.stdout) };
  } catch (error) {
    return { ok: false, why: `cannot inspect ${ref}: ${(error as Error).message.split("\n")[0]}` };
  }
}

async function allArtefactRecords(root: string): Promise<ArtefactRecord[]> {
  const dir = join(root, artefactDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const records: ArtefactRecord[] = [];
  for (const name of names) {
    if (!/^[0-9a-f]{40}\.json$/.test(name)) continue;
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    try {
      records.push(parseArtefactRecord(text, join(dir, name)));
    } catch {
      // A broken record is reported when it is asked for by commit; a digest search skips it.
    }
  }
  return records;
}

function serviceOfRepository(model: EnvironmentModel, tier: string, repository: string) {
  const services = Object.keys(tierOfModel(model, tier).services);
  return (
    services.find((s) => imageRepository(model, tier, s) === repository) ??
    services.find((s) => repository.endsWith(`/${s}`))
  );
}

// ---------------------------------------------------------------------------------------------
// Candidates: what would be promoted

async function candidatesFromRecord(
  record: ArtefactRecord,
  only: string | undefined,
): Promise<Candidate[]> {
  const entries = Object.entries(record.images).filter(([s]) => !only || s === only);
  if (entries.length === 0) {
    throw new TiersError(
      `artefact ${record.commit.slice(0, 12)} has no image of service "${only}"`,
      {
        where: join(artefactDir, `${record.commit}.json`),
        hint: `its services: ${Object.keys(record.images).join(", ")}`,
      },
    );
  }
  return entries.map(([service, image]) => ({
    service,
    repository: image.repository,
    reference: image.ref,
    digest: image.digest,
    commit: record.commit,
  }));
}

async function resolveCommitRecord(root: string, commit: string): Promise<ArtefactRecord> {
  if (/^[0-9a-f]{40}$/.test(commit) || commit === "latest") return readArtefactRecord(root, commit);
  const matches = (await allArtefactRecords(root)).filter((r) => r.commit.startsWith(commit));
  if (matches.length === 1) return matches[0]!;
  throw new TiersError(
    matches.length === 0
      ? `no published artefact for commit ${commit}`
      : `commit ${commit} is ambiguous (${matches.map((m) => m.commit.slice(0, 12)).join(", ")})`,
    {
      where: artefactDir,
      hint: "give the full commit SHA; `tiers publish` writes one record per published commit",
    },
  );
}

async function candidatesForDigest(
  request: PromotionRequest,
  model: EnvironmentModel,
  digest: string,
): Promise<Candidate[]> {
  for (const record of await allArtefactRecords(request.root)) {
    for (const [service, image] of Object.entries(record.images)) {
      if (image.digest === digest && (!request.service || request.service === service)) {
        return [
          {
            service,
            repository: image.repository,
            reference: image.ref,
            digest,
            commit: record.commit,
          },
        ];
      }
    }
  }
  // Not in any local artefact record: ask the registry which service repository holds it.
  const env = request.env ?? process.env;
  const services = request.service
    ? [request.service]
    : Object.keys(tierOfModel(model, request.tier).services);
  for (const service of services) {
    const repository = imageRepository(model, request.tier, service);
    const found = await inspectRef(request.root, pinnedRef(repository, digest), env);
    if (found.ok) {
      return [
        {
          service,
          repository,
          reference: pinnedRef(repository, digest),
          digest,
          commit: found.value.labels["org.opencontainers.image.revision"] ?? null,
        },
      ];
    }
  }
  throw new TiersError(`no service repository in the registry holds ${digest}`, {
    where: services.map((s) => imageRepository(model, request.tier, s)).join(", "),
    hint: "check the digest (`tiers status`), or publish the artefact first (`tiers publish`)",
  });
}

async function candidateForImage(
  request: PromotionRequest,
  model: EnvironmentModel,
  image: string,
): Promise<Candidate[]> {
  const ref = parseImageRef(image);
  const env = request.env ?? process.env;
  const inspected = await inspectRef(request.root, image, env);
  const service =
    request.service ??
    serviceOfRepository(model, request.tier, ref.repository) ??
    (inspected.ok ? inspected.value.labels[`${model.project}.service`] : undefined);
  if (!service) {
    throw new TiersError(`cannot tell which service ${image} is`, {
      hint: "add --service <name>",
    });
  }
  return [
    {
      service,
      repository: ref.repository,
      reference: image,
      digest: ref.digest ?? (inspected.ok ? inspected.value.digest : undefined),
      commit: inspected.ok
        ? (inspected.value.labels["org.opencontainers.image.revision"] ?? null)
        : null,
    },
  ];
}

/**
 * What is waiting below `tier`: the previous tier's pins (if it has an overlay), else the
 * commit of its most recent passage, else the latest published artefact.
 */
async function waitingCandidates(
  request: PromotionRequest,
  model: EnvironmentModel,
  repo: PromotionRepo,
): Promise<Candidate[]> {
  const pm = asPromotionModel(model);
  const from = previousTier(pm, request.tier);
  if (from && hasOverlay(pm, from)) {
    const pins = (await repo.pinsAt(from)) ?? [];
    const live = pins.filter(
      (p) => p.digest && p.digest !== unpromotedDigest && isDigest(p.digest),
    );
    const out: Candidate[] = [];
    for (const pin of live) {
      const service = serviceOfRepository(model, request.tier, pin.newName ?? pin.name);
      if (!service || (request.service && service !== request.service)) continue;
      const passage = await repo.record(passageSchema, passagePath(from, pin.digest!));
      const repository = pin.newName ?? imageRepository(model, request.tier, service);
      out.push({
        service,
        repository,
        reference: pinnedRef(repository, pin.digest!),
        digest: pin.digest!,
        commit: passage?.commit ?? null,
      });
    }
    if (out.length > 0) return out;
    throw new TiersError(
      `nothing is pinned in ${from} yet, so nothing waits to enter ${request.tier}`,
      {
        where: overlayPath(from),
        hint: `promote into ${from} first, or name what to promote with --digest or --commit`,
      },
    );
  }
  if (from) {
    const passages = await listPassages(repo, from);
    const newest = passages[0];
    if (newest?.commit) {
      const record = await readArtefactRecord(request.root, newest.commit).catch(() => undefined);
      if (record) return candidatesFromRecord(record, request.service);
      return passages
        .filter((p) => p.commit === newest.commit)
        .filter((p) => !request.service || p.service === request.service)
        .map((p) => ({
          service: p.service,
          repository: p.repository,
          reference: pinnedRef(p.repository, p.digest),
          digest: p.digest,
          commit: p.commit,
        }));
    }
  }
  const latest = await readArtefactRecord(request.root, "latest").catch(() => undefined);
  if (latest) return candidatesFromRecord(latest, request.service);
  throw new TiersError(
    `nothing waits to enter ${request.tier}: ${from ?? "the tier below"} has no passage and nothing is published`,
    {
      hint: "name what to promote with --digest <sha256:…> or --commit <sha>",
    },
  );
}

async function resolveCandidates(
  request: PromotionRequest,
  model: EnvironmentModel,
  repo: PromotionRepo,
): Promise<Candidate[]> {
  const given = [request.digest, request.commit, request.image].filter(Boolean).length;
  if (given > 1) {
    throw new TiersError("give only one of --digest, --commit and --image", { exitCode: 2 });
  }
  if (request.digest) return candidatesForDigest(request, model, request.digest);
  if (request.commit) {
    return candidatesFromRecord(
      await resolveCommitRecord(request.root, request.commit),
      request.service,
    );
  }
  if (request.image) return candidateForImage(request, model, request.image);
  return waitingCandidates(request, model, repo);
}

// ---------------------------------------------------------------------------------------------
// Facts and plan

/** Every passage record of a tier at HEAD, newest first. */
export async function listPassages(repo: PromotionRepo, tier: string): Promise<PassageRecord[]> {
  const files = await repo.files(`${releasesDir}/passages/${tier}`);
  const out: PassageRecord[] = [];
  for (const file of files) {
    const record = await repo.record(passageSchema, file).catch(() => undefined);
    if (record) out.push(record);
  }
  return out.sort((a, b) => b.recorded_at.localeCompare(a.recorded_at));
}

/**
 * The passage gate's evidence in git: the record exists at HEAD, names this tier and digest,
 * and the registry still serves the digest.
 */
async function passageCheck(
  repo: PromotionRepo,
  tier: string,
  digest: string,
  served: Fact<registry.RemoteImage>,
): Promise<{ check: EvidenceCheck; record?: PassageRecord }> {
  const path = passagePath(tier, digest);
  let record: PassageRecord | undefined;
  try {
    record = await repo.record(passageSchema, path);
  } catch (error) {
    return { check: { ok: false, failure: "invalid", why: (error as TiersError).describe() } };
  }
  if (!record) {
    return {
      check: { ok: false, failure: "missing", why: `no passage record ${path} in git (HEAD)` },
    };
  }
  if (record.tier !== tier || record.digest !== digest) {
    return {
      check: {
        ok: false,
        failure: "invalid",
        why: `${path} is about ${record.tier} ${record.digest}`,
      },
      record,
    };
  }
  if (!served.ok) {
    return { check: { ok: false, failure: "digest-changed", why: served.why }, record };
  }
  return {
    check: {
      ok: true,
      why: `${path} (by ${record.recorded_by}, ${record.recorded_at}, ${record.evidence.verifier} evidence) and the registry serves the digest`,
    },
    record,
  };
}

function ciEnvironment(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_ACTIONS === "true" && env.GITHUB_ENVIRONMENT) return env.GITHUB_ENVIRONMENT;
  if (env.GITLAB_CI === "true" && env.CI_ENVIRONMENT_NAME) return env.CI_ENVIRONMENT_NAME;
  return undefined;
}

async function candidateFacts(
  request: PromotionRequest,
  model: EnvironmentModel,
  repo: PromotionRepo,
  verifier: EvidenceVerifier,
  candidate: Candidate,
  signatureRequired: boolean,
): Promise<CandidateFacts> {
  const env = request.env ?? process.env;
  const pm = asPromotionModel(model);
  const from = previousTier(pm, request.tier)!;
  const isStart = chainStart(pm) === from;
  const served = await inspectRef(request.root, candidate.reference, env);

  let registryDigest: Fact<string> = served.ok
    ? { ok: true, value: served.value.digest }
    : { ok: false, why: served.why };
  // The artefact's immutable tag is its commit SHA: if that tag now serves another digest,
  // someone re-pushed it after the record was written.
  if (served.ok && candidate.commit && candidate.digest) {
    const tagged = await inspectRef(
      request.root,
      `${candidate.repository}:${candidate.commit}`,
      env,
    );
    if (tagged.ok && tagged.value.digest !== candidate.digest) {
      registryDigest = {
        ok: false,
        why: `digest changed: tag ${candidate.commit.slice(0, 12)} now resolves to ${tagged.value.digest}, the record says ${candidate.digest}`,
      };
    }
  }
  const digest = candidate.digest;
  let passage: EvidenceCheck;
  let signature: EvidenceCheck = { ok: false, failure: "missing", why: "not checked" };
  if (!digest) {
    passage = {
      ok: false,
      failure: "missing",
      why: `${candidate.reference} did not resolve to a digest`,
    };
    signature = passage;
  } else if (isStart) {
    passage = served.ok
      ? { ok: true, why: `the registry serves ${shortDigest(digest)} (published)` }
      : { ok: false, failure: "missing", why: served.why };
    signature = { ok: false, failure: "unavailable", why: `${from} makes no signed passages` };
  } else {
    passage = (await passageCheck(repo, from, digest, served)).check;
    if (signatureRequired) {
      signature = await verifier.verifySignature(
        { tier: from, digest, repository: candidate.repository },
        signingPolicy(model, request.tier),
      );
    }
  }

  let tests: CandidateFacts["tests"];
  if (!candidate.commit) {
    tests = {
      ok: false,
      why: "the image's commit is unknown (no org.opencontainers.image.revision label)",
    };
  } else {
    const path = testReportPath(candidate.commit);
    try {
      const report = await repo.record(testReportSchema, path);
      tests = report
        ? { ok: true, value: { passed: report.passed, where: path, summary: report.summary } }
        : {
            ok: false,
            why: `no test report ${path} in git; run \`tiers env test run\` on that commit`,
          };
    } catch (error) {
      tests = { ok: false, why: (error as TiersError).describe() };
    }
  }

  let rejection: RejectionRecord | undefined;
  if (digest)
    rejection = await repo.record(rejectionSchema, rejectionPath(digest)).catch(() => undefined);

  return {
    candidate,
    previousTier: from,
    previousIsChainStart: isStart,
    passage,
    signature,
    tests,
    labels: served.ok ? { ok: true, value: served.value.labels } : { ok: false, why: served.why },
    registryDigest,
    rejection,
  };
}

async function approvalsFacts(
  request: PromotionRequest,
  model: EnvironmentModel,
  repo: PromotionRepo,
  candidates: Candidate[],
) {
  const tier = tierOfModel(model, request.tier);
  const byDigest = new Map<string, string[]>();
  if (tier.approvals.source === "record") {
    for (const c of candidates) {
      if (!c.digest) continue;
      const record = await repo
        .record(approvalSchema, approvalPath(request.tier, c.digest))
        .catch(() => undefined);
      byDigest.set(c.digest, record?.approvals.map((a) => a.by) ?? []);
    }
  }
  return approvalsVerdict(
    request.tier,
    { required: tier.approvals.required, source: tier.approvals.source },
    ciEnvironment(request.env ?? process.env),
    byDigest,
    await whoAmI(repo, request.env ?? process.env), // separation of duties: the actor never counts
  );
}

/** Computes the plan of a promotion into `request.tier`. Changes nothing. */
export async function computePlan(request: PromotionRequest): Promise<PlanContext> {
  const model = request.model ?? (await loadModel(request.root));
  requireTier(model, request.tier);
  const pm = asPromotionModel(model);
  const from = requirePromotable(pm, request.tier);
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  const head = await repo.head();
  const tier = tierOfModel(model, request.tier);
  const { kind, verifier } = verifierFor(model, request);
  const candidates = await resolveCandidates(request, model, repo);

  const required = requiredGates(tier.promotion.gates, tier.signing.required);
  const facts: CandidateFacts[] = [];
  for (const c of candidates) {
    facts.push(await candidateFacts(request, model, repo, verifier, c, required.has("signature")));
  }
  const gates: GateResult[] = facts.flatMap((f) => candidateGates(model.project, f, required));
  gates.push(
    ...tierGates({ approvals: await approvalsFacts(request, model, repo, candidates) }, required),
  );

  const digested = candidates.filter((c): c is Candidate & { digest: string } => Boolean(c.digest));
  let overlay: string | null = null;
  let before: string | null = null;
  let after: string | null = null;
  let changes: PlannedChange[];
  if (hasOverlay(pm, request.tier)) {
    overlay = overlayPath(request.tier);
    before = await readFile(join(request.root, overlay), "utf8").catch(() => {
      throw new TiersError(`${request.tier} has no overlay to pin`, {
        where: overlay!,
        hint: "create k8s/overlays/<tier>/kustomization.yaml with an images: entry per service",
      });
    });
    const pins = readPins(before, overlay);
    const edit = computeOverlayEdit(before, pins, digested, overlay);
    if (edit.missing.length > 0) {
      throw new TiersError(`no images: entry for ${edit.missing.join(", ")}`, {
        where: overlay,
        hint: "add `- name: <image>, newName: <repository>, digest: …` for each service; promotion only edits digest",
      });
    }
    changes = edit.changes.map((c) => ({
      ...c,
      from: c.from === unpromotedDigest ? null : c.from,
    }));
    after = edit.after;
  } else {
    // A tier without an overlay (the test tier): "pinned" means its passage is recorded.
    changes = [];
    for (const c of digested) {
      const existing = await repo
        .record(passageSchema, passagePath(request.tier, c.digest))
        .catch(() => undefined);
      changes.push({
        service: c.service,
        image: c.repository,
        repository: c.repository,
        from: existing ? c.digest : null,
        to: c.digest,
      });
    }
  }
  const commits = [...new Set(candidates.map((c) => c.commit))];
  const plan = buildPlan({
    tier: request.tier,
    from,
    overlay,
    overlayBefore: before,
    overlayAfter: after,
    commit: commits.length === 1 ? (commits[0] ?? null) : null,
    evidence: kind,
    changes,
    gates,
  });
  // A digest that never resolved cannot be planned even though its gates already say why.
  if (digested.length < candidates.length) plan.ok = false;
  return {
    model,
    repo,
    head,
    plan,
    candidates,
    evidenceKind: kind,
    verifier,
    overlayBefore: before,
  };
}

// ---------------------------------------------------------------------------------------------
// Promote

/** A promotion refused by its gates: lists every failing gate; exit code 1. */
export class GateFailure extends TiersError {
  readonly plan: PromotionPlan;
  constructor(plan: PromotionPlan) {
    const failing = failingGates(plan);
    super(
      `promotion into ${plan.tier} refused: ${failing.length} gate(s) failed; nothing was changed\n${failing
        .map((g) => `  ✗ ${g.gate}${g.service ? ` [${g.service}]` : ""}: ${g.why}`)
        .join("\n")}`,
      {
        where: `environments/${plan.tier}.yaml (promotion.gates)`,
        hint: `see every gate with \`tiers plan --env ${plan.tier}\`; fix the cause, never the gate`,
      },
    );
    this.plan = plan;
  }
}

/** How the deploy step after pinning is run. */
export type DeployMode = "auto" | "skip";

/** Deploys a tier after its pin moved; injected so tests and the CLI choose the engine. */
export type Deployer = (tier: string, model: EnvironmentModel) => Promise<DeployReport>;

export interface DeployReport {
  outcome: "deployed" | "skipped" | "failed";
  detail: string;
}

export interface PromoteRequest extends PromotionRequest {
  /** Refuse if HEAD is no longer the commit the confirmed plan was computed at (bless). */
  expectedHead?: string;
  deploy?: DeployMode;
  deployer?: Deployer;
  reporter?: Reporter;
}

export interface PromoteOutcome {
  plan: PromotionPlan;
  changed: boolean;
  /** The promotion commit (undefined when nothing changed). */
  commit?: string;
  deploy?: DeployReport;
  rolledBack?: string;
}

function commitMessage(kind: string, tier: string, lines: string[]): string {
  return `${kind} ${tier}: ${lines[0]}\n\n${lines.slice(1).join("\n")}\n`;
}

function changeLines(changes: readonly PlannedChange[]): string[] {
  return changes.map((c) => `${c.service}: ${c.from ?? "(nothing)"} -> ${c.to}`);
}

function summary(changes: readonly PlannedChange[], commit: string | null): string {
  const moved = changes.filter((c) => c.from !== c.to);
  const services = moved.map((c) => `${c.service}@${c.to.slice(7, 19)}`).join(", ");
  return `${services}${commit ? ` (commit ${commit.slice(0, 12)})` : ""}`;
}

/** Runs `work` holding the repository's promotion lock. */
async function locked<T>(repo: PromotionRepo, what: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(await repo.gitDir(), what);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

async function requireCleanOverlay(repo: PromotionRepo, tier: string): Promise<void> {
  const path = overlayPath(tier);
  const dirty = await repo.dirty([path]);
  if (dirty.length > 0) {
    throw new TiersError(
      "the overlay has uncommitted changes; promotion edits only committed pins",
      {
        where: path,
        hint: "commit or discard the change (`git diff -- <file>`), then run again",
      },
    );
  }
}

/**
 * Plans, refuses on any failing gate, else pins the digests, records the passage and the
 * promotion in one commit, then runs the deploy step. Idempotent and safe under concurrency.
 */
export async function promote(request: PromoteRequest): Promise<PromoteOutcome> {
  const model = request.model ?? (await loadModel(request.root));
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, `promote ${request.tier}`, async () => {
    const ctx = await computePlan({ ...request, model });
    if (request.expectedHead && ctx.head !== request.expectedHead) {
      throw new TiersError(
        `the repository moved since the plan you confirmed (was ${request.expectedHead.slice(0, 12)}, now ${ctx.head.slice(0, 12)}); nothing was changed`,
        { hint: "look at the new plan and confirm again" },
      );
    }
    const { plan } = ctx;
    if (!plan.ok) throw new GateFailure(plan);
    if (plan.overlay) await requireCleanOverlay(repo, request.tier);
    if (plan.unchanged) return { plan, changed: false };

    const now = (request.now ?? (() => new Date()))();
    const at = now.toISOString();
    const who = await whoAmI(repo, request.env ?? process.env);
    const policy = passageSigningPolicy(model, request.tier);
    const writes: Array<{ path: string; content: string | null }> = [];
    if (plan.overlay && plan.overlayAfter !== null && plan.overlayAfter !== ctx.overlayBefore) {
      writes.push({ path: plan.overlay, content: plan.overlayAfter });
    }
    for (const c of ctx.candidates) {
      if (!c.digest) continue;
      const evidence = await ctx.verifier.sign(
        { tier: request.tier, digest: c.digest, repository: c.repository },
        policy,
      );
      const record: PassageRecord = {
        kind: "passage",
        tier: request.tier,
        digest: c.digest,
        service: c.service,
        repository: c.repository,
        commit: c.commit,
        recorded_by: who,
        recorded_at: at,
        gates: plan.gates.filter((g) => !g.service || g.service === c.service),
        evidence,
      };
      writes.push({
        path: passagePath(request.tier, c.digest),
        content: renderRecord(record, `${c.service} ${c.digest} passed ${request.tier}`),
      });
    }
    const history: HistoryRecord = {
      kind: "promotion",
      tier: request.tier,
      at,
      by: who,
      commit: plan.commit,
      pins: plan.changes.map(({ repository: _r, ...pin }) => pin),
      gates: plan.gates,
      reason: null,
      restored_from: null,
    };
    const firstDigest = plan.changes[0]?.to ?? ctx.candidates[0]?.digest ?? "sha256:";
    writes.push({
      path: historyPath(request.tier, now, "promotion", firstDigest),
      content: renderRecord(history, `promotion into ${request.tier}`),
    });
    const message = commitMessage("promote", request.tier, [
      summary(plan.changes, plan.commit),
      ...changeLines(plan.changes),
      "",
      "Gates:",
      ...plan.gates.map(
        (g) => `  ${g.ok ? "ok  " : "FAIL"} ${g.gate}${g.service ? ` [${g.service}]` : ""}`,
      ),
      "",
      `Evidence: ${ctx.evidenceKind}${describeSigner(policy) ? ` (signer ${describeSigner(policy)})` : ""}`,
      `Promoted-by: ${who}`,
    ]);
    const commit = await repo.commit({ expectedHead: ctx.head, writes, message });
    const outcome: PromoteOutcome = { plan, changed: true, commit };
    if (plan.overlay) {
      outcome.deploy = await runDeploy(request, model);
      if (outcome.deploy.outcome === "failed") {
        const passages = writes.filter((w) => w.path.startsWith(`${releasesDir}/passages/`));
        outcome.rolledBack = await writeRollback(repo, {
          tier: request.tier,
          head: commit,
          changes: plan.changes.map((c) => ({ ...c, from: c.to, to: c.from ?? unpromotedDigest })),
          reason: `automatic: deploy failed: ${outcome.deploy.detail}`,
          restoredFrom: ctx.head,
          removePaths: passages.map((w) => w.path),
          who,
          now: new Date(now.getTime() + 1),
        });
        throw new TiersError(
          `deployed ${request.tier} failed and was rolled back: ${outcome.deploy.detail}`,
          {
            where: overlayPath(request.tier),
            hint: `the pin was restored by commit ${outcome.rolledBack.slice(0, 12)} and the passage withdrawn; fix the artefact and promote again`,
          },
        );
      }
    }
    return outcome;
  });
}

/** The kubeconfig the deploy step would use, if one exists on this machine. */
export function findKubeconfig(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = [
    env.TIERS_KUBECONFIG,
    env.KUBECONFIG?.split(":")[0],
    join(homedir(), ".kube", "config"),
  ];
  return candidates.find((p): p is string => Boolean(p) && existsSync(p!));
}

async function runDeploy(request: PromoteRequest, model: EnvironmentModel): Promise<DeployReport> {
  if (request.deploy === "skip") {
    return { outcome: "skipped", detail: "--no-deploy: pinned and recorded, deploy skipped" };
  }
  if (!request.deployer) {
    return {
      outcome: "skipped",
      detail: "no deploy engine given: pinned and recorded, deploy skipped",
    };
  }
  try {
    return await request.deployer(request.tier, model);
  } catch (error) {
    return {
      outcome: "failed",
      detail: error instanceof TiersError ? error.message.split("\n")[0]! : String(error),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Rollback

interface RollbackWrite {
  tier: string;
  head: string;
  changes: PlannedChange[];
  reason: string;
  restoredFrom: string | null;
  removePaths?: string[];
  who: string;
  now: Date;
}

/** Writes the rollback commit: the overlay with the restored pins and a history record. */
async function writeRollback(repo: PromotionRepo, w: RollbackWrite): Promise<string> {
  const path = overlayPath(w.tier);
  const current = await readFile(join(repo.root, path), "utf8");
  const pins = readPins(current, path);
  const edits = w.changes
    .map((c) => ({ pin: findPin(pins, c.service, c.repository), digest: c.to }))
    .filter((e) => e.pin && e.pin.digest !== e.digest)
    .map((e) => ({ index: e.pin!.index, digest: e.digest }));
  const after = edits.length ? setPins(current, edits, path) : current;
  const history: HistoryRecord = {
    kind: "rollback",
    tier: w.tier,
    at: w.now.toISOString(),
    by: w.who,
    commit: null,
    pins: w.changes.map(({ repository: _r, ...pin }) => pin),
    gates: [],
    reason: w.reason,
    restored_from: w.restoredFrom,
  };
  const writes: Array<{ path: string; content: string | null }> = [{ path, content: after }];
  for (const p of w.removePaths ?? []) writes.push({ path: p, content: null });
  writes.push({
    path: historyPath(w.tier, w.now, "rollback", w.changes[0]?.to ?? "sha256:"),
    content: renderRecord(history, `rollback of ${w.tier}`),
  });
  const message = commitMessage("rollback", w.tier, [
    `${w.changes.map((c) => `${c.service}@${c.to.slice(7, 19)}`).join(", ")}${w.restoredFrom ? ` (restores pins of ${w.restoredFrom.slice(0, 12)})` : ""}`,
    ...changeLines(w.changes),
    "",
    `Reason: ${w.reason}`,
    `Rolled-back-by: ${w.who}`,
  ]);
  return repo.commit({ expectedHead: w.head, writes, message });
}

export interface RollbackRequest {
  root: string;
  tier: string;
  /** A digest pinned earlier, or an overlay commit; default: the previous distinct pins. */
  to?: string;
  reason?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  deploy?: DeployMode;
  deployer?: Deployer;
  model?: EnvironmentModel;
}

export interface RollbackOutcome {
  tier: string;
  changed: boolean;
  changes: PlannedChange[];
  restoredFrom: string;
  commit?: string;
  deploy?: DeployReport;
}

/** Restores earlier pins from the overlay's git history and records it as a rollback. */
export async function rollback(request: RollbackRequest): Promise<RollbackOutcome> {
  const model = request.model ?? (await loadModel(request.root));
  requireTier(model, request.tier);
  if (!hasOverlay(asPromotionModel(model), request.tier)) {
    throw new TiersError(`${request.tier} has no overlay pin to roll back`, {
      where: `environments/${request.tier}.yaml (runtime)`,
      hint: "rollback applies to Kubernetes tiers (staging, prod)",
    });
  }
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, `rollback ${request.tier}`, async () => {
    const head = await repo.head();
    await requireCleanOverlay(repo, request.tier);
    const path = overlayPath(request.tier);
    const current = (await repo.pinsAt(request.tier, head)) ?? [];
    const currentMap = Object.fromEntries(current.map((p) => [p.name, p.digest ?? ""]));
    const history = await repo.pinHistory(request.tier, 200);
    const isLive = (pins: Record<string, string>) =>
      Object.values(pins).every((d) => isDigest(d) && d !== unpromotedDigest);
    const same = (pins: Record<string, string>) =>
      JSON.stringify(pins) === JSON.stringify(currentMap);

    let target: { commit: string; pins: Record<string, string> } | undefined;
    const to = request.to?.trim();
    if (!to) {
      target = history.find((h) => !same(h.pins) && isLive(h.pins));
      if (!target) {
        throw new TiersError(`${request.tier} has no earlier pins to roll back to`, {
          where: path,
          hint: "the overlay's git history holds only the current pins (or the unpromoted placeholder)",
        });
      }
    } else if (isDigest(to)) {
      target = history.find((h) => Object.values(h.pins).includes(to) && !same(h.pins));
      if (!target) {
        throw new TiersError(`${to} was never pinned in ${request.tier} (or is pinned now)`, {
          where: path,
          hint: `see the pins it had: \`tiers env ${request.tier} status\``,
        });
      }
    } else {
      const commit = await repo.resolve(to);
      const pins = commit ? await repo.pinsAt(request.tier, commit) : undefined;
      if (!commit || !pins) {
        throw new TiersError(`${to} is neither a digest nor a commit that has ${path}`, {
          hint: "give --to sha256:<digest> or an overlay commit from `tiers env <tier> status`",
        });
      }
      target = { commit, pins: Object.fromEntries(pins.map((p) => [p.name, p.digest ?? ""])) };
    }
    if (!isLive(target.pins)) {
      throw new TiersError(
        `the pins of ${target.commit.slice(0, 12)} are the unpromoted placeholder`,
        {
          where: path,
          hint: "roll back to a commit where a real digest was pinned",
        },
      );
    }
    const changes: PlannedChange[] = [];
    for (const pin of current) {
      const to = target.pins[pin.name];
      if (!to) continue;
      const service = serviceOfRepository(model, request.tier, pin.newName ?? pin.name) ?? pin.name;
      changes.push({
        service,
        image: pin.name,
        repository: pin.newName ?? pin.name,
        from: pin.digest ?? null,
        to,
      });
    }
    for (const c of changes) {
      const rejected = await repo
        .record(rejectionSchema, rejectionPath(c.to))
        .catch(() => undefined);
      if (rejected) {
        throw new TiersError(
          `refusing to roll ${request.tier} back to ${c.to}: it was rejected (${rejected.reason})`,
          {
            where: rejectionPath(c.to),
            hint: "choose another target with --to, or promote a good artefact",
          },
        );
      }
    }
    const moved = changes.filter((c) => c.from !== c.to);
    if (moved.length === 0) {
      return { tier: request.tier, changed: false, changes, restoredFrom: target.commit };
    }
    const now = (request.now ?? (() => new Date()))();
    const commit = await writeRollback(repo, {
      tier: request.tier,
      head,
      changes,
      reason: request.reason ?? `manual rollback to the pins of ${target.commit.slice(0, 12)}`,
      restoredFrom: target.commit,
      who: await whoAmI(repo, request.env ?? process.env),
      now,
    });
    const outcome: RollbackOutcome = {
      tier: request.tier,
      changed: true,
      changes,
      restoredFrom: target.commit,
      commit,
    };
    outcome.deploy = await runDeploy({ ...request, deploy: request.deploy ?? "auto" }, model);
    return outcome;
  });
}

// ---------------------------------------------------------------------------------------------
// Reject, approve, test reports

export interface RejectRequest {
  root: string;
  digest: string;
  reason: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

/** Marks a digest as never promotable again. Rejecting twice changes nothing. */
export async function reject(
  request: RejectRequest,
): Promise<{ changed: boolean; record: RejectionRecord; commit?: string }> {
  if (!request.reason.trim()) {
    throw new TiersError("a rejection needs a reason", { exitCode: 2, hint: '--reason "why"' });
  }
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, `reject ${request.digest}`, async () => {
    const head = await repo.head();
    const path = rejectionPath(request.digest);
    const existing = await repo.record(rejectionSchema, path);
    if (existing) return { changed: false, record: existing };
    const record: RejectionRecord = {
      kind: "rejection",
      digest: request.digest,
      reason: request.reason.trim(),
      rejected_by: await whoAmI(repo, request.env ?? process.env),
      rejected_at: (request.now ?? (() => new Date()))().toISOString(),
    };
    const commit = await repo.commit({
      expectedHead: head,
      writes: [{ path, content: renderRecord(record, `${request.digest} is rejected`) }],
      message: `reject ${request.digest.slice(0, 19)}: ${record.reason}\n\nDigest: ${request.digest}\nRejected-by: ${record.rejected_by}\n`,
    });
    return { changed: true, record, commit };
  });
}

/** Records one approval of a digest for a tier (`approvals.source: record`). */
export async function approve(request: {
  root: string;
  tier: string;
  digest: string;
  note?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}): Promise<{ changed: boolean; record: ApprovalRecord; commit?: string }> {
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, `approve ${request.tier}`, async () => {
    const head = await repo.head();
    const path = approvalPath(request.tier, request.digest);
    const who = await whoAmI(repo, request.env ?? process.env);
    const existing = await repo.record(approvalSchema, path);
    if (existing?.approvals.some((a) => a.by === who)) return { changed: false, record: existing };
    const entry = {
      by: who,
      at: (request.now ?? (() => new Date()))().toISOString(),
      ...(request.note ? { note: request.note } : {}),
    };
    const record: ApprovalRecord = existing
      ? { ...existing, approvals: [...existing.approvals, entry] }
      : { kind: "approval", tier: request.tier, digest: request.digest, approvals: [entry] };
    const commit = await repo.commit({
      expectedHead: head,
      writes: [
        {
          path,
          content: renderRecord(record, `approvals of ${request.digest} for ${request.tier}`),
        },
      ],
      message: `approve ${request.tier}: ${request.digest.slice(0, 19)} by ${who}\n`,
    });
    return { changed: true, record, commit };
  });
}

/**
 * Records the test tier's verdict on a commit (what the tests-passed gate reads). Called by
 * the test tier run once it has a result; a later run overwrites the verdict.
 */
export async function recordTestReport(request: {
  root: string;
  commit: string;
  passed: boolean;
  summary: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}): Promise<string> {
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, "record test report", async () => {
    const head = await repo.head();
    const record: TestReportRecord = {
      kind: "test-report",
      commit: request.commit,
      passed: request.passed,
      summary: request.summary,
      recorded_by: await whoAmI(repo, request.env ?? process.env),
      recorded_at: (request.now ?? (() => new Date()))().toISOString(),
    };
    return repo.commit({
      expectedHead: head,
      writes: [
        {
          path: testReportPath(request.commit),
          content: renderRecord(record, `test tier verdict on ${request.commit}`),
        },
      ],
      message: `tests ${request.passed ? "passed" : "FAILED"} for ${request.commit.slice(0, 12)}: ${request.summary}\n`,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Status

export interface PinStatus {
  service: string;
  image: string;
  digest: string | null;
  commit: string | null;
  passage: { ok: boolean; why: string };
  signature: { ok: boolean; why: string };
  rejected: string | null;
}

export interface TierStatus {
  tier: string;
  marker: string;
  runtime: string;
  pins: PinStatus[];
  /** Overlay commits that moved a pin, newest first. */
  history: Array<{ commit: string; date: string; author: string; subject: string }>;
  /** Promotion and rollback records, newest first. */
  records: HistoryRecord[];
  /** What waits in the tier below (digests not pinned here yet). */
  waiting: Array<{ service: string; digest: string; commit: string | null }>;
  waitingWhy?: string;
}

async function historyRecords(repo: PromotionRepo, tier: string, max: number) {
  const files = (await repo.files(`${releasesDir}/history/${tier}`)).sort().reverse().slice(0, max);
  const out: HistoryRecord[] = [];
  for (const f of files) {
    const r = await repo.record(historySchema, f).catch(() => undefined);
    if (r) out.push(r);
  }
  return out;
}

/** `tiers env <tier> status`: pins, their passages and signatures, and the history. */
export async function tierStatus(options: {
  root: string;
  tier: string;
  env?: NodeJS.ProcessEnv;
  evidence?: string;
  model?: EnvironmentModel;
  verifySignatures?: boolean;
  max?: number;
}): Promise<TierStatus> {
  const model = options.model ?? (await loadModel(options.root));
  const tier = tierOfModel(model, options.tier);
  const pm = asPromotionModel(model);
  const env = options.env ?? process.env;
  const repo = new PromotionRepo(options.root, env);
  const max = options.max ?? 10;
  const status: TierStatus = {
    tier: options.tier,
    marker: tier.marker,
    runtime: tier.runtime,
    pins: [],
    history: [],
    records: await historyRecords(repo, options.tier, max),
    waiting: [],
  };
  const pinned: Array<{ service: string; image: string; digest: string; repository: string }> = [];
  if (hasOverlay(pm, options.tier)) {
    for (const pin of (await repo.pinsAt(options.tier)) ?? []) {
      const service = serviceOfRepository(model, options.tier, pin.newName ?? pin.name) ?? pin.name;
      pinned.push({
        service,
        image: pin.name,
        digest: pin.digest ?? "",
        repository: pin.newName ?? pin.name,
      });
    }
    status.history = (await repo.pinHistory(options.tier, max)).map((h) => ({
      commit: h.commit,
      date: h.date,
      author: h.author,
      subject: h.subject,
    }));
  } else if (chainStart(pm) !== options.tier) {
    const passages = await listPassages(repo, options.tier);
    const newest = passages[0]?.commit;
    for (const p of passages.filter((x) => x.commit === newest)) {
      pinned.push({
        service: p.service,
        image: p.repository,
        digest: p.digest,
        repository: p.repository,
      });
    }
  }
  const verifier =
    options.verifySignatures && passageSigningPolicy(model, options.tier).mode !== "none"
      ? evidenceVerifier(chooseEvidence(options.evidence ?? env.TIERS_EVIDENCE, true), {
          root: options.root,
          project: model.project,
          env,
        })
      : undefined;
  for (const p of pinned) {
    if (!isDigest(p.digest) || p.digest === unpromotedDigest) {
      status.pins.push({
        service: p.service,
        image: p.image,
        digest: null,
        commit: null,
        passage: { ok: false, why: "nothing promoted yet" },
        signature: { ok: false, why: "nothing promoted yet" },
        rejected: null,
      });
      continue;
    }
    const served = await inspectRef(options.root, pinnedRef(p.repository, p.digest), env);
    const { check, record } = await passageCheck(repo, options.tier, p.digest, served);
    const rejection = await repo
      .record(rejectionSchema, rejectionPath(p.digest))
      .catch(() => undefined);
    const policy = passageSigningPolicy(model, options.tier);
    const signature = verifier
      ? await verifier.verifySignature(
          { tier: options.tier, digest: p.digest, repository: p.repository },
          policy,
        )
      : {
          ok: false,
          why: record?.evidence.signature
            ? `recorded ${record.evidence.signature} (not verified: run with --verify)`
            : record
              ? `no signature recorded (${record.evidence.verifier} evidence)`
              : "no passage, so no signature",
        };
    status.pins.push({
      service: p.service,
      image: p.image,
      digest: p.digest,
      commit:
        record?.commit ??
        (served.ok ? (served.value.labels["org.opencontainers.image.revision"] ?? null) : null),
      passage: { ok: check.ok, why: check.why },
      signature: { ok: signature.ok, why: signature.why },
      rejected: rejection ? `${rejection.reason} (by ${rejection.rejected_by})` : null,
    });
  }
  if (chainStart(pm) !== options.tier) {
    try {
      const waiting = await waitingCandidates(
        { root: options.root, tier: options.tier, env },
        model,
        repo,
      );
      const here = new Set(status.pins.map((p) => p.digest));
      status.waiting = waiting
        .filter((c) => c.digest && !here.has(c.digest))
        .map((c) => ({ service: c.service, digest: c.digest!, commit: c.commit }));
    } catch (error) {
      status.waitingWhy = error instanceof TiersError ? error.message : String(error);
    }
  }
  return status;
}

/** `tiers status`: every tier of the chain, in promotion order. */
export async function ladderStatus(options: {
  root: string;
  env?: NodeJS.ProcessEnv;
}): Promise<{ model: EnvironmentModel; tiers: TierStatus[]; published?: ArtefactRecord }> {
  const model = await loadModel(options.root);
  const tiers: TierStatus[] = [];
  for (const name of model.order) {
    tiers.push(
      await tierStatus({
        root: options.root,
        tier: name,
        model,
        max: 3,
        ...(options.env ? { env: options.env } : {}),
      }),
    );
  }
  const published = await readArtefactRecord(options.root, "latest").catch(() => undefined);
  return published ? { model, tiers, published } : { model, tiers };
}

// ---------------------------------------------------------------------------------------------
// Sign and verify existing passages

/** The digests a sign/verify of `tier` is about: given ones, else what the tier holds now. */
async function passageDigests(
  request: PromotionRequest,
  model: EnvironmentModel,
): Promise<Array<{ service: string; digest: string; repository: string }>> {
  if (request.digest) {
    const repo = new PromotionRepo(request.root, request.env ?? process.env);
    const record = await repo.record(passageSchema, passagePath(request.tier, request.digest));
    const found = record
      ? [{ service: record.service, digest: record.digest, repository: record.repository }]
      : (await candidatesForDigest(request, model, request.digest)).map((c) => ({
          service: c.service,
          digest: request.digest!,
          repository: c.repository,
        }));
    return found;
  }
  if (request.commit) {
    const record = await resolveCommitRecord(request.root, request.commit);
    return (await candidatesFromRecord(record, request.service)).map((c) => ({
      service: c.service,
      digest: c.digest!,
      repository: c.repository,
    }));
  }
  const status = await tierStatus({
    root: request.root,
    tier: request.tier,
    model,
    ...(request.env ? { env: request.env } : {}),
  });
  const pins = status.pins.filter(
    (p) => p.digest && (!request.service || p.service === request.service),
  );
  if (pins.length === 0) {
    throw new TiersError(`${request.tier} holds no promoted digest to sign or verify`, {
      hint: `name one with --digest, or promote into ${request.tier} first`,
    });
  }
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  const out: Array<{ service: string; digest: string; repository: string }> = [];
  for (const p of pins) {
    const record = await repo.record(passageSchema, passagePath(request.tier, p.digest!));
    out.push({ service: p.service, digest: p.digest!, repository: record?.repository ?? p.image });
  }
  return out;
}

export interface PassageVerification {
  service: string;
  digest: string;
  passage: EvidenceCheck;
  signature: EvidenceCheck;
  signer: string | null;
}

/**
 * `tiers verify --env <tier>`: checks the passage of each digest (git record + registry) and
 * its signature against the signing policy that governs it. Changes nothing.
 */
export async function verifyPassages(request: PromotionRequest): Promise<PassageVerification[]> {
  const model = request.model ?? (await loadModel(request.root));
  requireTier(model, request.tier);
  const env = request.env ?? process.env;
  const repo = new PromotionRepo(request.root, env);
  const policy = passageSigningPolicy(model, request.tier);
  const kind = chooseEvidence(request.evidence ?? env.TIERS_EVIDENCE, policy.required);
  const verifier = evidenceVerifier(kind, { root: request.root, project: model.project, env });
  const out: PassageVerification[] = [];
  for (const d of await passageDigests({ ...request, model }, model)) {
    const served = await inspectRef(request.root, pinnedRef(d.repository, d.digest), env);
    const { check } = await passageCheck(repo, request.tier, d.digest, served);
    const signature: EvidenceCheck =
      policy.mode === "none"
        ? { ok: !policy.required, why: `the signing policy (mode none) asks for no signature` }
        : await verifier.verifySignature(
            { tier: request.tier, digest: d.digest, repository: d.repository },
            policy,
          );
    out.push({
      service: d.service,
      digest: d.digest,
      passage: check,
      signature,
      signer: describeSigner(policy),
    });
  }
  return out;
}

/**
 * `tiers sign --env <tier>`: signs digests that already passed `tier` (their passage record
 * exists) with cosign, and records the signature in the passage. Signing can therefore never
 * stand in for the gates: a digest without a passage is refused.
 */
export async function signPassages(
  request: PromotionRequest,
): Promise<Array<{ service: string; digest: string; signature: string | null; changed: boolean }>> {
  const model = request.model ?? (await loadModel(request.root));
  requireTier(model, request.tier);
  if (request.evidence && request.evidence !== "cosign") {
    throw new TiersError("signing makes cosign evidence; --evidence local signs nothing", {
      exitCode: 2,
      hint: "drop --evidence, or use `tiers promote --evidence local` to record a passage without a signature",
    });
  }
  const env = request.env ?? process.env;
  const repo = new PromotionRepo(request.root, env);
  const policy = passageSigningPolicy(model, request.tier);
  if (policy.mode === "none") {
    throw new TiersError(
      `no signing policy governs ${request.tier} passages (signing.mode: none)`,
      {
        where: `environments/${nextTier(asPromotionModel(model), request.tier) ?? request.tier}.yaml`,
        hint: "set signing.mode to key or keyless (with key or identity) to sign passages",
      },
    );
  }
  const verifier = evidenceVerifier("cosign", { root: request.root, project: model.project, env });
  const targets = await passageDigests({ ...request, model }, model);
  return locked(repo, `sign ${request.tier}`, async () => {
    const head = await repo.head();
    const writes: Array<{ path: string; content: string }> = [];
    const results: Array<{
      service: string;
      digest: string;
      signature: string | null;
      changed: boolean;
    }> = [];
    for (const t of targets) {
      const path = passagePath(request.tier, t.digest);
      const record = await repo.record(passageSchema, path);
      if (!record) {
        throw new TiersError(`${t.digest} has not passed ${request.tier}: no ${path} in git`, {
          hint: `promote it into ${request.tier} first (\`tiers plan --env ${request.tier} --digest ${t.digest}\`)`,
        });
      }
      const evidence = await verifier.sign(
        { tier: request.tier, digest: t.digest, repository: record.repository },
        policy,
      );
      const changed = JSON.stringify(evidence) !== JSON.stringify(record.evidence);
      results.push({
        service: record.service,
        digest: t.digest,
        signature: evidence.signature,
        changed,
      });
      if (changed) {
        writes.push({
          path,
          content: renderRecord(
            { ...record, evidence },
            `${record.service} ${record.digest} passed ${request.tier}`,
          ),
        });
      }
    }
    if (writes.length > 0) {
      await repo.commit({
        expectedHead: head,
        writes,
        message: `sign ${request.tier}: ${results.map((r) => `${r.service}@${r.digest.slice(7, 19)}`).join(", ")}\n\nSigner: ${describeSigner(policy)}\n`,
      });
    }
    return results;
  });
}
