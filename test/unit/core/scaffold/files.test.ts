/** Edits scaffolding makes to existing YAML: the value or entry only, every other byte kept. */
import { describe, expect, it } from "vitest";
import {
  appendEntry,
  entryLines,
  renameWord,
  setScalar,
} from "../../../../pipelines/src/core/scaffold/files.ts";

const text = `# header comment
promotion:
  from: alpha # why
  gates: [a, b]
services:
  one:
    port: 1 # first
  two:
    port: 2
list:
  - x
`;

describe("scaffold edits", () => {
  it("setScalar replaces one value, comments and flow lists untouched", () => {
    expect(setScalar(text, ["promotion", "from"], "beta")).toBe(
      text.replace("from: alpha", "from: beta"),
    );
  });

  it("appendEntry adds a last entry indented like its siblings, to a mapping or a list", () => {
    expect(appendEntry(text, ["services"], "three:\n  port: 3")).toBe(
      text.replace("    port: 2\n", "    port: 2\n  three:\n    port: 3\n"),
    );
    expect(appendEntry(text, ["list"], "- y")).toBe(`${text.trimEnd()}\n  - y\n`);
    expect(appendEntry(text, ["promotion", "gates"], "- c")).toBeUndefined();
  });

  it("entryLines copies one entry with its comments", () => {
    expect(entryLines(text, ["services"], "one")).toBe("  one:\n    port: 1 # first");
  });

  it("renameWord renames whole names only", () => {
    expect(renameWord("qa qaa k8s/overlays/qa x-qa", "qa", "uat")).toBe(
      "uat qaa k8s/overlays/uat x-qa",
    );
  });
});
