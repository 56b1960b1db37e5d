import { describe, expect, it } from "vitest";
import { formatSpan, spanMs } from "../../../../pipelines/src/core/time/span.ts";

describe("spans of elapsed time", () => {
  it("reads whole numbers of s, m, h, d, w", () => {
    expect(spanMs("45s")).toBe(45_000);
    expect(spanMs("30m")).toBe(1_800_000);
    expect(spanMs("2h")).toBe(7_200_000);
    expect(spanMs("1d")).toBe(86_400_000);
    expect(spanMs("1w")).toBe(604_800_000);
  });

  it("refuses what would be ambiguous: bare numbers, fractions, words, zero", () => {
    for (const text of ["30", "1.5h", "2 days", "0m", "1H", " 1h", "1h30m", ""]) {
      expect(spanMs(text), text).toBeUndefined();
    }
  });

  it("formats time left rounded up, so it never understates", () => {
    expect(formatSpan(0)).toBe("0s");
    expect(formatSpan(1)).toBe("1s");
    expect(formatSpan(59_000)).toBe("59s");
    expect(formatSpan(3_599_000)).toBe("1h");
    expect(formatSpan(3_540_000)).toBe("59m");
    expect(formatSpan(3_540_001)).toBe("1h");
    expect(formatSpan(90 * 60_000)).toBe("1h 30m");
    expect(formatSpan(2 * 86_400_000 + 20 * 3_600_000)).toBe("2d 20h");
  });
});
