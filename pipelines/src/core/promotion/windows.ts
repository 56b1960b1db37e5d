/**
 * Promotion windows (issue 16): when a tier may take a promotion, a bless or a deploy at all.
 * Each entry is an RFC 5545 recurrence (an RRULE plus its DTSTART, the `start` wall-clock time
 * in the entry's IANA `time_zone`), a `duration` each occurrence lasts, and a reason. Deny beats
 * allow; a tier without allow entries is open whenever no deny entry covers the moment.
 *
 * RRULE rather than cron plus duration: RFC 5545 carries the time zone with the rule (DTSTART;
 * TZID=…), has COUNT/UNTIL for one-off freezes, and is what calendars export, so a freeze
 * agreed in a calendar can be pasted. Occurrences come from `rrule-temporal`, which computes in
 * Temporal zoned time, so 09:00 Europe/Berlin stays 09:00 across a daylight-saving change.
 *
 * Pure: `now` is handed in; nothing here reads a clock.
 */
import { RRuleTemporal } from "rrule-temporal";
import { formatSpan, spanMs } from "../time/span.ts";

/** One `windows:` entry as the tier file states it. */
export interface WindowEntry {
  kind: "allow" | "deny";
  /** RRULE parts without DTSTART, e.g. `FREQ=WEEKLY;BYDAY=FR;BYHOUR=16`. */
  rrule: string;
  /** DTSTART: the first occurrence, local wall-clock time `YYYY-MM-DDTHH:MM[:SS]`. */
  start: string;
  duration: string;
  time_zone: string;
  reason: string;
}

/** The rule parts RFC 5545 §3.3.10 defines; the library ignores others, so they are refused here. */
const recurParts = new Set([
  "FREQ",
  "UNTIL",
  "COUNT",
  "INTERVAL",
  "BYSECOND",
  "BYMINUTE",
  "BYHOUR",
  "BYDAY",
  "BYMONTHDAY",
  "BYYEARDAY",
  "BYWEEKNO",
  "BYMONTH",
  "BYSETPOS",
  "WKST",
]);

const startPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** A checked entry, ready to answer "does an occurrence cover this instant?". */
export interface CompiledWindow {
  entry: WindowEntry;
  durationMs: number;
  rule: RRuleTemporal;
}

/** One problem with an entry: which field and what is wrong. */
export interface WindowProblem {
  field: keyof WindowEntry;
  message: string;
}

/** True when Intl knows the IANA zone (Node ships full ICU). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Checks and compiles an entry; problems name the field. */
export function compileWindow(
  entry: WindowEntry,
): { window: CompiledWindow } | { problems: WindowProblem[] } {
  const problems: WindowProblem[] = [];
  const durationMs = spanMs(entry.duration);
  if (durationMs === undefined) {
    problems.push({ field: "duration", message: `"${entry.duration}" is not a span such as 8h` });
  }
  if (!isTimeZone(entry.time_zone)) {
    problems.push({
      field: "time_zone",
      message: `"${entry.time_zone}" is not an IANA time zone such as Europe/Berlin or UTC`,
    });
  }
  const start = startPattern.exec(entry.start);
  if (!start) {
    problems.push({
      field: "start",
      message: `"${entry.start}" is not a local date-time YYYY-MM-DDTHH:MM (no offset: time_zone gives it)`,
    });
  }
  const parts = entry.rrule.split(";").map((p) => p.split("=")[0]!.trim().toUpperCase());
  const unknown = parts.filter((p) => !recurParts.has(p));
  if (/[\r\n]|DTSTART|RRULE:/i.test(entry.rrule) || unknown.length > 0) {
    problems.push({
      field: "rrule",
      message:
        unknown.length > 0 && !/[\r\n]/.test(entry.rrule)
          ? `unknown RRULE part(s) ${unknown.join(", ")}; RFC 5545 §3.3.10 defines ${[...recurParts].join(", ")}`
          : "give only the RRULE parts (FREQ=…;BY…=…); start and time_zone make its DTSTART",
    });
  }
  if (problems.length > 0 || !start || durationMs === undefined) return { problems };
  const [, y, mo, d, h, mi, s] = start;
  const dtstart = `${y}${mo}${d}T${h}${mi}${s ?? "00"}`;
  try {
    const rule = new RRuleTemporal({
      rruleString: `DTSTART;TZID=${entry.time_zone}:${dtstart}\nRRULE:${entry.rrule}`,
    });
    // A rule that parses can still be unusable (an impossible BYMONTHDAY): ask it once.
    rule.next(new Date(0), true);
    return { window: { entry, durationMs, rule } };
  } catch (error) {
    return { problems: [{ field: "rrule", message: (error as Error).message }] };
  }
}

