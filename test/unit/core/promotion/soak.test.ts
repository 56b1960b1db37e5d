/** The soak decision with fixed clocks: replaying history records, at and around the boundary. */
import { describe, expect, it } from "vitest";
import type { HistoryRecord } from "../../../../pipelines/src/core/promotion/records.ts";
import { pinnedSince, soakVerdict } from "../../../../pipelines/src/core/promotion/soak.ts";

const d1 = `sha256:${"1".repeat(64)}`;
const d2 = `sha256:${"2".repeat(64)}`;

function record(
  kind: "promotion" | "rollback",
  at: string,
  pins: Array<[string, string | null, string]>,
): { file: string; record: HistoryRecord } {
  return {
    file: `releases/history/stage/${at.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${kind}.yaml`,
    record: {
      kind,
      tier: "stage",
      at,
      by: "someone",
      commit: null,
      pins: pins.map(([service, from, to]) => ({ service, image: service, from, to })),
      gates: [],
      reason: null,
      restored_from: null,
    },
  };
}

const hour = 3_600_000;

describe("pinnedSince: the clock starts at the record that pinned the digest", () => {
  it("measures from the promotion that pinned it, whatever order the files are given in", () => {
    const history = [
      record("promotion", "2026-03-02T10:00:00.000Z", [["svc", d1, d2]]),
      record("promotion", "2026-03-01T10:00:00.000Z", [["svc", null, d1]]),
    ];
    expect(pinnedSince(history, "svc", d2)).toMatchObject({
      pinned: true,
      since: new Date("2026-03-02T10:00:00.000Z"),
    });
    expect(pinnedSince(history, "svc", d1)).toMatchObject({ pinned: false });
  });

  it("an interruption (another digest, then back) restarts the clock at the way back", () => {
    const history = [
      record("promotion", "2026-03-01T10:00:00.000Z", [["svc", null, d1]]),
      record("promotion", "2026-03-01T11:00:00.000Z", [["svc", d1, d2]]),
      record("rollback", "2026-03-01T12:00:00.000Z", [["svc", d2, d1]]),
    ];
    expect(pinnedSince(history, "svc", d1)).toMatchObject({
      pinned: true,
      since: new Date("2026-03-01T12:00:00.000Z"),
    });
  });

  it("another service moving does not interrupt this one", () => {
    const history = [
      record("promotion", "2026-03-01T10:00:00.000Z", [["svc", null, d1]]),
      record("promotion", "2026-03-01T11:00:00.000Z", [
        ["other", null, d2],
        ["svc", d1, d1],
      ]),
    ];
    expect(pinnedSince(history, "svc", d1)).toMatchObject({
      since: new Date("2026-03-01T10:00:00.000Z"),
    });
  });

  it("no record: not pinned, and says so", () => {
    expect(pinnedSince([], "svc", d1)).toEqual({
      pinned: false,
      why: "no promotion record pins svc to it",
    });
  });
});

describe("soakVerdict: at and around the boundary", () => {
  const since = new Date("2026-03-01T10:00:00.000Z");
  const verdictAt = (ms: number) =>
    soakVerdict({
      fromTier: "stage",
      required: "1h",
      requiredMs: hour,
      since: { ok: true, value: { pinned: true, since, record: "releases/history/stage/x.yaml" } },
      now: new Date(since.getTime() + ms),
    });

  it("refuses one millisecond before, with the time left; passes at the boundary", () => {
    expect(verdictAt(hour - 1)).toMatchObject({ ok: false, remainingMs: 1 });
    expect(verdictAt(hour - 1).why).toMatch(/^soaking: 1s left of 1h; pinned in stage since/);
    expect(verdictAt(hour - 20 * 60_000).why).toMatch(/^soaking: 20m left of 1h/);
    expect(verdictAt(hour)).toMatchObject({ ok: true, remainingMs: 0 });
    expect(verdictAt(hour + 1).ok).toBe(true);
  });

  it("fails closed when the records could not be read or the digest is not pinned", () => {
    const unread = soakVerdict({
      fromTier: "stage",
      required: "1h",
      requiredMs: hour,
      since: { ok: false, why: "record is malformed: at: expected string" },
      now: since,
    });
    expect(unread).toMatchObject({ ok: false, remainingMs: hour });
    expect(unread.why).toMatch(/cannot be measured: record is malformed/);
    const elsewhere = soakVerdict({
      fromTier: "stage",
      required: "1h",
      requiredMs: hour,
      since: { ok: true, value: { pinned: false, why: "svc is pinned to sha256:2222" } },
      now: since,
    });
    expect(elsewhere.ok).toBe(false);
    expect(elsewhere.why).toMatch(/not started: svc is pinned to/);
  });
});
