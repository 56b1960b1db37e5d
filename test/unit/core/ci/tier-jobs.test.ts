/** The CI tier jobs from a chain other than the sample's (in-test model, never the sample). */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  daggerCall,
  generatedBlocks,
  grypeVersion,
} from "../../../../pipelines/src/core/ci/tier-jobs.ts";
import type { EnvironmentModel, Tier } from "../../../../pipelines/src/core/environment/index.ts";

/** A GitHub expression, spelled without a template-looking string literal. */
const gh = (expression: string) => ["$", `{{ ${expression} }}`].join("");

const tier = (name: string, runtime: string, required: number) =>
  ({
    tier: name,
    marker: "◆",
    runtime,
    node_env: runtime === "kubernetes" ? "production" : "development",
    deploy: { strategy: "rolling" },
    approvals: { required, source: required > 0 ? "ci-environment" : "none" },
    registry: { host: "registry.acme.test", namespace: "acme" },
    // One built service and one that runs an image it does not build (never scanned).
    services: {
      storefront: { build: { context: ".", dockerfile: "services/storefront/Dockerfile" } },
      sidecar: {},
    },
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

describe("security evidence in CI: publish records SBOM and provenance, grype scans each built image, record-scan records it", () => {
  type Step = {
    name: string;
    uses: string;
    env?: Record<string, string>;
    with: Record<string, string | boolean>;
  };
  const githubSteps = () =>
    (
      parse(`jobs:\n${generatedBlocks(model, "github")["publish-job"]}`) as {
        jobs: { publish: { steps: Step[] } };
      }
    ).jobs.publish.steps;

  it("GitHub: after publish, one pinned anchore/scan-action step and one record-scan per built service, before the promotion", () => {
    const steps = githubSteps();
    const names = steps.map((s) =>
      String(s.with?.call ?? s.uses)
        .match(/ (publish|record-scan|promote) |anchore\/scan-action/)?.[0]
        ?.trim(),
    );
    const publish = names.indexOf("publish");
    expect(names.slice(publish, publish + 3)).toEqual([
      "publish",
      "anchore/scan-action",
      "record-scan",
    ]);
    expect(names.indexOf("promote")).toBeGreaterThan(publish + 2);
    const scans = steps.filter((s) => s.uses.startsWith("anchore/scan-action@"));
    expect(scans).toHaveLength(1); // storefront; sidecar builds nothing
    const scan = scans[0]!;
    expect(scan.uses).toMatch(/^anchore\/scan-action@[0-9a-f]{40}$/);
    expect(scan.with).toEqual({
      image: `registry:${gh("vars.TIERS_REGISTRY")}/acme/storefront:${gh("github.sha")}`,
      "grype-version": grypeVersion,
      "fail-build": false,
      "output-format": "json",
      "output-file": `${gh("runner.temp")}/storefront.grype.json`,
    });
    // The registry password reaches grype as a variable, never in a command line.
    expect(scan.env?.GRYPE_REGISTRY_AUTH_PASSWORD).toBe(`${gh("env.REGISTRY_PASSWORD")}`);
    const record = String(steps[steps.indexOf(scan) + 1]!.with.call);
    expect(record).toContain(
      `record-scan --commit ${gh("github.sha")} --service storefront --report ${gh("runner.temp")}/storefront.grype.json --actor ${gh("github.actor")}`,
    );
    // record-scan resolves the digest from the registry and pushes the record to git.
    expect(record).toContain(`--registry ${gh("vars.TIERS_REGISTRY")}`);
    expect(record).toContain("--git-token env:GIT_TOKEN");
  });

  it("publish carries the git settings it now pushes its evidence commit with, and the actor", () => {
    const words = daggerCall("github", { fn: "publish", commit: true });
    const fn = words.indexOf("publish");
    expect(words.slice(0, fn)).toEqual(expect.arrayContaining(["--git-remote", "--git-token"]));
    expect(words.slice(fn)).toEqual([
      "publish",
      "--commit",
      `${gh("github.sha")}`,
      "--actor",
      `${gh("github.actor")}`,
    ]);
    // verify still talks to the registry only.
    expect(daggerCall("github", { fn: "verify", tier: model.tiers.shared! })).not.toContain(
      "--git-token",
    );
  });

  it("GitLab: the push job scans with the grype image of the same version on the job's Docker daemon, then records each report", () => {
    const jobs = parse(generatedBlocks(model, "gitlab")["promote-jobs"]!) as Record<
      string,
      { script: string[]; variables?: Record<string, string> }
    >;
    const job = jobs["promote-shared"]!;
    const scan = job.script.findIndex((line) => line.startsWith("docker run"));
    expect(job.script[scan]).toBe(
      `docker run --rm -e GRYPE_REGISTRY_AUTH_AUTHORITY -e GRYPE_REGISTRY_AUTH_USERNAME -e GRYPE_REGISTRY_AUTH_PASSWORD anchore/grype:${grypeVersion} "registry:$CI_REGISTRY/acme/storefront:$CI_COMMIT_SHA" -o json > /tmp/storefront.grype.json`,
    );
    expect(job.script[scan + 1]).toContain(
      'record-scan --commit "$CI_COMMIT_SHA" --service storefront --report /tmp/storefront.grype.json',
    );
    expect(job.script.filter((line) => line.startsWith("docker run"))).toHaveLength(1);
    expect(job.variables).toEqual({
      GRYPE_REGISTRY_AUTH_AUTHORITY: "$CI_REGISTRY",
      GRYPE_REGISTRY_AUTH_USERNAME: "$CI_REGISTRY_USER",
      GRYPE_REGISTRY_AUTH_PASSWORD: "$CI_REGISTRY_PASSWORD",
    });
    // Recorded before the promotion, so the first promotion's plan already shows them.
    const promote = job.script.findIndex((line) => line.includes(" promote --env shared"));
    expect(promote).toBeGreaterThan(scan + 1);
  });
});
