/**
 * `tiers approve --override <gate> --reason …`: records, in git, that someone waives a time gate
 * (soak, window) for one digest entering one tier. Refused, changing nothing, when the tier does
 * not list the gate in `promotion.overrides` or the reason is empty: an emergency needs a name
 * and a why, and the passage record keeps both.
 */
import { tierOf } from "../../../core/environment/index.ts";
import { type OverridableGate, overridableGates } from "../../../core/environment/time-schema.ts";
import { TiersError, UsageError } from "../../../core/errors.ts";
import { overrideMessage } from "../../../core/promotion/messages.ts";
import {
  type OverrideRecord,
  overridePath,
  overrideSchema,
  renderRecord,
} from "../../../core/promotion/records.ts";
import { PromotionRepo, whoAmI } from "../history.ts";
import { loadModelCached } from "../model-cache.ts";
import { locked } from "./lock.ts";

export interface OverrideRequest {
  root: string;
  tier: string;
  digest: string;
  gate: string;
  reason: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

/** Records one override; recording the same gate twice by the same person changes nothing. */
export async function recordOverride(
  request: OverrideRequest,
): Promise<{ changed: boolean; record: OverrideRecord; commit?: string }> {
  if (!(overridableGates as readonly string[]).includes(request.gate)) {
    throw new UsageError(
      `--override ${request.gate}: only ${overridableGates.join(" and ")} can be overridden`,
    );
  }
  const gate = request.gate as OverridableGate;
  const reason = request.reason.trim();
  if (!reason) {
    throw new UsageError(`an override of ${gate} needs a reason`, {
      hint: '--reason "why this cannot wait"',
    });
  }
  const model = await loadModelCached(request.root);
  const tier = tierOf(model, request.tier);
  if (!(tier.promotion.overrides ?? []).includes(gate)) {
    throw new TiersError(`${request.tier} does not allow ${gate} to be overridden`, {
      where: `environments/${request.tier}.yaml (promotion.overrides)`,
      hint: `add ${gate} to promotion.overrides if this tier may waive it, reviewed like any change`,
    });
  }
  const env = request.env ?? process.env;
  const repo = new PromotionRepo(request.root, env);
  return locked(repo, `override ${request.tier}`, async () => {
    const head = await repo.head();
    const path = overridePath(request.tier, request.digest);
    const who = await whoAmI(repo, env);
    const existing = await repo.record(overrideSchema, path);
    if (existing?.overrides.some((o) => o.gate === gate && o.by === who)) {
      return { changed: false, record: existing };
    }
    const entry = {
      gate,
      by: who,
      at: (request.now ?? (() => new Date()))().toISOString(),
      reason,
    };
    const record: OverrideRecord = existing
      ? { ...existing, overrides: [...existing.overrides, entry] }
      : { kind: "override", tier: request.tier, digest: request.digest, overrides: [entry] };
    const commit = await repo.commit({
      expectedHead: head,
      writes: [
        {
          path,
          content: renderRecord(record, `overrides for ${request.digest} entering ${request.tier}`),
        },
      ],
      message: overrideMessage(request.tier, request.digest, gate, who, reason),
    });
    return { changed: true, record, commit };
  });
}
