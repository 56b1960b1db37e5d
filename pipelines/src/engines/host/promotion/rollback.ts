/**
 * `tiers rollback`: restores earlier pins from the overlay's git history (the target is chosen
 * by core/promotion/rollback.ts) and records it as a rollback, under the promotion lock.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type EnvironmentModel, tierOf } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { hasOverlay } from "../../../core/promotion/chain.ts";
import { rollbackMessage } from "../../../core/promotion/messages.ts";
import { findPin, overlayPath, readPins, setPins } from "../../../core/promotion/overlay.ts";
import { deployRefusal, pinVerdicts } from "../../../core/promotion/pin-verdict.ts";
import type { PlannedChange } from "../../../core/promotion/plan.ts";
import {
  type HistoryRecord,
  historyPath,
  rejectionPath,
  rejectionSchema,
  renderRecord,
} from "../../../core/promotion/records.ts";
import { isDigest } from "../../../core/promotion/refs.ts";
import {
  chooseRollbackTarget,
  type PinTarget,
  pinSet,
  requireLiveTarget,
  rollbackChanges,
} from "../../../core/promotion/rollback.ts";
import { serviceOfRepository } from "../../../core/promotion/services.ts";
import { hostPinFacts } from "../deploy-verify.ts";
import { PromotionRepo, whoAmI } from "../history.ts";
import { loadModelCached } from "../model-cache.ts";
import { type Deployer, type DeployMode, type DeployReport, runDeploy } from "./deploy-step.ts";
import { locked, requireCleanOverlay } from "./lock.ts";
import { readRecord } from "./sources.ts";
import { requireOpenWindow } from "./time-facts.ts";

export interface RollbackWrite {
  tier: string;
  head: string;
  changes: PlannedChange[];
  reason: string;
  restoredFrom: string | null;
  removePaths?: string[];
  who: string;
  now: Date;
  /** The check whose failure during a verification period caused this rollback. */
  failedCheck?: HistoryRecord["failed_check"];
}

/** Writes the rollback commit: the overlay with the restored pins and a history record. */
export async function writeRollback(repo: PromotionRepo, w: RollbackWrite): Promise<string> {
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
    ...(w.failedCheck ? { failed_check: w.failedCheck } : {}),
  };
  const writes: Array<{ path: string; content: string | null }> = [{ path, content: after }];
  for (const p of w.removePaths ?? []) writes.push({ path: p, content: null });
  writes.push({
    path: historyPath(w.tier, w.now, "rollback", w.changes[0]?.to ?? "sha256:"),
    content: renderRecord(history, `rollback of ${w.tier}`),
  });
  const message = rollbackMessage({
    tier: w.tier,
    changes: w.changes,
    restoredFrom: w.restoredFrom,
    reason: w.reason,
    by: w.who,
  });
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

/** What rollback reads from git: pins now and in the overlay's history, records, revisions. */
export type PinHistoryReader = Pick<PromotionRepo, "pinsAt" | "pinHistory" | "resolve" | "record">;

/**
 * The pin moves of a rollback of `tier` at `head`, refusing a rejected target. Reads only
 * through `repo`, so it runs on an in-memory history in tests.
 */
export async function planRollback(
  request: Pick<RollbackRequest, "tier" | "to">,
  model: EnvironmentModel,
  repo: PinHistoryReader,
  head: string,
): Promise<{ target: PinTarget; changes: PlannedChange[] }> {
  const path = overlayPath(request.tier);
  const current = (await repo.pinsAt(request.tier, head)) ?? [];
  const to = request.to?.trim();
  let target: PinTarget;
  if (!to || isDigest(to)) {
    const history = await repo.pinHistory(request.tier, 200);
    target = chooseRollbackTarget({
      tier: request.tier,
      overlay: path,
      current: pinSet(current),
      history,
      to,
    });
  } else {
    const commit = await repo.resolve(to);
    const pins = commit ? await repo.pinsAt(request.tier, commit) : undefined;
    if (!commit || !pins) {
      throw new TiersError(`${to} is neither a digest nor a commit that has ${path}`, {
        hint: "give --to sha256:<digest> or an overlay commit from `tiers env <tier> status`",
      });
    }
    target = requireLiveTarget({ commit, pins: pinSet(pins) }, path);
  }
  const changes = rollbackChanges(current, target, (repository) =>
    serviceOfRepository(model, request.tier, repository),
  );
  for (const c of changes) {
    const rejected = await readRecord(repo, rejectionSchema, rejectionPath(c.to));
    if (rejected.state === "present") {
      throw new TiersError(
        `refusing to roll ${request.tier} back to ${c.to}: it was rejected (${rejected.value.reason})`,
        {
          where: rejectionPath(c.to),
          hint: "choose another target with --to, or promote a good artefact",
        },
      );
    }
    if (rejected.state === "invalid") {
      // It may be a rejection: restoring the digest would bypass it.
      throw new TiersError(
        `refusing to roll ${request.tier} back to ${c.to}: its rejection record cannot be read (${rejected.why})`,
        {
          where: rejected.where,
          hint: "restore the record from git (`git log -p -- <file>`), or choose another target with --to",
        },
      );
    }
  }
  return { target, changes };
}

/** Restores earlier pins from the overlay's git history and records it as a rollback. */
export async function rollback(request: RollbackRequest): Promise<RollbackOutcome> {
  const model = request.model ?? (await loadModelCached(request.root));
  const tier = tierOf(model, request.tier);
  // A freeze must never block the way back, unless the tier says it should.
  if (tier.windows_apply_to_rollback) {
    requireOpenWindow(request.tier, tier, (request.now ?? (() => new Date()))(), "rollback");
  }
  if (!hasOverlay(model, request.tier)) {
    throw new TiersError(`${request.tier} has no overlay pin to roll back`, {
      where: `environments/${request.tier}.yaml (runtime)`,
      hint: "rollback applies to Kubernetes tiers (staging, prod)",
    });
  }
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, `rollback ${request.tier}`, async () => {
    const head = await repo.head();
    await requireCleanOverlay(repo, request.tier);
    const { target, changes } = await planRollback(request, model, repo, head);
    const moved = changes.filter((c) => c.from !== c.to);
    // Only to pins that hold, as deploy would verify them (core/promotion/pin-verdict.ts).
    const refused = deployRefusal(
      request.tier,
      pinVerdicts(
        model,
        request.tier,
        await hostPinFacts(
          request.root,
          request.env ?? process.env,
          model,
          request.tier,
          moved.map((c) => ({ ...c, digest: c.to, overlay: overlayPath(request.tier) })),
        ),
      ),
    );
    if (refused) {
      throw new TiersError(
        `refusing to roll ${request.tier} back to the pins of ${target.commit.slice(0, 12)}: ${refused.message.replace(/^deploy of \S+ refused: /, "")}`,
        {
          where: overlayPath(request.tier),
          hint: "choose another target with --to, or promote a good artefact",
        },
      );
    }
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
