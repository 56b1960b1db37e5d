/**
 * Verification over time (issue 16): after a deploy the tier's checks keep running every
 * `deploy.verify.every` for `deploy.verify.for`; a period that passes makes the pins the tier's
 * last verified release (releases/verifications/<tier>/…), and a check failing during it rolls
 * the tier back to that release. Pure: the schedule, which record is the last verified one, and
 * the verdict `tiers plan` and `tiers status` print. The host engine runs the checks and writes
 * the records (engines/host/verify-period.ts).
 */
import { maxVerifyChecks, maxVerifyMs, type VerifySettings } from "../environment/time-schema.ts";
import { TiersError } from "../errors.ts";
import { formatSpan, spanMs } from "../time/span.ts";
import { describeInvalid, type RecordRead } from "./record-read.ts";
import type { HistoryRecord, VerificationRecord } from "./records.ts";
import { shortDigest } from "./refs.ts";
import type { PinSet } from "./rollback.ts";

/** When each check of a period runs, in ms after its start: every, 2·every, … up to for. */
export function periodSchedule(verify: VerifySettings): number[] {
  const forMs = spanMs(verify.for);
  const everyMs = spanMs(verify.every);
  // The schema refused anything else; a model built around it must not run an unbounded
  // period, nor one with no check (which would "verify" without looking).
  if (
    !forMs ||
    !everyMs ||
    everyMs > forMs ||
    forMs > maxVerifyMs ||
    forMs / everyMs > maxVerifyChecks
  ) {
    throw new TiersError(
      `deploy.verify ${describePeriod(verify)} is not a bounded period with at least one check`,
      {
        hint: "run `tiers validate`: every ≤ for, for ≤ 1d, at most 1000 checks",
      },
    );
  }
  const out: number[] = [];
  for (let at = everyMs; at <= forMs; at += everyMs) out.push(at);
  return out;
}

/** The minute of the period `atMs` falls in: 1 during its first minute, 3 from 2:00 to 2:59. */
export function periodMinute(startedMs: number, atMs: number): number {
  return Math.floor(Math.max(0, atMs - startedMs) / 60_000) + 1;
}

/** `for 10m, every 30s` */
export function describePeriod(verify: VerifySettings): string {
  return `${verify.for} every ${verify.every}`;
}

/** The pins of a verification record, keyed by image name as the overlay names them. */
export function verifiedPins(record: VerificationRecord): PinSet {
  return Object.fromEntries(record.pins.map((p) => [p.image, p.digest]));
}

/** `api sha256:1a2b3c4d…, worker sha256:…` */
export function describePins(record: VerificationRecord): string {
  return record.pins.map((p) => `${p.service} ${shortDigest(p.digest)}`).join(", ");
}

/** The tier's last verified release, none, or why it cannot be told (a record is unreadable). */
export type LastVerified =
  | { state: "present"; file: string; record: VerificationRecord }
  | { state: "absent" }
  | { state: "invalid"; file: string; why: string };

/**
 * The newest verification record of a tier by `ended_at`. Fails closed: one unreadable record
 * makes the answer invalid, naming it, since it may be the newest and nothing says otherwise.
 */
export function lastVerified(reads: ReadonlyArray<RecordRead<VerificationRecord>>): LastVerified {
  let newest: { file: string; record: VerificationRecord } | undefined;
  for (const read of reads) {
    if (read.state === "invalid") {
      return { state: "invalid", file: read.file, why: describeInvalid(read) };
    }
    if (read.state !== "present") continue;
    const ended = Date.parse(read.value.ended_at);
    if (
      !newest ||
      ended > Date.parse(newest.record.ended_at) ||
      (ended === Date.parse(newest.record.ended_at) && read.file > newest.file)
    ) {
      newest = { file: read.file, record: read.value };
    }
  }
  return newest ? { state: "present", ...newest } : { state: "absent" };
}

/** What `plan` and `status` say about a tier's verification, and whether it can be read at all. */
export interface VerificationVerdict {
  ok: boolean;
  why: string;
  /** The last verified release, when there is one. */
  last?: { file: string; record: VerificationRecord };
}

/**
 * The verdict of a tier with `deploy.verify`: the last verified release, and whether a period
 * is running (the newest promotion or rollback is younger than `for` and no verification
 * followed it) or the last one failed (the newest history record is a rollback it caused).
 * An unreadable verification record fails (ok false), naming the file; anything else is ok,
 * since the verdict informs the promotion rather than blocking it.
 */
export function verificationVerdict(input: {
  /** The tier's period; undefined for a tier without one (only the last verified is told). */
  verify: VerifySettings | undefined;
  last: LastVerified;
  /** The tier's history records, any order. */
  history: ReadonlyArray<{ file: string; record: HistoryRecord }>;
  /** Read only for a period that may still run: every other verdict holds at any time. */
  now: () => Date;
}): VerificationVerdict {
  const { last, verify } = input;
  if (last.state === "invalid") {
    return {
      ok: false,
      why: `the last verified release cannot be told: ${last.why}`,
    };
  }
  const lastText =
    last.state === "present"
      ? `last verified ${describePins(last.record)} at ${last.record.ended_at} (${last.file})`
      : "no verified release on record yet";
  const newest = [...input.history].sort(
    (a, b) => Date.parse(b.record.at) - Date.parse(a.record.at) || b.file.localeCompare(a.file),
  )[0];
  const verifiedAt = last.state === "present" ? Date.parse(last.record.ended_at) : -Infinity;
  const base = last.state === "present" ? { last: { file: last.file, record: last.record } } : {};
  if (verify && newest && Date.parse(newest.record.at) > verifiedAt) {
    const failed = newest.record.failed_check;
    if (failed) {
      return {
        ok: true,
        why: `verification period failed in minute ${failed.minute} of ${failed.period}: ${failed.check}; rolled back (${newest.file}); ${lastText}`,
        ...base,
      };
    }
    const left = Date.parse(newest.record.at) + (spanMs(verify.for) ?? 0) - input.now().getTime();
    // No record says whether the deploy ran: a period still inside its span may be running.
    const pinned = `the pins of the ${newest.record.kind} at ${newest.record.at}`;
    return {
      ok: true,
      why:
        left > 0
          ? `verification period running (${describePeriod(verify)}): ${formatSpan(left)} left for ${pinned}; ${lastText}`
          : `${pinned} were never verified (deployed without a period, or not deployed); ${lastText}`,
      ...base,
    };
  }
  return { ok: true, why: lastText, ...base };
}
