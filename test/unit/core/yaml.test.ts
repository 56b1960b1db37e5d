import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { validateSources } from "../../../pipelines/src/core/environment/index.ts";
import { parseYaml, parseYamlDocuments } from "../../../pipelines/src/core/yaml.ts";

const fixtureDir = resolve(import.meta.dirname, "../../fixtures/environments/chain");
function fixtureSources(change: Record<string, string> = {}) {
  return readdirSync(fixtureDir)
    .filter((n) => n.endsWith(".yaml"))
    .map((name) => ({
      file: `environments/${name}`,
      text: change[name] ?? readFileSync(join(fixtureDir, name), "utf8"),
    }));
}

/** The "billion laughs" shape: `levels` anchors, each a list of `width` aliases of the one before. */
function aliasBomb(levels: number, width: number): string {
  const lines = ["l0: &l0 [lol]"];
  for (let i = 1; i <= levels; i++) {
    lines.push(`l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(", ")}]`);
  }
  return `${lines.join("\n")}\n`;
}

describe("YAML within limits (one parser for every YAML read)", () => {
  it("reads ordinary YAML, anchors and merge keys included", () => {
    expect(parseYaml("x.yaml", "a: &a {k: 1}\nb:\n  <<: *a\n  j: 2\n", { merge: true })).toEqual({
      a: { k: 1 },
      b: { k: 1, j: 2 },
    });
    expect(parseYaml("empty.yaml", "")).toBeNull();
  });

  it("refuses an alias bomb at the alias that overflows, file:line:col", () => {
    const parsed = parseYamlDocuments("bomb.yaml", aliasBomb(9, 9));
    expect(parsed.ok).toBe(false);
    const [problem] = parsed.ok ? [] : parsed.problems;
    expect(problem).toMatchObject({ kind: "alias-expansion", file: "bomb.yaml" });
    expect(problem!.line).toBeGreaterThan(1);
    expect(problem!.message).toMatch(/^alias \*l\d expands the document past 200000 nodes/);
    expect(() => parseYaml("bomb.yaml", aliasBomb(9, 9))).toThrow(
      expect.objectContaining({ where: expect.stringMatching(/^bomb\.yaml:\d+:\d+$/) }),
    );
  });

  it("refuses a file over the size limit before parsing it", () => {
    const parsed = parseYamlDocuments(
      "big.yaml",
      "a: 1234567890\n",
      {},
      { TIERS_LIMIT_YAML_BYTES: "8" },
    );
    expect(parsed.ok ? undefined : parsed.problems[0]).toMatchObject({
      kind: "too-large",
      file: "big.yaml",
      line: 1,
      column: 1,
    });
  });

  it("syntax errors are located", () => {
    const parsed = parseYamlDocuments("bad.yaml", "a: [1,\n");
    expect(parsed.ok ? undefined : parsed.problems[0]).toMatchObject({
      kind: "syntax",
      file: "bad.yaml",
    });
  });

  // The hang guard is the test timeout (no timed assertion): before the limit, nine by nine took
  // 39 s and 1.2 GB here, and one level more never finished.
  it("a tier file with an alias bomb fails validation with a located yaml/limit problem", () => {
    const base = readFileSync(join(fixtureDir, "test.yaml"), "utf8");
    const bomb = `${base}\nx-bomb:\n${aliasBomb(9, 9)
      .split("\n")
      .filter(Boolean)
      .map((l) => `  ${l}`)
      .join("\n")}\n`;
    const { problems, model } = validateSources(fixtureSources({ "test.yaml": bomb }));
    expect(model).toBeUndefined();
    expect(problems).toEqual([
      expect.objectContaining({ file: "environments/test.yaml", rule: "yaml/limit", tier: "test" }),
    ]);
  }, 5_000);
});