/** The occurrence of `w` that covers `at` ([start, start + duration)), if any. */
export function covering(w: CompiledWindow, at: Date): { start: Date; end: Date } | undefined {
  // Occurrences all last the same: if any covers `at`, the latest one starting at or before
  // `at` does, so one look back is enough.
  const last = w.rule.previous(at, true);
  if (!last) return undefined;
  const start = new Date(last.epochMilliseconds);
  const end = new Date(start.getTime() + w.durationMs);
  return at < end ? { start, end } : undefined;
}

/** The next occurrence of `w` starting strictly after `at`. */
function nextStart(w: CompiledWindow, at: Date): Date | undefined {
  const next = w.rule.next(at, false);
  return next ? new Date(next.epochMilliseconds) : undefined;
}

/** Is the tier open at `at`, and because of which entries. */
interface State {
  open: boolean;
  denies: Array<{ w: CompiledWindow; end: Date }>;
  allows: Array<{ w: CompiledWindow; end: Date }>;
}

function stateAt(windows: readonly CompiledWindow[], at: Date): State {
  const denies: State["denies"] = [];
  const allows: State["allows"] = [];
  for (const w of windows) {
    const c = covering(w, at);
    if (!c) continue;
    (w.entry.kind === "deny" ? denies : allows).push({ w, end: c.end });
  }
  const hasAllow = windows.some((w) => w.entry.kind === "allow");
  return { open: denies.length === 0 && (!hasAllow || allows.length > 0), denies, allows };
}

/** How far ahead `nextOpening` looks, and how many boundaries it steps over at most. */
export const windowSearch = { horizonMs: 400 * 86_400_000, maxSteps: 2000 } as const;

/**
 * The first instant at or after `now` when the tier is open, or null when none within the
 * horizon. Steps from boundary to boundary: out of a covering deny (its end), into the next
 * allow (its start), each a lower bound on the answer, until a moment is open.
 */
export function nextOpening(windows: readonly CompiledWindow[], now: Date): Date | null {
  const limit = now.getTime() + windowSearch.horizonMs;
  let t = now;
  for (let step = 0; step < windowSearch.maxSteps && t.getTime() <= limit; step++) {
    const state = stateAt(windows, t);
    if (state.open) return t;
    let bound = t.getTime();
    for (const d of state.denies) bound = Math.max(bound, d.end.getTime());
    if (state.allows.length === 0 && windows.some((w) => w.entry.kind === "allow")) {
      const starts = windows
        .filter((w) => w.entry.kind === "allow")
        .map((w) => nextStart(w, t))
        .filter((d): d is Date => d !== undefined)
        .map((d) => d.getTime());
      if (starts.length === 0) return null;
      bound = Math.max(bound, Math.min(...starts));
    }
    if (bound <= t.getTime()) return null;
    t = new Date(bound);
  }
  return null;
}

/** The window gate's verdict at `now`. */
export type WindowVerdict =
  | { open: true; why: string }
  | { open: false; why: string; nextOpen: Date | null };

function describe(w: CompiledWindow): string {
  return `${w.entry.kind} "${w.entry.reason}" (${w.entry.rrule}, ${w.entry.duration}, ${w.entry.time_zone})`;
}

/** `2026-03-30T07:00:00Z (in 2d 20h)`. */
export function describeInstant(at: Date, now: Date): string {
  return `${at.toISOString().replace(/\.000Z$/, "Z")} (in ${formatSpan(at.getTime() - now.getTime())})`;
}

/** Whether `windows` let a change happen at `now`, why, and when the next window opens. */
export function windowVerdict(windows: readonly CompiledWindow[], now: Date): WindowVerdict {
  if (windows.length === 0) return { open: true, why: "no windows declared: always open" };
  const state = stateAt(windows, now);
  if (state.open) {
    const inside = state.allows[0];
    return {
      open: true,
      why: inside
        ? `inside ${describe(inside.w)} until ${describeInstant(inside.end, now)}`
        : "no deny window covers now and no allow window is required",
    };
  }
  const next = nextOpening(windows, now);
  const opens = next
    ? `next window opens ${describeInstant(next, now)}`
    : `no window opens within ${formatSpan(windowSearch.horizonMs)}`;
  const why =
    state.denies.length > 0
      ? `inside ${state.denies.map((d) => describe(d.w)).join(" and ")}; ${opens}`
      : `outside every allow window; ${opens}`;
  return { open: false, why, nextOpen: next };
}
