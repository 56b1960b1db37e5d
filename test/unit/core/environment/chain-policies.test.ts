import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { type Problem, validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import { edit, locate } from "./fixtures.ts";

// A four-tier chain made for these tests (test/fixtures/environments/chain), not the shipped one.
const fixtureDir = resolve(import.meta.dirname, "../../../fixtures/environments/chain");
function files(): Record<string, string> {
  return Object.fromEntries(
    readdirSync(fixtureDir)
      .filter((n) => n.endsWith(".yaml"))
      .map((n) => [n, readFileSync(join(fixtureDir, n), "utf8")]),
  );
}
function problemsOf(fixture: Record<string, string>): Problem[] {
  return validateSources(
    Object.entries(fixture).map(([n, text]) => ({ file: `environments/${n}`, text })),
  ).problems;
}

describe("protections never weaken up the chain", () => {
  it("the fixture chain passes", () => {
    expect(problemsOf(files())).toEqual([]);
  });

  it("a tier after a signing tier must require signatures, and the last tier must too", () => {
    const f = files();
    f["prod.yaml"] = edit(
      f["prod.yaml"]!,
      "  required: true # promotion verifies",
      "  required: false # promotion verifies",
    );
    f["prod.yaml"] = edit(f["prod.yaml"]!, "  mode: keyless # Sigstore", "  mode: none # Sigstore");
    const at = locate(f["prod.yaml"]!, "required: false # promotion", "false");
    const found = problemsOf(f).filter((p) => p.file === "environments/prod.yaml");
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ...at,
          rule: "policy/signing-never-weakens",
          path: "signing.required",
          tier: "prod",
        }),
        expect.objectContaining({
          ...at,
          rule: "policy/last-tier-protected",
          path: "signing.required",
        }),
      ]),
    );
  });

  it("no tier requires fewer approvals than the one it promotes from, and the last needs one", () => {
    const f = files();
    f["prod.yaml"] = edit(f["prod.yaml"]!, "  required: 2 # two", "  required: 0 # two");
    f["prod.yaml"] = edit(f["prod.yaml"]!, "  source: ci-environment", "  source: none");
    const at = locate(f["prod.yaml"]!, "required: 0 # two", "0");
    const found = problemsOf(f);
    expect(found).toHaveLength(2);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ...at,
          rule: "policy/approvals-never-weaken",
          message: expect.stringContaining(
            "prod requires 0 approval(s) but staging, which it promotes from, requires 1",
          ),
        }),
        expect.objectContaining({
          ...at,
          rule: "policy/last-tier-protected",
          path: "approvals.required",
        }),
      ]),
    );
  });

  it("a Kubernetes tier must check no-dev-image and not-rejected", () => {
    const f = files();
    f["staging.yaml"] = edit(
      f["staging.yaml"]!,
      "gates: [passage, signature, not-rejected, no-dev-image, approvals]",
      "gates: [passage, signature, approvals]",
    );
    expect(problemsOf(f)).toEqual([
      expect.objectContaining({
        file: "environments/staging.yaml",
        ...locate(f["staging.yaml"]!, "gates: [passage, signature, approvals]", "["),
        rule: "policy/kubernetes-gates",
        path: "promotion.gates",
        message: expect.stringContaining("must check no-dev-image and not-rejected"),
      }),
    ]);
  });
});
