/** The CI tier jobs from a chain other than the sample's (in-test model, never the sample). */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { daggerCall, generatedBlocks } from "../../../../pipelines/src/core/ci/tier-jobs.ts";
import type { EnvironmentModel, Tier } from "../../../../pipelines/src/core/environment/index.ts";

const tier = (name: string, runtime: string, required: number) =>
  ({
    tier: name,
    marker: "◆",
    runtime,
    node_env: runtime === "kubernetes" ? "production" : "development",
    deploy: { strategy: "rolling" },
    approvals: { required, source: required > 0 ? "ci-environment" : "none" },
  }) as unknown as Tier;

const model = {
  project: "acme",
  order: ["laptop", "shared", "live"],
  tiers: {
    laptop: tier("laptop", "compose", 0),
    shared: tier("shared", "kubernetes", 0),
    live: tier("live", "kubernetes", 3),
  },
} as unknown as EnvironmentModel;

describe("generatedBlocks", () => {
  it("promotes the tier after the start on push and every later tier on demand, in its protected environment", () => {
    const github = generatedBlocks(model, "github");
    expect(parse(github["dispatch-tiers"]!)).toEqual(["live"]);
    expect(github["publish-job"]).toContain("promote --env shared --commit");
    expect(github["publish-job"]).toContain("--deploy"); // shared runs on Kubernetes
    const jobs = parse(`jobs:\n${github["promotion-jobs"]}`) as {
      jobs: Record<string, { environment: string }>;
    };
    expect(Object.keys(jobs.jobs)).toEqual(["promote-live"]);
    expect(jobs.jobs["promote-live"]!.environment).toBe("live");
    expect(github["promotion-jobs"]).toContain(
      '3 required reviewer(s) of the protected environment "live"',
    );

    const gitlab = generatedBlocks(model, "gitlab");
    expect(parse(gitlab.stages!)).toEqual(["promote-shared", "live"]);
    const gitlabJobs = parse(gitlab["promote-jobs"]!) as Record<
      string,
      { environment?: { name: string; deployment_tier: string } }
    >;
    expect(gitlabJobs["promote-live"]!.environment).toEqual({
      name: "live",
      deployment_tier: "production",
    });
  });
});

describe("daggerCall (the one place a tier job's call is spelled)", () => {
  it("asks plan for JSON with --format json", () => {
    const words = daggerCall("gitlab", { fn: "plan", tier: model.tiers.live!, format: "json" });
    const fn = words.indexOf("plan");
    expect(words.slice(fn)).toEqual(["plan", "--env", "live", "--format", "json"]);
    // The module's shared settings are constructor flags, before the function.
    expect(words.slice(0, fn)).toContain("--registry");
  });

  it("passes the CI environment the approvals gate reads only when approvals come from it", () => {
    const promote = (t: Tier) =>
      daggerCall("github", {
        fn: "promote",
        tier: t,
        promote: { sign: true, ciEnvironment: t.approvals.source === "ci-environment" },
      });
    expect(promote(model.tiers.live!)).toContain("--ci-environment");
    expect(promote(model.tiers.shared!)).not.toContain("--ci-environment");
  });
});
