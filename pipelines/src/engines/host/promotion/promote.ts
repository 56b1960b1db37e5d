/**
 * `tiers promote`: plans, refuses on any failing gate, else pins the digests, records the
 * passage and the promotion in one commit, then runs the deploy step; a failed deploy is rolled
 * back by a second commit. Idempotent and safe under concurrency (lock + compare-and-swap).
 */

import { TiersError } from "../../../core/errors.ts";
import type { Reporter } from "../../../core/log.ts";
import { unpromotedDigest } from "../../../core/manifests/pins.ts";
import { describeSigner, passageSigningPolicy } from "../../../core/promotion/evidence.ts";
import { gateLine } from "../../../core/promotion/gates.ts";
import { promotionMessage } from "../../../core/promotion/messages.ts";
import { overlayPath } from "../../../core/promotion/overlay.ts";
import { pinVerdicts, restorable } from "../../../core/promotion/pin-verdict.ts";
import { failingGates, type PromotionPlan } from "../../../core/promotion/plan.ts";
import {
  type HistoryRecord,
  historyPath,
  type PassageRecord,
  passagePath,
  releasesDir,
  renderRecord,
} from "../../../core/promotion/records.ts";
import { hostPinFacts } from "../deploy-verify.ts";
import { PromotionRepo, whoAmI } from "../history.ts";
import { loadModelCached } from "../model-cache.ts";
import { type Deployer, type DeployMode, type DeployReport, runDeploy } from "./deploy-step.ts";
import { locked, requireCleanOverlay } from "./lock.ts";
import { computePlan } from "./plan.ts";
import type { PromotionRequest } from "./request.ts";
import { writeRollback } from "./rollback.ts";

/** A promotion refused by its gates: lists every failing gate; exit code 1. */
export class GateFailure extends TiersError {
  readonly plan: PromotionPlan;
  constructor(plan: PromotionPlan) {
    const failing = failingGates(plan);
    super(
      `promotion into ${plan.tier} refused: ${failing.length} gate(s) failed; nothing was changed\n${failing
        .map((g) => `  ${gateLine(g).text}`)
        .join("\n")}`,
      {
        where: `environments/${plan.tier}.yaml (promotion.gates)`,
        hint: `see every gate with \`tiers plan --env ${plan.tier}\`; fix the cause, never the gate`,
      },
    );
    this.plan = plan;
  }
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

/**
 * Plans, refuses on any failing gate, else pins the digests, records the passage and the
 * promotion in one commit, then runs the deploy step. Idempotent and safe under concurrency.
 */
export async function promote(request: PromoteRequest): Promise<PromoteOutcome> {
  const model = request.model ?? (await loadModelCached(request.root));
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
    const message = promotionMessage({
      tier: request.tier,
      changes: plan.changes,
      commit: plan.commit,
      gates: plan.gates,
      evidence: ctx.evidenceKind,
      signer: describeSigner(policy),
      by: who,
    });
    const commit = await repo.commit({ expectedHead: ctx.head, writes, message });
    const outcome: PromoteOutcome = { plan, changed: true, commit };
    if (plan.overlay) {
      outcome.deploy = await runDeploy(request, model);
      if (outcome.deploy.restoredBy) {
        // The verification period rolled back to the last verified release itself.
        outcome.rolledBack = outcome.deploy.restoredBy;
        throw new TiersError(`deployed ${request.tier}, then ${outcome.deploy.detail}`, {
          where: overlayPath(request.tier),
          hint: `the last verified pins were restored by commit ${outcome.rolledBack.slice(0, 12)}; fix the artefact and promote again`,
        });
      }
      if (outcome.deploy.outcome === "failed") {
        // Back only to earlier pins that hold (passage here, not rejected, signed where required).
        const moves = plan.changes.map((c) => ({
          ...c,
          from: c.to,
          to: c.from ?? unpromotedDigest,
        }));
        const targets = moves.map((m) => ({
          service: m.service,
          image: m.image,
          repository: m.repository,
          digest: m.to,
          overlay: overlayPath(request.tier),
        }));
        const env = request.env ?? process.env;
        const verdicts = pinVerdicts(
          model,
          request.tier,
          await hostPinFacts(request.root, env, model, request.tier, targets),
        );
        const { restore, kept } = restorable(request.tier, moves, verdicts);
        const notKept = kept.map((k) => `${k.move.service} ${k.move.to}: ${k.why.join("; ")}`);
        if (restore.length === 0) {
          throw new TiersError(
            `deploying ${request.tier} failed (${outcome.deploy.detail}), and the automatic rollback was refused: no earlier pin holds\n  ${notKept.join("\n  ")}`,
            {
              where: overlayPath(request.tier),
              hint: `the new pin stays recorded by commit ${commit.slice(0, 12)}; promote a good artefact or \`tiers rollback --env ${request.tier} --to <digest>\` to a pin that holds`,
            },
          );
        }
        const restored = new Set(restore.map((m) => m.from));
        const passages = writes.filter(
          (w) =>
            w.path.startsWith(`${releasesDir}/passages/`) &&
            [...restored].some((d) => w.path === passagePath(request.tier, d)),
        );
        outcome.rolledBack = await writeRollback(repo, {
          tier: request.tier,
          head: commit,
          changes: restore,
          reason: `automatic: deploy failed: ${outcome.deploy.detail}${notKept.length ? `; not restored (does not hold): ${notKept.join(", ")}` : ""}`,
          restoredFrom: ctx.head,
          removePaths: passages.map((w) => w.path),
          who,
          now: new Date(now.getTime() + 1),
        });
        throw new TiersError(
          `deployed ${request.tier} failed and was rolled back: ${outcome.deploy.detail}${notKept.length ? `; kept (no earlier pin holds): ${notKept.join(", ")}` : ""}`,
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
