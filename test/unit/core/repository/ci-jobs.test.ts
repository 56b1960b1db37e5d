/**
 * Reading the per-tier jobs of CI templates: in-test texts, never the shipped workflows. A file
 * that cannot be read is a located problem, so its jobs are never taken as matching the chain.
 */
import { describe, expect, it } from "vitest";
import type { EnvironmentModel } from "../../../../pipelines/src/core/environment/index.ts";
import { ciJobsOf } from "../../../../pipelines/src/core/repository/ci-jobs.ts";
import { checkRepository } from "../../../../pipelines/src/core/repository/consistency.ts";

describe("CI jobs of a template", () => {
  it("finds the tier of a job from its protected environment and its --env flags", () => {
    const { jobs, problems } = ciJobsOf(
      "ci.yml",
      "jobs:\n  ship:\n    environment: omega\n    steps:\n      - run: dagger call promote --env omega\n",
    );
    expect(problems).toEqual([]);
    expect(jobs).toEqual([
      { file: "ci.yml", line: 2, job: "ship", tier: "omega", protectedEnvironment: true },
    ]);
  });

  it("reports a file that is not YAML at its line, with no jobs", () => {
    const { jobs, problems } = ciJobsOf("ci.yml", "jobs:\n  ship: [unclosed\n");
    expect(jobs).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: "ci.yml", rule: "yaml/syntax" });
    expect(problems[0]!.message).toMatch(/^cannot read the CI jobs: /);
  });

  it("refuses an alias bomb with the same limit as every YAML read (core/yaml.ts)", () => {
    const rows = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++)
      rows.push(
        `${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(9)
          .fill(`*${"abcdefghij"[i - 1]}`)
          .join(", ")}]`,
      );
    const { jobs, problems } = ciJobsOf("ci.yml", `${rows.join("\n")}\n`);
    expect(jobs).toEqual([]);
    expect(problems[0]).toMatchObject({ file: "ci.yml", rule: "yaml/limit" });
  });

  it("does not count an unreadable file as missing its approval job twice: the read problem says it", () => {
    const model = {
      project: "acme",
      order: ["omega"],
      tiers: {
        omega: {
          tier: "omega",
          runtime: "kubernetes",
          promotion: { from: null },
          services: {},
          approvals: { required: 1, source: "ci-environment" },
        },
      },
    } as unknown as EnvironmentModel;
    const read = ciJobsOf("ci.yml", "jobs: [unclosed\n");
    const problems = checkRepository(model, {
      files: new Set(["ci.yml"]),
      overlayDirs: ["omega"],
      tfvarsTiers: [],
      overlayPins: { omega: [] },
      dockerfileStages: {},
      admissionPolicies: {},
      overlayResources: { omega: [] },
      ciFiles: ["ci.yml"],
      ciJobs: read.jobs,
      ciProblems: read.problems,
    }).filter((p) => p.file === "ci.yml");
    expect(problems.map((p) => p.rule)).toEqual(["yaml/syntax"]);
  });
});
