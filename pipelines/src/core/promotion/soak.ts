/**
 * Soak (issue 16): a digest may enter a tier only after it has stayed pinned in the tier it
 * comes from (`promotion.from`) for `promotion.criteria.soak`, without interruption. The clock
 * starts at the `at` of the promotion record (releases/history/<from>/…) that last pinned the
 * digest; any later record that moved that service elsewhere (a promotion of another digest, a
 * rollback) resets it. Pure: the records and `now` are handed in.
 */
import { formatSpan } from "../time/span.ts";
import type { Fact } from "./gates.ts";
import type { HistoryRecord } from "./records.ts";

/** Since when `digest` has been `service`'s pin in a tier, from that tier's history records. */
export type PinnedSince =
  | { pinned: true; since: Date; record: string }
  | { pinned: false; why: string };

/**
 * Replays the history records of a tier in time order. `files` names each record (its path),
 * so the verdict can say which record started the clock.
 */
export function pinnedSince(
  history: ReadonlyArray<{ file: string; record: HistoryRecord }>,
  service: string,
  digest: string,
): PinnedSince {
  const ordered = [...history].sort(
    (a, b) => Date.parse(a.record.at) - Date.parse(b.record.at) || a.file.localeCompare(b.file),
  );
  let since: { at: Date; file: string } | undefined;
  let current: string | undefined;
  for (const { file, record } of ordered) {
    for (const pin of record.pins) {
      if (pin.service !== service) continue;
      if (pin.to === digest) {
        if (current !== digest) since = { at: new Date(record.at), file };
      } else {
        since = undefined;
      }
      current = pin.to;
    }
  }
  if (since && !Number.isNaN(since.at.getTime())) {
    return { pinned: true, since: since.at, record: since.file };
  }
  return {
    pinned: false,
    why:
      current === undefined
        ? `no promotion record pins ${service} to it`
        : `${service} is pinned to ${current.slice(0, 19)}…, not this digest`,
  };
}

/** The soak gate's verdict. `remainingMs` is 0 when the soak is over. */
export interface SoakVerdict {
  ok: boolean;
  why: string;
  remainingMs: number;
}

/** Has the digest soaked `requiredMs` in `fromTier` by `now`? Fails closed on unread records. */
export function soakVerdict(input: {
  fromTier: string;
  required: string;
  requiredMs: number;
  since: Fact<PinnedSince>;
  now: Date;
}): SoakVerdict {
  const { fromTier, required, requiredMs, now } = input;
  if (!input.since.ok) {
    return {
      ok: false,
      why: `soak ${required} in ${fromTier} cannot be measured: ${input.since.why}`,
      remainingMs: requiredMs,
    };
  }
  const since = input.since.value;
  if (!since.pinned) {
    return {
      ok: false,
      why: `soak ${required} in ${fromTier} not started: ${since.why} (releases/history/${fromTier}/)`,
      remainingMs: requiredMs,
    };
  }
  const soaked = now.getTime() - since.since.getTime();
  const remainingMs = Math.max(0, requiredMs - soaked);
  const from = `pinned in ${fromTier} since ${since.since.toISOString()} (${since.record})`;
  return remainingMs === 0
    ? { ok: true, why: `soaked ${formatSpan(soaked)} ≥ ${required}: ${from}`, remainingMs }
    : {
        ok: false,
        why: `soaking: ${formatSpan(remainingMs)} left of ${required}; ${from}`,
        remainingMs,
      };
}
