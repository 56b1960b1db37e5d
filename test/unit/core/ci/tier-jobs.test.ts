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

describe("infrastructure jobs (only tiers that declare infrastructure with remote state)", () => {
  const withInfra = structuredClone(model);
  const s3 = { backend: "s3", bucket: "b", key: "k.tfstate", region: "eu-west-1" };
  (withInfra.tiers.live as { infra?: unknown }).infra = { state: s3 };
  (withInfra.tiers.shared as { infra?: unknown }).infra = { state: s3 };
  (withInfra.tiers.laptop as { infra?: unknown }).infra = {
    state: { backend: "local", path: ".tiers/infra/laptop.tfstate" },
  };

  it("an on-demand tier gets infra-<tier>, which its promotion needs", () => {
    const github = generatedBlocks(withInfra, "github");
    const jobs = parse(`jobs:\n${github["promotion-jobs"]}`) as {
      jobs: Record<string, { needs?: string[]; environment: string }>;
    };
    expect(Object.keys(jobs.jobs)).toEqual(["infra-live", "promote-live"]);
    expect(jobs.jobs["promote-live"]!.needs).toEqual(["infra-live"]);
    expect(jobs.jobs["infra-live"]!.environment).toBe("live");
    // The push tier plans and applies in the publish job, before it is promoted into.
    const publish = github["publish-job"]!;
    expect(publish.indexOf("infra-apply --env shared")).toBeGreaterThan(0);
    expect(publish.indexOf("infra-apply --env shared")).toBeLessThan(
      publish.indexOf("promote --env shared"),
    );

    const gitlab = parse(generatedBlocks(withInfra, "gitlab")["promote-jobs"]!) as Record<
      string,
      { needs?: string[]; stage?: string }
    >;
    expect(gitlab["infra-live"]!.stage).toBe("live");
    expect(gitlab["promote-live"]!.needs).toEqual(["infra-live"]);
  });

  it("no infra job for a tier without infra, nor in CI for local state (gone when the job ends)", () => {
    expect(generatedBlocks(model, "github")["promotion-jobs"]).not.toContain("infra-");
    expect(generatedBlocks(model, "gitlab")["promote-jobs"]).not.toContain("infra-");
    const local = structuredClone(model);
    (local.tiers.live as { infra?: unknown }).infra = {
      state: { backend: "local", path: ".tiers/infra/live.tfstate" },
    };
    expect(generatedBlocks(local, "github")["promotion-jobs"]).not.toContain("infra-");
  });

  it("infra calls carry only git settings and the cloud secrets, and hand the plan over by path", () => {
    const plan = daggerCall("github", { fn: "infra-plan", tier: withInfra.tiers.live! });
    expect(plan).not.toContain("--registry");
    expect(plan.slice(plan.indexOf("infra-plan"))).toEqual([
      "infra-plan",
      "--env",
      "live",
      "--aws-access-key-id",
      "env:AWS_ACCESS_KEY_ID",
      "--aws-secret-access-key",
      "env:AWS_SECRET_ACCESS_KEY",
      "export",
      "--path",
      ".tiers/infra/live",
    ]);
    const apply = daggerCall("gitlab", {
      fn: "infra-apply",
      tier: withInfra.tiers.live!,
      ciEnvironment: true,
    });
    expect(apply).toEqual(expect.arrayContaining(["--plan", ".tiers/infra/live"]));
    expect(apply.slice(-2)).toEqual(["--ci-environment", "live"]);
  });
});
