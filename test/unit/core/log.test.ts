import { describe, expect, it } from "vitest";
import {
  formatDuration,
  memorySink,
  Reporter,
  shouldColour,
} from "../../../pipelines/src/core/log.ts";

describe("Reporter", () => {
  it("starts every line about a tier with that tier's marker", () => {
    const sink = memorySink();
    const reporter = new Reporter({ sink });
    reporter.info("dev", "up");
    reporter.info("test", "run");
    reporter.info("staging", "plan");
    reporter.info("prod", "promote");
    expect(sink.lines).toEqual(["🜂 up", "🜁 run", "🜃 plan", "🜄 promote"]);
  });

  it("uses a marker declared in configuration over the default", () => {
    const sink = memorySink();
    new Reporter({ sink }).info("qa", "hello", "Q");
    expect(sink.lines).toEqual(["Q hello"]);
  });

  it("prints a step's start and its end with duration and outcome", async () => {
    const sink = memorySink();
    let clock = 0;
    const reporter = new Reporter({ sink, now: () => clock });
    const value = await reporter.step("test", "build api", async () => {
      clock = 1500;
      return 42;
    });
    expect(value).toBe(42);
    expect(sink.lines).toEqual(["🜁 → build api", "🜁 ✓ build api (1.5s)"]);
  });

  it("reports which step failed and rethrows its error", async () => {
    const sink = memorySink();
    let clock = 0;
    const reporter = new Reporter({ sink, now: () => clock });
    await expect(
      reporter.step("prod", "apply", async () => {
        clock = 250;
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(sink.errors).toEqual(["🜄 ✗ apply failed after 250ms"]);
  });

  it("colours only when asked, and never inside the marker", () => {
    const sink = memorySink();
    new Reporter({ sink, color: true }).error("prod", "denied");
    expect(sink.errors[0]).toBe("🜄 \u001b[31mdenied\u001b[0m");
  });
});

describe("shouldColour", () => {
  it("is off when not a TTY", () => expect(shouldColour({ isTTY: false }, {})).toBe(false));
  it("is on for a TTY", () => expect(shouldColour({ isTTY: true }, {})).toBe(true));
  it("respects NO_COLOR", () =>
    expect(shouldColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false));
  it("respects --no-color", () => expect(shouldColour({ isTTY: true }, {}, false)).toBe(false));
});

describe("formatDuration", () => {
  it.each([
    [12, "12ms"],
    [1234, "1.2s"],
    [61_000, "1m01s"],
  ])("%d ms reads as %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});
