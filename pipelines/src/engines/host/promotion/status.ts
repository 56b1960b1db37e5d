/** `tiers status` and `tiers env <tier> status`: pins, their passages and signatures, history, what waits. */
import { type ArtefactRecord, ociLabel } from "../../../core/artefact.ts";
import { type EnvironmentModel, tierOf } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { unpromotedDigest } from "../../../core/manifests/pins.ts";
import {
  type ObservabilityLocation,
  observabilityLocation,
} from "../../../core/observability/promotion.ts";
import { chainStart, hasOverlay } from "../../../core/promotion/chain.ts";
import { chooseEvidence, passageSigningPolicy } from "../../../core/promotion/evidence.ts";
import { describeInvalid, presentOrThrow } from "../../../core/promotion/record-read.ts";
import {
  type HistoryRecord,
  historySchema,
  rejectionPath,
  rejectionSchema,
  releasesDir,
} from "../../../core/promotion/records.ts";
import { isDigest, pinnedRef } from "../../../core/promotion/refs.ts";
import { serviceOfRepository } from "../../../core/promotion/services.ts";
import { PromotionRepo } from "../history.ts";
import { loadModelCached } from "../model-cache.ts";
import type { Trace } from "../read-trace.ts";
import type { RepositoryReader } from "../repository-reader.ts";
import { evidenceVerifier } from "../signing.ts";
import { tierVerification } from "../verify-period.ts";
import { waitingCandidates } from "./candidates.ts";
import { listPassages, passageCheck } from "./passage-records.ts";
import {
  artefactsThrough,
  hostSources,
  type PromotionSources,
  type RecordReader,
  type RegistryReader,
  readArtefact,
  readRecord,
} from "./sources.ts";
import { windowOf } from "./window-now.ts";

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
  /** Where the tier's dashboards, alerts and logs live (its observability and alerting config). */
  observability: ObservabilityLocation;
  pins: PinStatus[];
  /** Overlay commits that moved a pin, newest first. */
  history: Array<{ commit: string; date: string; author: string; subject: string }>;
  /** Promotion and rollback records, newest first. */
  records: HistoryRecord[];
  /** What waits in the tier below (digests not pinned here yet). */
  waiting: Array<{ service: string; digest: string; commit: string | null }>;
  waitingWhy?: string;
  /** Whether the tier's windows let a promotion in now, why, and when the next one opens. */
  window?: { open: boolean; why: string };
  /**
   * The last verified release (deploy.verify) and whether a period runs or failed; ok false when
   * a verification record cannot be read. Absent for a tier with no period and no record.
   */
  verification?: { ok: boolean; why: string; pins?: Array<{ service: string; digest: string }> };
}

