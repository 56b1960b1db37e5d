/**
 * The facts the time gates judge (issue 16): how long each candidate has been pinned in the tier
 * it comes from (its history records), the overrides recorded for it, and the tier's windows at
 * `now`. Reads only through the injected record reader; every record that cannot be read makes
 * its gate fail, never pass.
 */
import type { Tier } from "../../../core/environment/index.ts";
import type { OverridableGate } from "../../../core/environment/time-schema.ts";
import { TiersError } from "../../../core/errors.ts";
import type { Candidate, Fact, RefusedWaiver, TierFacts } from "../../../core/promotion/gates.ts";
import {
  type HistoryRecord,
  historySchema,
  type OverrideRecord,
  overridePath,
  overrideSchema,
  releasesDir,
  type Waiver,
} from "../../../core/promotion/records.ts";
import { type PinnedSince, pinnedSince, soakVerdict } from "../../../core/promotion/soak.ts";
import {
  type CompiledWindow,
  compileWindow,
  type WindowVerdict,
  windowVerdict,
} from "../../../core/promotion/windows.ts";
import { spanMs } from "../../../core/time/span.ts";
import type { RecordReader } from "./sources.ts";

/** Every history record of `tier` at HEAD, or why one could not be read. */
export async function tierHistory(
  records: RecordReader,
  tier: string,
): Promise<Fact<Array<{ file: string; record: HistoryRecord }>>> {
  const out: Array<{ file: string; record: HistoryRecord }> = [];
  try {
    for (const file of await records.files(`${releasesDir}/history/${tier}`)) {
      if (!file.endsWith(".yaml")) continue;
      const record = await records.record(historySchema, file);
      if (record) out.push({ file, record });
    }
  } catch (error) {
    return { ok: false, why: (error as TiersError).describe?.() ?? String(error) };
  }
  return { ok: true, value: out };
}

/** The soak verdict of one candidate entering a tier that asks for `soak`. */
export function candidateSoak(
  from: string,
  soak: string,
  history: Fact<Array<{ file: string; record: HistoryRecord }>>,
  candidate: Candidate,
  now: Date,
): { ok: boolean; why: string; remainingMs: number } {
  const since: Fact<PinnedSince> = !history.ok
    ? history
    : candidate.digest
      ? { ok: true, value: pinnedSince(history.value, candidate.service, candidate.digest) }
      : { ok: false, why: `${candidate.reference} did not resolve to a digest` };
  return soakVerdict({ fromTier: from, required: soak, requiredMs: spanMs(soak)!, since, now });
}

/**
 * The overrides recorded for `digest` entering `tier`, split into those the tier allows
 * (`promotion.overrides`) and those it does not. A malformed override record waives nothing.
 */
export async function digestOverrides(
  records: RecordReader,
  tierName: string,
  tier: Tier,
  digest: string | undefined,
  actor?: string,
): Promise<{
  waivers: Partial<Record<OverridableGate, Waiver>>;
  refused: Partial<Record<OverridableGate, RefusedWaiver>>;
  /** Why the override record could not be read, when it could not (it then waives nothing). */
  problem?: string;
}> {
  const waivers: Partial<Record<OverridableGate, Waiver>> = {};
  const refused: Partial<Record<OverridableGate, RefusedWaiver>> = {};
  if (!digest) return { waivers, refused };
  let record: OverrideRecord | undefined;
  try {
    record = await records.record(overrideSchema, overridePath(tierName, digest));
  } catch (error) {
    return { waivers, refused, problem: (error as TiersError).describe?.() ?? String(error) };
  }
  const allowed = new Set(tier.promotion.overrides ?? []);
  for (const o of record?.overrides ?? []) {
    const waiver = { by: o.by, at: o.at, reason: o.reason };
    if (!allowed.has(o.gate)) {
      refused[o.gate] = {
        waiver,
        why: `this tier's promotion.overrides does not list ${o.gate}`,
      };
    } else if (actor !== undefined && o.by === actor) {
      // Separation of duties, as for approvals (gates.ts, approvalsVerdict): whoever runs the
      // promotion cannot waive its gates; another person's override still counts.
      if (!waivers[o.gate]) {
        refused[o.gate] = {
          waiver,
          why: `${actor} runs this promotion and cannot waive its own gate (separation of duties)`,
        };
      }
    } else {
      waivers[o.gate] = waiver;
      delete refused[o.gate];
    }
  }
  return { waivers, refused };
}

/** The tier's windows, compiled (the schema already refused any that do not compile). */
export function tierWindows(tier: Tier): CompiledWindow[] {
  return (tier.windows ?? []).flatMap((entry) => {
    const compiled = compileWindow(entry);
    return "window" in compiled ? [compiled.window] : [];
  });
}

/** The window verdict of `tier` at `now`. */
export function tierWindowVerdict(tier: Tier, now: Date): WindowVerdict {
  return windowVerdict(tierWindows(tier), now);
}

/**
 * The window gate's facts: the verdict, and a waiver when every candidate digest carries an
 * allowed window override (an emergency fix names the digests it lets through).
 */
export function windowFacts(
  tier: Tier,
  now: Date,
  waivers: ReadonlyArray<Partial<Record<OverridableGate, Waiver>>>,
  refused: ReadonlyArray<Partial<Record<OverridableGate, RefusedWaiver>>> = [],
): Pick<TierFacts, "window" | "windowWaiver"> {
  const verdict = tierWindowVerdict(tier, now);
  const all = waivers.map((w) => w.window);
  const waiver =
    all.length > 0 && all.every((w): w is Waiver => w !== undefined) ? all[0] : undefined;
  // Name an override that does not count, so "I recorded one" is never a silent no.
  const uncounted = refused.map((r) => r.window).find((r) => r !== undefined);
  const note =
    !verdict.open && !waiver && uncounted
      ? `; an override by ${uncounted.waiver.by} is recorded but does not count: ${uncounted.why}`
      : "";
  return {
    window: { ok: verdict.open, why: `${verdict.why}${note}` },
    ...(waiver ? { windowWaiver: waiver } : {}),
  };
}

/**
 * Refuses `action` (a deploy, a rollback where `windows_apply_to_rollback` is on) outside the
 * tier's windows, changing nothing; the error says why and when the next window opens.
 */
export function requireOpenWindow(tierName: string, tier: Tier, now: Date, action: string): void {
  const verdict = tierWindowVerdict(tier, now);
  if (verdict.open) return;
  throw new TiersError(`${action} of ${tierName} refused: ${verdict.why}; nothing was changed`, {
    where: `environments/${tierName}.yaml (windows)`,
    hint: "wait for the window, or promote an emergency fix with `tiers approve --override window --reason …` where promotion.overrides allows it",
  });
}
