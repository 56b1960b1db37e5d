/**
 * Promotion windows with fixed clocks. Occurrences come from rrule-temporal (RFC 5545 RRULE in
 * Temporal zoned time); the expected instants below are worked out by hand from the zones'
 * offsets: Europe/Berlin is UTC+1 until 2026-03-29 01:00Z, UTC+2 after; America/New_York is
 * UTC-5 until 2026-03-08 07:00Z, UTC-4 after (IANA tz database, northamerica/europe files).
 */
import { describe, expect, it } from "vitest";
import {
  type CompiledWindow,
  compileWindow,
  covering,
  nextOpening,
  type WindowEntry,
  windowVerdict,
} from "../../../../pipelines/src/core/promotion/windows.ts";

function compiled(entry: Partial<WindowEntry>): CompiledWindow {
  const result = compileWindow({
    kind: "allow",
    rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    start: "2026-01-05T09:00",
    duration: "8h",
    time_zone: "Europe/Berlin",
    reason: "office hours",
    ...entry,
  });
  if (!("window" in result)) throw new Error(JSON.stringify(result.problems));
  return result.window;
}

const officeHours = compiled({});
const fridayAfternoonFreeze = compiled({
  kind: "deny",
  rrule: "FREQ=WEEKLY;BYDAY=FR",
  start: "2026-01-09T12:00",
  duration: "5h",
  reason: "no Friday afternoon deploys",
});
const at = (iso: string) => new Date(iso);

describe("windows: allow entries", () => {
  it("is open from the start of an occurrence (inclusive) to its end (exclusive)", () => {
    // Thursday 2026-03-26 09:00 Berlin (CET) = 08:00Z; 17:00 = 16:00Z.
    expect(windowVerdict([officeHours], at("2026-03-26T08:00:00Z")).open).toBe(true);
    expect(windowVerdict([officeHours], at("2026-03-26T15:59:59Z")).open).toBe(true);
    expect(windowVerdict([officeHours], at("2026-03-26T16:00:00Z")).open).toBe(false);
    expect(windowVerdict([officeHours], at("2026-03-26T07:59:59Z")).open).toBe(false);
  });

  it("across a daylight-saving change the window keeps its wall-clock time, and says when it opens", () => {
    // Friday 17:00 CET, then the clocks go forward on Sunday 29 March: Monday 09:00 is CEST.
    const verdict = windowVerdict([officeHours], at("2026-03-27T16:00:00Z"));
    expect(verdict.open).toBe(false);
    if (verdict.open) return;
    expect(verdict.nextOpen?.toISOString()).toBe("2026-03-30T07:00:00.000Z");
    expect(verdict.why).toMatch(
      /outside every allow window; next window opens 2026-03-30T07:00:00Z \(in 2d 15h\)/,
    );
    // And after the change, Monday 09:00 CEST (07:00Z) is open, 08:00Z is not the start.
    expect(covering(officeHours, at("2026-03-30T07:00:00Z"))?.start.toISOString()).toBe(
      "2026-03-30T07:00:00.000Z",
    );
    expect(windowVerdict([officeHours], at("2026-03-30T06:59:59Z")).open).toBe(false);
  });

  it("New York: 09:00 local is 14:00Z before 8 March 2026 and 13:00Z after", () => {
    const morning = compiled({
      rrule: "FREQ=DAILY",
      start: "2026-03-01T09:00",
      duration: "1h",
      time_zone: "America/New_York",
    });
    expect(windowVerdict([morning], at("2026-03-07T14:30:00Z")).open).toBe(true);
    expect(windowVerdict([morning], at("2026-03-08T13:30:00Z")).open).toBe(true);
    expect(windowVerdict([morning], at("2026-03-08T14:30:00Z")).open).toBe(false);
    const closed = windowVerdict([morning], at("2026-03-08T14:30:00Z"));
    expect(closed.open ? null : closed.nextOpen?.toISOString()).toBe("2026-03-09T13:00:00.000Z");
  });
});

