/**
 * The repository against the model, on in-test models and facts (never the shipped sample):
 * each rule fires on exactly the case it describes, and names the file or the missing path.
 */
import { describe, expect, it } from "vitest";
import type { EnvironmentModel } from "../../../../pipelines/src/core/environment/index.ts";
import {
  checkRepository,
  dockerfileStages,
  type RepositoryFacts,
} from "../../../../pipelines/src/core/repository/consistency.ts";

/** A model of two tiers, `alpha` (compose) → `omega` (kubernetes): only what the checks read. */
function model(): EnvironmentModel {
  const tier = (name: string, runtime: string, from: string | null) => ({
    tier: name,
    runtime,
    promotion: { from },
    registry: { host: "registry.example", namespace: "acme" },
    project: "acme",
    signing: { required: false, mode: "none" },
    services: {
      svc: {
        build: { dockerfile: "svc/Dockerfile", target: runtime === "compose" ? "dev" : "release" },
      },
      pulled: { image: "registry.example/other@sha256:abc" },
    },
    dependencies: {},
    approvals:
      runtime === "kubernetes"
        ? { required: 2, source: "ci-environment" }
        : { required: 0, source: "none" },
  });
  return {
    project: "acme",
    order: ["alpha", "omega"],
    tiers: { alpha: tier("alpha", "compose", null), omega: tier("omega", "kubernetes", "alpha") },
  } as unknown as EnvironmentModel;
}

function facts(overrides: Partial<RepositoryFacts> = {}): RepositoryFacts {
  return {
    files: new Set([
      "compose/compose.yaml",
      "compose/compose.alpha.yaml",
      "k8s/overlays/omega/kustomization.yaml",
      "svc/Dockerfile",
    ]),
    overlayDirs: ["omega"],
    tfvarsTiers: ["omega"],
    admissionPolicies: {},
    overlayResources: { omega: [{ path: "../../base", line: 5 }] },
    overlayPins: {
      omega: [{ index: 0, name: "acme/svc", newName: "registry.example/acme/svc", line: 7 }],
    },
    dockerfileStages: {
      "svc/Dockerfile": [
        { name: "dev", line: 1 },
        { name: "release", line: 5 },
      ],
    },
    ciFiles: ["ci.yml"],
    ciJobs: [
      { file: "ci.yml", line: 3, job: "promote-omega", tier: "omega", protectedEnvironment: true },
    ],
    ...overrides,
  };
}

const rulesOf = (problems: { rule: string }[]) => problems.map((p) => p.rule);

describe("checkRepository", () => {
  it("finds nothing when the repository holds what the model says", () => {
    expect(checkRepository(model(), facts())).toEqual([]);
  });

  it("names the missing overlay of a kubernetes tier by its path (line 0: no file to point into)", () => {
    const problems = checkRepository(
      model(),
      facts({
        overlayDirs: [],
        overlayPins: {},
        files: new Set(["compose/compose.yaml", "compose/compose.alpha.yaml", "svc/Dockerfile"]),
      }),
    );
    expect(problems).toMatchObject([
      {
        file: "k8s/overlays/omega/kustomization.yaml",
        line: 0,
        rule: "repository/overlay-missing",
        tier: "omega",
      },
    ]);
  });

  it("wants a pin for every service built here, not for pulled images", () => {
    const problems = checkRepository(model(), facts({ overlayPins: { omega: [] } }));
    expect(rulesOf(problems)).toEqual(["repository/overlay-pin"]);
    expect(problems[0]!.message).toContain("registry.example/acme/svc");
  });

  it("reports an orphan overlay, tfvars file and CI job of an undeclared tier", () => {
    const problems = checkRepository(
      model(),
      facts({
        overlayDirs: ["omega", "ghost"],
        tfvarsTiers: ["omega", "ghost"],
        ciJobs: [
          ...facts().ciJobs,
          {
            file: "ci.yml",
            line: 9,
            job: "promote-ghost",
            tier: "ghost",
            protectedEnvironment: true,
          },
        ],
      }),
    );
    expect(problems).toMatchObject([
      { file: "k8s/overlays/ghost/", rule: "repository/overlay-orphan" },
      { file: "terraform/live/ghost.tfvars", rule: "repository/tfvars-orphan" },
      { file: "ci.yml", line: 9, rule: "repository/ci-orphan" },
    ]);
  });

  it("wants compose files for compose tiers, tfvars for tiers with infrastructure, a protected CI job for approvals", () => {
    const problems = checkRepository(
      model(),
      facts({
        files: new Set(["k8s/overlays/omega/kustomization.yaml", "svc/Dockerfile"]),
        tfvarsTiers: [],
        ciJobs: [],
      }),
    );
    expect(rulesOf(problems)).toEqual([
      "repository/compose-missing",
      "repository/compose-missing",
      "repository/tfvars-missing",
      "repository/ci-approvals",
    ]);
  });

  it("wants every Dockerfile target a tier builds", () => {
    const problems = checkRepository(
      model(),
      facts({ dockerfileStages: { "svc/Dockerfile": [{ name: "dev", line: 1 }] } }),
    );
    expect(problems).toMatchObject([
      { file: "svc/Dockerfile", rule: "repository/dockerfile-target" },
    ]);
    expect(problems[0]!.message).toContain('no stage "release"');
  });
});

describe("dockerfileStages", () => {
  // https://docs.docker.com/reference/dockerfile/#from: FROM [--platform=<p>] <image> [AS <name>]
  it("reads named stages, with flags and any case", () => {
    expect(
      dockerfileStages("FROM a AS one\nfrom --platform=linux/amd64 b as two\nFROM c\n"),
    ).toEqual([
      { name: "one", line: 1 },
      { name: "two", line: 2 },
    ]);
  });
});
