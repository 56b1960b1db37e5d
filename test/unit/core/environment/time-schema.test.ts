/** Soak, overrides and windows in tier files: accepted, merged, and refused with a location. */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import { edit, locate } from "./fixtures.ts";

// The four-tier fixture chain (test/fixtures/environments/chain), not the shipped sample.
const fixtureDir = resolve(import.meta.dirname, "../../../fixtures/environments/chain");
function files(): Record<string, string> {
  return Object.fromEntries(
    readdirSync(fixtureDir)
      .filter((n) => n.endsWith(".yaml"))
      .map((n) => [n, readFileSync(join(fixtureDir, n), "utf8")]),
  );
}
const validate = (f: Record<string, string>) =>
  validateSources(Object.entries(f).map(([n, text]) => ({ file: `environments/${n}`, text })));

const windows = `
windows:
  - kind: allow
    rrule: FREQ=WEEKLY;BYDAY=MO,TU,WE,TH
    start: "2026-01-05T09:00"
    duration: 8h
    time_zone: Europe/Berlin
    reason: office hours, Monday to Thursday
  - kind: deny
    rrule: FREQ=DAILY;COUNT=1
    start: "2026-12-21T00:00"
    duration: 2w
    time_zone: Europe/Berlin
    reason: year-end freeze
`;

function withTime(soak: string, zone = "Europe/Berlin"): Record<string, string> {
  const f = files();
  f["prod.yaml"] = edit(
    f["prod.yaml"]!,
    "promotion:\n",
    `promotion:\n  criteria:\n    soak: ${soak}\n  overrides: [soak, window]\n`,
  );
  f["prod.yaml"] += windows.replaceAll("Europe/Berlin", zone);
  return f;
}

describe("time settings of a tier", () => {
  it("a soak, overrides and windows validate and reach the model", () => {
    const result = validate(withTime("1h"));
    expect(result.problems).toEqual([]);
    const prod = result.model!.tiers.prod!;
    expect(prod.promotion.criteria).toEqual({ soak: "1h" });
    expect(prod.promotion.overrides).toEqual(["soak", "window"]);
    expect(prod.windows?.map((w) => w.kind)).toEqual(["allow", "deny"]);
    // Tiers that say nothing have no time gates.
    expect(result.model!.tiers.staging!.windows).toBeUndefined();
  });

  it("a soak that is not a span is refused where it is written", () => {
    const f = withTime("1.5h");
    const at = locate(f["prod.yaml"]!, "soak: 1.5h", "1.5h");
    const found = validate(f).problems.filter((p) => p.path === "promotion.criteria.soak");
    expect(found).toEqual([
      expect.objectContaining({ file: "environments/prod.yaml", ...at, tier: "prod" }),
    ]);
    expect(found[0]!.message).toMatch(/"30m", "2h", "1d"/);
  });

  it("a window in an unknown time zone is refused at its time_zone", () => {
    const f = withTime("1h", "Europe/Atlantis");
    const at = locate(f["prod.yaml"]!, "time_zone: Europe/Atlantis", "Europe/Atlantis");
    const found = validate(f).problems.filter((p) => /time_zone/.test(p.path));
    expect(found[0]).toMatchObject({ file: "environments/prod.yaml", ...at });
    expect(found[0]!.message).toMatch(/not an IANA time zone/);
  });

  it("an override of a gate that has none is refused", () => {
    const f = files();
    f["prod.yaml"] = edit(
      f["prod.yaml"]!,
      "promotion:\n",
      "promotion:\n  overrides: [approvals]\n",
    );
    const found = validate(f).problems.filter((p) => p.path.startsWith("promotion.overrides"));
    expect(found.length).toBe(1);
  });
});

describe("deploy.verify of a tier", () => {
  function withVerify(body: string): Record<string, string> {
    const f = files();
    f["staging.yaml"] = edit(f["staging.yaml"]!, "deploy:\n", `deploy:\n  verify: ${body}\n`);
    return f;
  }

  it("a period of spans validates and reaches the model, merged with the deploy block", () => {
    const result = validate(withVerify("{ for: 10m, every: 30s }"));
    expect(result.problems).toEqual([]);
    const staging = result.model!.tiers.staging!;
    expect(staging.deploy.verify).toEqual({ for: "10m", every: "30s" });
    expect(staging.deploy.strategy).toBe("rolling");
    expect(result.model!.tiers.prod!.deploy.verify).toBeUndefined();
  });

  it("a duration that is not a span is refused at its field", () => {
    const f = withVerify("{ for: 10 minutes, every: 30s }");
    const found = validate(f).problems.filter((p) => p.path === "deploy.verify.for");
    expect(found).toEqual([
      expect.objectContaining({
        file: "environments/staging.yaml",
        ...locate(f["staging.yaml"]!, "for: 10 minutes", "10 minutes"),
      }),
    ]);
  });

  it("every longer than for, an unbounded period and too many checks are refused", () => {
    const problems = (body: string) =>
      validate(withVerify(body))
        .problems.filter((p) => p.path.startsWith("deploy.verify"))
        .map((p) => p.message);
    expect(problems("{ for: 1m, every: 2m }")).toEqual([
      expect.stringMatching(/deploy\.verify\.every: every \(2m\) is longer than for \(1m\)/),
    ]);
    expect(problems("{ for: 2d, every: 1h }")).toEqual([
      expect.stringMatching(/deploy\.verify\.for: a verification period of 2d is longer than 1d/),
    ]);
    expect(problems("{ for: 1d, every: 30s }")).toEqual([
      expect.stringMatching(/deploy\.verify\.every: every 30s for 1d runs more than 1000 checks/),
    ]);
    expect(problems("{ for: 10m }")).toEqual([
      expect.stringMatching(/missing required key "every" in deploy\.verify/),
    ]);
  });
});