async function historyRecords(records: RecordReader, tier: string, max: number) {
  const files = (await records.files(`${releasesDir}/history/${tier}`))
    .sort()
    .reverse()
    .slice(0, max);
  const out: HistoryRecord[] = [];
  for (const f of files) {
    // A broken history record fails the status naming the file, rather than vanishing from it.
    const r = presentOrThrow(await readRecord(records, historySchema, f));
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
  sources?: Partial<PromotionSources>;
  /** Shared by the tiers of one `tiers status`, so a record two tiers ask for is read once. */
  repo?: PromotionRepo;
  now?: () => Date;
  /** Read the overlay's pin history (default true); the ladder's text view does not show it. */
  history?: boolean;
  /** Tell whether the tier's windows let a promotion in now (default true). */
  windows?: boolean;
}): Promise<TierStatus> {
  const model = options.model ?? (await loadModelCached(options.root));
  const tier = tierOf(model, options.tier);
  const env = options.env ?? process.env;
  const repo = options.repo ?? new PromotionRepo(options.root, env);
  const sources = hostSources(options.root, env, repo, options.sources);
  const max = options.max ?? 10;
  const status: TierStatus = {
    tier: options.tier,
    marker: tier.marker,
    runtime: tier.runtime,
    observability: observabilityLocation(model, options.tier),
    pins: [],
    history: [],
    records: await historyRecords(sources.records, options.tier, max),
    waiting: [],
  };
  const now = options.now ?? (() => new Date());
  if (options.windows !== false && (tier.windows ?? []).length > 0) {
    status.window = await windowOf(tier, now());
  }
  const verification = hasOverlay(model, options.tier)
    ? await tierVerification(sources.records, options.tier, tier, now)
    : undefined;
  if (verification) {
    status.verification = {
      ok: verification.ok,
      why: verification.why,
      ...(verification.last
        ? {
            pins: verification.last.record.pins.map((p) => ({
              service: p.service,
              digest: p.digest,
            })),
          }
        : {}),
    };
  }
  const pinned: Array<{ service: string; image: string; digest: string; repository: string }> = [];
  if (hasOverlay(model, options.tier)) {
    for (const pin of (await sources.records.pinsAt(options.tier)) ?? []) {
      const service = serviceOfRepository(model, options.tier, pin.newName ?? pin.name) ?? pin.name;
      pinned.push({
        service,
        image: pin.name,
        digest: pin.digest ?? "",
        repository: pin.newName ?? pin.name,
      });
    }
    if (options.history !== false) {
      status.history = (await repo.pinHistory(options.tier, max)).map((h) => ({
        commit: h.commit,
        date: h.date,
        author: h.author,
        subject: h.subject,
      }));
    }
  } else if (chainStart(model) !== options.tier) {
    const passages = await listPassages(sources.records, options.tier);
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
    const served = await sources.registry.inspect(pinnedRef(p.repository, p.digest));
    const { check, record } = await passageCheck(sources.records, options.tier, p.digest, served);
    const rejection = await readRecord(sources.records, rejectionSchema, rejectionPath(p.digest));
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
        record?.commit ?? (served.ok ? (served.value.labels[ociLabel.revision] ?? null) : null),
      passage: { ok: check.ok, why: check.why },
      signature: { ok: signature.ok, why: signature.why },
      rejected:
        rejection.state === "present"
          ? `${rejection.value.reason} (by ${rejection.value.rejected_by})`
          : rejection.state === "invalid"
            ? `rejection record cannot be read, so counted as rejected: ${describeInvalid(rejection)}`
            : null,
    });
  }
  if (chainStart(model) !== options.tier) {
    try {
      const waiting = await waitingCandidates({ tier: options.tier }, model, sources);
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

/**
 * What `tiers status` reads when its answer is to be remembered by its reads (read-trace.ts):
 * files through `reader`, and `trace.forget` told whenever the answer used the registry or the
 * clock. Records are read from git at HEAD, whose commit the caller read through `reader`.
 */
export interface LadderTrace {
  reader: RepositoryReader;
  trace: Trace;
}

/** `tiers status`: every tier of the chain, in promotion order. */
export async function ladderStatus(options: {
  root: string;
  env?: NodeJS.ProcessEnv;
  /** Already loaded model (the CLI loads it once per command). */
  model?: EnvironmentModel;
  /**
   * Read each tier's pin history (default true: `--json` reports it). The text view prints no
   * history, and it is the costliest read: a `git log` and every overlay version it names.
   */
  history?: boolean;
  /** Tell each tier's windows (default true); a remembered ladder tells them after. */
  windows?: boolean;
  traced?: LadderTrace;
}): Promise<{ model: EnvironmentModel; tiers: TierStatus[]; published?: ArtefactRecord }> {
  const env = options.env ?? process.env;
  // One repo and one registry reader for the whole ladder, and the tiers read concurrently:
  // their reads are independent, and a fact two tiers need (a passage, a digest) is read once.
  const repo = new PromotionRepo(options.root, env);
  // Every tier reads HEAD's records: list them while the model loads.
  repo.prefetch();
  const model = options.model ?? (await loadModelCached(options.root));
  const traced = options.traced;
  const host = hostSources(
    options.root,
    env,
    repo,
    traced ? { artefacts: artefactsThrough(traced.reader) } : {},
  );
  const sources = traced ? { ...host, registry: forgetting(host.registry, traced.trace) } : host;
  const now = () => {
    traced?.trace.forget("the answer read the clock");
    return new Date();
  };
  const tiers = await Promise.all(
    model.order.map((name) =>
      tierStatus({
        root: options.root,
        tier: name,
        model,
        max: 3,
        env,
        repo,
        sources,
        now,
        ...(options.history === false ? { history: false } : {}),
        ...(options.windows === false ? { windows: false } : {}),
      }),
    ),
  );
  const published = presentOrThrow(await readArtefact(sources.artefacts, "latest"));
  return published ? { model, tiers, published } : { model, tiers };
}

/** The registry, telling the trace on every question: its answer is not a fact of the repository. */
function forgetting(registry: RegistryReader, trace: Trace): RegistryReader {
  return {
    inspect(ref) {
      trace.forget("the answer asked the registry");
      return registry.inspect(ref);
    },
  };
}