describe("windows: deny beats allow", () => {
  it("a deny inside an allow closes it, and the next opening skips past both", () => {
    const windows = [officeHours, fridayAfternoonFreeze];
    // Friday 2026-03-27 13:00 CET = 12:00Z: inside office hours and inside the freeze.
    const verdict = windowVerdict(windows, at("2026-03-27T12:00:00Z"));
    expect(verdict.open).toBe(false);
    if (verdict.open) return;
    expect(verdict.why).toMatch(/inside deny "no Friday afternoon deploys"/);
    // The freeze ends at 17:00, when office hours end too: the next opening is Monday 09:00 CEST.
    expect(verdict.nextOpen?.toISOString()).toBe("2026-03-30T07:00:00.000Z");
    // Friday morning and Thursday afternoon are open.
    expect(windowVerdict(windows, at("2026-03-27T10:59:59Z")).open).toBe(true);
    expect(windowVerdict(windows, at("2026-03-26T12:00:00Z")).open).toBe(true);
  });

  it("a deny that ends inside an allow opens at the deny's end", () => {
    const lunch = compiled({
      kind: "deny",
      rrule: "FREQ=DAILY",
      start: "2026-01-05T12:00",
      duration: "1h",
      reason: "lunch",
    });
    const verdict = windowVerdict([officeHours, lunch], at("2026-03-26T11:30:00Z"));
    expect(verdict.open ? null : verdict.nextOpen?.toISOString()).toBe("2026-03-26T12:00:00.000Z");
  });

  it("without allow entries it is open except inside a deny (a one-off freeze fortnight)", () => {
    const freeze = compiled({
      kind: "deny",
      rrule: "FREQ=DAILY;COUNT=1",
      start: "2026-12-21T00:00",
      duration: "2w",
      time_zone: "America/New_York",
      reason: "year-end freeze",
    });
    expect(windowVerdict([freeze], at("2026-12-21T04:59:59Z")).open).toBe(true);
    const inside = windowVerdict([freeze], at("2026-12-24T12:00:00Z"));
    expect(inside.open).toBe(false);
    // 2 weeks of elapsed time after 2026-12-21T05:00Z.
    expect(inside.open ? null : inside.nextOpen?.toISOString()).toBe("2027-01-04T05:00:00.000Z");
    expect(windowVerdict([freeze], at("2027-01-04T05:00:00Z")).open).toBe(true);
  });

  it("no windows: always open; an allow that never recurs again: no next opening", () => {
    expect(windowVerdict([], at("2026-03-27T12:00:00Z"))).toEqual({
      open: true,
      why: "no windows declared: always open",
    });
    const once = compiled({ rrule: "FREQ=DAILY;COUNT=1", start: "2026-01-05T09:00" });
    expect(nextOpening([once], at("2026-03-27T12:00:00Z"))).toBeNull();
    const verdict = windowVerdict([once], at("2026-03-27T12:00:00Z"));
    expect(verdict.why).toMatch(/no window opens within 400d/);
  });
});

describe("windows: entries that cannot be read are refused by field", () => {
  const base: WindowEntry = {
    kind: "deny",
    rrule: "FREQ=DAILY",
    start: "2026-01-05T09:00",
    duration: "1h",
    time_zone: "UTC",
    reason: "r",
  };
  const problems = (over: Partial<WindowEntry>) => {
    const result = compileWindow({ ...base, ...over });
    return "problems" in result ? result.problems.map((p) => p.field) : [];
  };
  it("names the field", () => {
    expect(problems({})).toEqual([]);
    expect(problems({ time_zone: "Mars/Olympus" })).toEqual(["time_zone"]);
    expect(problems({ start: "2026-01-05 09:00+01:00" })).toEqual(["start"]);
    // The library ignores unknown parts; RFC 5545 §3.3.10 lists the valid ones.
    expect(problems({ rrule: "FREQ=DAILY;BYWEEKDAY=MO" })).toEqual(["rrule"]);
    expect(problems({ rrule: "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY" })).toEqual(["rrule"]);
    expect(problems({ rrule: "FREQ=FORTNIGHTLY" })).toEqual(["rrule"]);
    expect(problems({ duration: "90" })).toEqual(["duration"]);
  });
});
