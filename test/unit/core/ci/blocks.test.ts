/** Generated blocks in hand-written CI files: only the inside of a block is ever rewritten. */
import { describe, expect, it } from "vitest";
import { blockEnd, blockStart, spliceBlocks } from "../../../../pipelines/src/core/ci/blocks.ts";

const file = [
  "# hand-written header",
  "jobs:",
  blockStart("tier-jobs", "  "),
  "  old: {}",
  blockEnd("tier-jobs", "  "),
  "  hand: {} # stays",
  "",
].join("\n");

describe("spliceBlocks", () => {
  it("replaces the block's content and keeps every other line", () => {
    const result = spliceBlocks("ci.yml", file, { "tier-jobs": "  new: {}" });
    expect(result.problems).toEqual([]);
    expect(result.text).toBe(file.replace("  old: {}", "  new: {}"));
    expect(result.drift).toMatchObject([{ file: "ci.yml", line: 3, rule: "repository/ci-drift" }]);
  });

  it("reports no drift when the block already holds the generated text", () => {
    const result = spliceBlocks("ci.yml", file, { "tier-jobs": "  old: {}" });
    expect(result).toEqual({ text: file, drift: [], problems: [] });
  });

  it("changes nothing and says so when a marker is missing or unclosed", () => {
    const missing = spliceBlocks("ci.yml", file, { "tier-jobs": "x", other: "y" });
    expect(missing.text).toBe(file);
    expect(missing.problems.map((p) => p.message)).toEqual([
      expect.stringContaining("no generated block other"),
    ]);
    const unclosed = spliceBlocks("ci.yml", file.replace(blockEnd("tier-jobs", "  "), ""), {
      "tier-jobs": "x",
    });
    expect(unclosed.text).toBe(file.replace(blockEnd("tier-jobs", "  "), ""));
    expect(unclosed.problems[0]!.message).toContain("has no closing");
  });
});
