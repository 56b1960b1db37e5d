/** Verification over time (issue 16), the pure half: schedule, minutes, last verified, verdicts. */
import { describe, expect, it } from "vitest";
import { readRecordText } from "../../../../pipelines/src/core/promotion/record-read.ts";
import {
  type HistoryRecord,
  renderRecord,
  type VerificationRecord,
  verificationPath,
  verificationSchema,
} from "../../../../pipelines/src/core/promotion/records.ts";
import {
  lastVerified,
  periodMinute,
  periodSchedule,
  verificationVerdict,
} from "../../../../pipelines/src/core/promotion/verification.ts";

const commit = "c".repeat(40);
function record(ended: string, digest = `sha256:${"a".repeat(64)}`): VerificationRecord {
  return {
    kind: "verification",
    tier: "upper",
    commit,
    pins: [{ service: "svc", image: "svc", digest }],
    period: { for: "10m", every: "30s" },
    started_at: new Date(Date.parse(ended) - 600_000).toISOString(),
    ended_at: ended,
    checks_run: 20,
    checks: ["svc liveness GET /healthz via upper-svc"],
    recorded_by: "someone",
  };
}
const read = (r: VerificationRecord, file: string) =>
  readRecordText(verificationSchema, renderRecord(r, "test"), file);

describe("the period's schedule", () => {
  it("runs every `every` up to and including `for`, and counts minutes from 1", () => {
    expect(periodSchedule({ for: "2m", every: "30s" })).toEqual([30_000, 60_000, 90_000, 120_000]);
    expect(periodSchedule({ for: "10m", every: "3m" })).toEqual([180_000, 360_000, 540_000]);
    // Outside the schema's bounds (a model built around it) it refuses rather than run none.
    expect(() => periodSchedule({ for: "1m", every: "2m" })).toThrow(/not a bounded period/);
    expect(() => periodSchedule({ for: "1w", every: "1s" })).toThrow(/not a bounded period/);
    expect(periodMinute(0, 0)).toBe(1);
    expect(periodMinute(0, 119_999)).toBe(2);
    expect(periodMinute(0, 120_000)).toBe(3);
  });

  it("names its records by end time and deployed commit", () => {
    expect(verificationPath("upper", new Date("2026-03-02T10:10:00.000Z"), commit)).toBe(
      `releases/verifications/upper/20260302T101000Z-${"c".repeat(12)}.yaml`,
    );
  });
});

describe("the last verified release", () => {
  it("is the newest record by ended_at; none is absent", () => {
    const older = read(record("2026-03-01T10:00:00.000Z"), "a.yaml");
    const newer = read(record("2026-03-02T10:00:00.000Z", `sha256:${"b".repeat(64)}`), "b.yaml");
    expect(lastVerified([newer, older])).toMatchObject({ state: "present", file: "b.yaml" });
    expect(lastVerified([])).toEqual({ state: "absent" });
  });

  it("fails closed: one unreadable record makes it unknown, naming the file", () => {
    const good = read(record("2026-03-02T10:00:00.000Z"), "good.yaml");
    const bad = readRecordText(
      verificationSchema,
      renderRecord({ ...record("2026-03-01T10:00:00.000Z"), checks_run: "many" }, "t"),
      "bad.yaml",
    );
    const last = lastVerified([good, bad]);
    expect(last).toMatchObject({ state: "invalid", file: "bad.yaml" });
    expect(
      verificationVerdict({ verify: undefined, last, history: [], now: () => new Date() }),
    ).toEqual({
      ok: false,
      why: expect.stringMatching(
        /^the last verified release cannot be told: bad\.yaml: .*checks_run/,
      ),
    });
  });
});

describe("the verdict plan and status print", () => {
  const verify = { for: "10m", every: "30s" };
  const last = lastVerified([read(record("2026-03-02T10:10:00.000Z"), "v.yaml")]);
  const history = (at: string, extra: Partial<HistoryRecord> = {}) => [
    {
      file: "h.yaml",
      record: {
        kind: "promotion",
        tier: "upper",
        at,
        by: "x",
        commit: null,
        pins: [],
        gates: [],
        reason: null,
        restored_from: null,
        ...extra,
      } as HistoryRecord,
    },
  ];

  it("says the last verified release, a running period with its time left, and a failed one", () => {
    expect(verificationVerdict({ verify, last, history: [], now: () => new Date() }).why).toBe(
      "last verified svc sha256:aaaaaaaaaaaa at 2026-03-02T10:10:00.000Z (v.yaml)",
    );
    const running = verificationVerdict({
      verify,
      last,
      history: history("2026-03-02T11:00:00.000Z"),
      now: () => new Date("2026-03-02T11:03:00.000Z"),
    });
    expect(running).toMatchObject({ ok: true });
    expect(running.why).toMatch(
      /^verification period running \(10m every 30s\): 7m left for the pins of the promotion at 2026-03-02T11:00:00.000Z; last verified svc/,
    );
    const failed = verificationVerdict({
      verify,
      last,
      history: history("2026-03-02T11:02:20.000Z", {
        kind: "rollback",
        failed_check: {
          check: "svc liveness GET /healthz via upper-svc: unavailable",
          at: "2026-03-02T11:02:20.000Z",
          minute: 3,
          period: "10m every 30s",
        },
      }),
      now: () => new Date("2026-03-02T12:00:00.000Z"),
    });
    expect(failed.why).toMatch(
      /^verification period failed in minute 3 of 10m every 30s: svc liveness GET \/healthz via upper-svc: unavailable; rolled back \(h\.yaml\); last verified svc/,
    );
    const never = verificationVerdict({
      verify,
      last: { state: "absent" },
      history: history("2026-03-02T11:00:00.000Z"),
      now: () => new Date("2026-03-02T12:00:00.000Z"),
    });
    expect(never.why).toBe(
      "the pins of the promotion at 2026-03-02T11:00:00.000Z were never verified (deployed without a period, or not deployed); no verified release on record yet",
    );
  });

  it("reads the clock only for a period that may still run (a remembered status relies on it)", () => {
    const noClock = () => {
      throw new Error("the clock was read");
    };
    const failedHistory = history("2026-03-02T11:02:20.000Z", {
      kind: "rollback",
      failed_check: {
        check: "c",
        at: "2026-03-02T11:02:20.000Z",
        minute: 3,
        period: "10m every 30s",
      },
    });
    expect(() => verificationVerdict({ verify, last, history: [], now: noClock })).not.toThrow();
    expect(() =>
      verificationVerdict({ verify: undefined, last, history: [], now: noClock }),
    ).not.toThrow();
    expect(() =>
      verificationVerdict({ verify, last, history: failedHistory, now: noClock }),
    ).not.toThrow();
    expect(() =>
      verificationVerdict({
        verify,
        last,
        history: history("2026-03-02T11:00:00.000Z"),
        now: noClock,
      }),
    ).toThrow(/clock/);
  });
});
