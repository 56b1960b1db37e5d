/**
 * `tiers validate`'s admission drift check: the overlay's admission-policy.yaml against what
 * the tier's signing block generates, on the observability fixture's tier model (staging and
 * prod on kubernetes, keyless), never the shipped sample. Each problem names the file.
 */
import { describe, expect, it } from "vitest";
import { formatProblem } from "../../../../pipelines/src/core/environment/index.ts";
import { admissionFile, admissionFiles } from "../../../../pipelines/src/core/manifests/index.ts";
import {
  type AdmissionFacts,
  checkAdmissionFiles,
} from "../../../../pipelines/src/core/repository/admission.ts";
import { edit } from "../environment/fixtures.ts";
import { model } from "../observability/fixture-model.ts";

const overlayDir = (tier: string) => `k8s/overlays/${tier}`;
const listed = [
  { path: "../../base", line: 20 },
  { path: admissionFile, line: 21 },
];

/** Facts of a repository whose overlays hold exactly the generated files. */
function inSync(m = model()): AdmissionFacts & { admissionPolicies: Record<string, string> } {
  const admissionPolicies: Record<string, string> = {};
  for (const name of ["staging", "prod"]) {
    admissionPolicies[name] = admissionFiles(m.tiers[name]!)[admissionFile]!;
  }
  return { admissionPolicies, overlayResources: { staging: listed, prod: listed } };
}

const lines = (m: ReturnType<typeof model>, facts: AdmissionFacts) =>
  checkAdmissionFiles(m, facts, overlayDir).map(formatProblem);

describe("admission policy files against the tier config (tiers validate)", () => {
  it("generated files, listed in resources: no problem", () => {
    const m = model();
    expect(lines(m, inSync(m))).toEqual([]);
  });

  it("a hand edit is drift, located at the first differing line of the file", () => {
    const m = model();
    const facts = inSync(m);
    facts.admissionPolicies.prod = facts.admissionPolicies.prod!.replace(
      "tiers.tier: staging",
      "tiers.tier: test",
    );
    const line =
      facts.admissionPolicies.prod.split("\n").findIndex((l) => l.includes("tiers.tier")) + 1;
    expect(lines(m, facts)).toEqual([
      `k8s/overlays/prod/admission-policy.yaml:${line}:1: differs from what environments/prod.yaml (signing, promotion.from) generates, from line ${line}; run \`tiers admission generate\` [repository/admission-policy]`,
    ]);
  });

  it("a config change without regenerating is drift (the identity moved)", () => {
    const facts = inSync();
    const changed = model((files) => {
      files["prod.yaml"] = edit(
        files["prod.yaml"]!,
        "release.yml@refs/heads/main",
        "release.yml@refs/tags/v1",
      );
    });
    expect(lines(changed, facts).map((l) => l.split(":")[0])).toEqual([
      "k8s/overlays/prod/admission-policy.yaml",
    ]);
  });

  it("a missing file is named, for a tier that requires signatures", () => {
    const m = model();
    const facts = inSync(m);
    delete facts.admissionPolicies.staging;
    expect(lines(m, facts)).toEqual([
      "k8s/overlays/staging/admission-policy.yaml: staging requires signatures, so its overlay needs the admission policy that makes the cluster verify them; run `tiers admission generate` [repository/admission-policy]",
    ]);
  });

  it("a file the overlay does not list in resources: is named at the kustomization", () => {
    const m = model();
    const facts = { ...inSync(m), overlayResources: { staging: listed, prod: [listed[0]!] } };
    expect(lines(m, facts)).toEqual([
      'k8s/overlays/prod/kustomization.yaml:1:1: resources: does not list admission-policy.yaml, so kustomize leaves the admission policy out; add "- admission-policy.yaml" [repository/admission-policy]',
    ]);
  });

  it("a leftover file of a tier that no longer requires signatures is a problem", () => {
    const facts = inSync();
    const unsigned = model((files) => {
      files["staging.yaml"] = edit(
        files["staging.yaml"]!,
        "signing:\n  required: true\n  mode: keyless\n",
        "signing:\n  required: false\n  mode: keyless\n",
      );
    });
    expect(lines(unsigned, facts).map((l) => l.split(": ")[0])).toEqual([
      "k8s/overlays/staging/admission-policy.yaml:1:1",
    ]);
  });

  it("a key reference no verifier can read is a located problem, not a crash", () => {
    const m = model((files) => {
      files["staging.yaml"] = edit(
        files["staging.yaml"]!,
        "  mode: keyless\n  identity:\n    subject: https://github.com/tiers-dev/tiers/.github/workflows/release.yml@refs/heads/main\n    issuer: https://token.actions.githubusercontent.com\n",
        "  mode: key\n  key: aws-sm:tiers/cosign\n",
      );
    });
    const [problem] = lines(m, inSync(model()));
    expect(problem).toMatch(
      /^environments\/staging\.yaml: cannot generate the admission policy: unsupported cosign key reference "aws-sm:tiers\/cosign"/,
    );
  });
});
