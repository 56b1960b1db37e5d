import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../../../pipelines/src/core/promotion/diff.ts";

const opts = { fromFile: "a/x", toFile: "b/x" };

describe("unified diff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", opts)).toBe("");
  });

  it("shows one changed line with three lines of context, like diff -u", () => {
    const before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const after = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
    expect(unifiedDiff(before, after, opts)).toBe(
      "--- a/x\n+++ b/x\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n",
    );
  });

  it("splits distant changes into separate hunks", () => {
    const lines = Array.from({ length: 20 }, (_, i) => String(i + 1));
    const changed = [...lines];
    changed[1] = "two";
    changed[17] = "eighteen";
    const diff = unifiedDiff(`${lines.join("\n")}\n`, `${changed.join("\n")}\n`, opts);
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain("@@ -1,5 +1,5 @@");
    expect(diff).toContain("@@ -15,6 +15,6 @@");
  });

  it("counts an inserted line", () => {
    const diff = unifiedDiff("a\nb\n", "a\nnew\nb\n", opts);
    expect(diff).toContain("@@ -1,2 +1,3 @@\n a\n+new\n b");
  });
});
