import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tiers } from "../../../../support/cli.ts";
import { validatableFixtureCopy } from "../../../../support/fixture-repo.ts";

const temps: string[] = [];

/**
 * A temporary copy of the fixture repository (test/support/fixture-repo.ts) with `edits`
 * applied to its tier files.
 */
function repository(edits: Record<string, (text: string) => string> = {}): string {
  const dir = validatableFixtureCopy("tiers-validate-");
  temps.push(dir);
  for (const [file, change] of Object.entries(edits)) {
    const path = join(dir, "environments", file);
    writeFileSync(path, change(readFileSync(path, "utf8")));
  }
  return dir;
}

/** 1-based line of the first line containing one of the `|`-separated needles. */
function lineNumberOf(dir: string, file: string, needle: string): number {
  const lines = readFileSync(join(dir, "environments", file), "utf8").split("\n");
  const index = lines.findIndex((l) => needle.split("|").some((n) => l.includes(n)));
  if (index < 0) throw new Error(`${needle} not in ${file}`);
  return index + 1;
}

// main() reports failure through process.exitCode; keep one test's code out of the next.
beforeEach(() => {
  process.exitCode = undefined;
});
afterEach(() => {
  process.exitCode = undefined;
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const problemLine = /^(environments\/[a-z]+\.yaml):(\d+):(\d+): (.+) \[([a-z]+\/[a-z-]+)\]$/;

describe("tiers validate", () => {
  it("exits 0 on the fixture repository and summarises each tier behind its marker", async () => {
    const { code, stdout } = await tiers("--root", repository(), "validate");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["🜂", "🜁", "🜃", "🜄", "▸"]);
    expect(lines[0]).toMatch(/^🜂 dev +compose +recreate .*features hot_reload, debug_ports/);
    expect(lines[3]).toMatch(/^🜄 prod +kubernetes +blue-green +2 approvals \(ci-environment\)/);
    expect(lines[4]).toMatch(
      /^▸ valid: project tiers, 4 tiers, promotion dev → test → staging → prod \(/,
    );
  });

  // Every environment file, each broken three ways; the line is found in the edited file.
  const breakages: Array<[string, (t: string) => string, string, string]> = [
    // [what, edit, text on the line to point at, rule]
    ["a YAML syntax error", (t) => `${t.trimEnd()}\nbad: a: b\n`, "bad: a: b", "yaml/syntax"],
    [
      "an unknown key",
      (t) => `${t.trimEnd()}\nretension: {}\n`,
      "retension: {}",
      "schema/unknown-key",
    ],
    [
      "a wrong type",
      // base.yaml's log retention is overridden by every tier (only the merged result counts),
      // so base gets its wrong type where no tier overrides it: the PostgreSQL port.
      (t) =>
        t
          .replace(/(logs: \{ [^}]*retention_days: )\d+/, "$1a week")
          .replace("port: 5432", 'port: "5432"'),
      'a week|"5432"',
      "schema/type",
    ],
  ];
  for (const file of ["base.yaml", "dev.yaml", "test.yaml", "staging.yaml", "prod.yaml"]) {
    for (const [what, change, needle, rule] of breakages) {
      it(`exits 1 on ${what} in ${file}, naming the file and the line`, async () => {
        const dir = repository({ [file]: change });
        const { code, stdout, stderr } = await tiers("--root", dir, "validate");
        expect(code).toBe(1);
        const problems = stdout.split("\n").filter((l) => problemLine.test(l));
        expect(problems).toHaveLength(1);
        const [, where, line, , , ruleId] = problemLine.exec(problems[0]!)!;
        expect(where).toBe(`environments/${file}`);
        expect(Number(line)).toBe(lineNumberOf(dir, file, needle));
        expect(ruleId).toBe(rule);
        expect(stderr).toMatch(/1 problem in .*environments\/; fix them/);
      });
    }
  }

  it.each([
    [
      "an alert threshold that can never fire",
      "prod.yaml",
      (t: string) => t.replace("error_rate: { threshold: 0.01,", "error_rate: { threshold: 1.5,"),
      "threshold: 1.5",
      "policy/alert-threshold",
      /alerting\.rules\.error_rate\.threshold is 1\.5/,
    ],
    [
      "an unknown flag",
      "dev.yaml",
      (t: string) =>
        t.replace(
          "  verbose_errors: { value: true }",
          "  verbose_errors: { value: true }\n  verbose_erors: { value: true }",
        ),
      "verbose_erors:",
      "policy/unknown-flag",
      /unknown flag "verbose_erors".*declared: pause_enqueue, verbose_errors/,
    ],
  ])(
    "exits 1 on %s in %s, at its file:line",
    async (_what, file, change, needle, rule, message) => {
      const dir = repository({ [file]: change });
      const { code, stdout } = await tiers("--root", dir, "validate");
      expect(code).toBe(1);
      const problems = stdout.split("\n").filter((l) => problemLine.test(l));
      expect(problems, stdout).toHaveLength(1);
      const [, where, line, , said, ruleId] = problemLine.exec(problems[0]!)!;
      expect(where).toBe(`environments/${file}`);
      expect(Number(line)).toBe(lineNumberOf(dir, file, needle));
      expect(ruleId).toBe(rule);
      expect(said).toMatch(message);
    },
  );

  it("prints the problem lines first, then a summary line per tier starting with its marker", async () => {
    const dir = repository({
      "prod.yaml": (t) =>
        t.replace("mtls: true", "mtls: false").replace("persistence: true", "persistence: false"),
    });
    const { code, stdout, stderr } = await tiers("--root", dir, "validate");
    expect(code).toBe(1);
    const mtls = lineNumberOf(dir, "prod.yaml", "mtls: false");
    const persistence = lineNumberOf(dir, "prod.yaml", "persistence: false");
    expect(stdout).toBe(
      [
        `environments/prod.yaml:${mtls}:9: prod requires mtls: traffic between services must be mutually authenticated; set features.mtls: true [policy/prod-mtls]`,
        `environments/prod.yaml:${persistence}:16: prod requires persistence: its data must survive a restart; set features.persistence: true [policy/prod-persistence]`,
        "",
        "",
      ].join("\n"),
    );
    expect(stderr.split("\n")[0]).toBe("🜄 prod: 2 problems");
  });

  it("--json prints the problems as an array of {file, line, column, path, message, rule}", async () => {
    const dir = repository({
      "test.yaml": (t) => t.replace("  fixtures: true", "  fixture: true"),
    });
    const { code, stdout } = await tiers("--root", dir, "validate", "--json");
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual([
      {
        file: "environments/test.yaml",
        line: lineNumberOf(dir, "test.yaml", "fixture: true"),
        column: 3,
        path: "features.fixture",
        message: 'unknown key "fixture" in features (did you mean "fixtures"?)',
        rule: "schema/unknown-key",
        tier: "test",
      },
    ]);
  });

  it("--json prints [] and exits 0 when valid", async () => {
    const { code, stdout } = await tiers("--root", repository(), "validate", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it("exits 2 on a usage error", async () => {
    expect((await tiers("--root", repository(), "validate", "--jsn")).code).toBe(2);
    const missing = await tiers("--root", join(tmpdir(), "tiers-no-such-dir"), "validate");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("does not exist");
  });

  it("--print-schema prints the editors' JSON Schema and validates nothing", async () => {
    const dir = repository({ "prod.yaml": () => "not: [valid" });
    const { code, stdout } = await tiers("--root", dir, "validate", "--print-schema");
    expect(code).toBe(0);
    const schema = JSON.parse(stdout);
    expect(schema.properties.features.properties.hot_reload).toEqual({ type: "boolean" });
  });

  it("--help shows examples", async () => {
    const { code, stdout } = await tiers("validate", "--help");
    expect(code).toBe(0);
    expect(stdout).toContain("Examples:");
    expect(stdout).toContain("tiers validate --json");
  });
});
