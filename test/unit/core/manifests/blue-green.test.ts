import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type EnvironmentModel,
  loadModel,
  runtimeEnvironment,
} from "../../../../pipelines/src/core/environment/index.ts";
import type { Tier } from "../../../../pipelines/src/core/environment/schema.ts";
import {
  blueGreenServices,
  describePlan,
  liveColourOf,
  objectsToApply,
  otherColour,
  planColours,
  planDeploy,
  smokePort,
} from "../../../../pipelines/src/core/manifests/index.ts";
import { clone, fixtureObjects, get } from "./fixture.ts";

// The fixture repository, not the shipped sample: these checks hold for any tier model.
const root = fileURLToPath(new URL("../../../fixtures/repo/", import.meta.url));
let model: EnvironmentModel;
let staging: Tier;
let prod: Tier;

beforeAll(async () => {
  model = await loadModel(root);
  staging = model.tiers.staging!;
  prod = model.tiers.prod!;
});
const fixture = (tier: Tier) => fixtureObjects(tier, runtimeEnvironment(model, tier.tier));
const names = (objects: { kind: string; metadata: { name: string } }[]) =>
  objects.map((o) => `${o.kind}/${o.metadata.name}`);

describe("colours", () => {
  it("alternate, and are read from a Service selector", () => {
    expect(otherColour("blue")).toBe("green");
    expect(otherColour("green")).toBe("blue");
    expect(liveColourOf({ "app.kubernetes.io/name": "api", color: "green" })).toBe("green");
    expect(liveColourOf({ "app.kubernetes.io/name": "api" })).toBeUndefined();
    expect(liveColourOf({ color: "purple" })).toBeUndefined();
  });

  it("switch only services that take traffic, and only in blue-green tiers", () => {
    expect(blueGreenServices(prod)).toEqual(["api"]);
    expect(blueGreenServices(staging)).toEqual([]);
  });

  it("plan the idle colour as the target and keep the live one", () => {
    const plan = planColours("tiers-prod-api", "blue", "blue");
    expect(plan).toMatchObject({
      target: "green",
      targetDeployment: "tiers-prod-api-green",
      keptDeployment: "tiers-prod-api-blue",
      liveService: "tiers-prod-api",
      previewService: "tiers-prod-api-preview",
      switchTo: { color: "green" },
      switchBack: { color: "blue" },
    });
  });

  it("plan a first deploy onto the overlay's colour with nothing to switch back to", () => {
    const plan = planColours("tiers-prod-api", undefined, "blue");
    expect(plan.target).toBe("blue");
    expect(plan.keptDeployment).toBeUndefined();
    expect(plan.switchBack).toBeUndefined();
  });
});

describe("objects a blue-green deploy applies", () => {
  it("leave the live colour's workload untouched and never move traffic by applying", () => {
    const objects = fixture(prod);
    // The overlay renders blue as live; the cluster has green live.
    const apply = objectsToApply(objects, [planColours("tiers-prod-api", "green", "blue")]);
    const applied = names(apply);
    expect(applied).toContain("Deployment/tiers-prod-api-blue");
    expect(applied).not.toContain("Deployment/tiers-prod-api-green");
    expect(applied).not.toContain("HorizontalPodAutoscaler/tiers-prod-api-green");
    expect(applied).not.toContain("PodDisruptionBudget/tiers-prod-api-green");
    expect(applied).toContain("Deployment/tiers-prod-worker");
    expect(get(apply, "Service", "tiers-prod-api").spec.selector.color).toBe("green");
    expect(get(apply, "Service", "tiers-prod-api-preview").spec.selector.color).toBe("blue");
    // The rendered input is not modified.
    expect(get(objects, "Service", "tiers-prod-api").spec.selector.color).toBe("blue");
  });

  it("apply both colours on a first deploy, live Service on the target", () => {
    const apply = objectsToApply(fixture(prod), [planColours("tiers-prod-api", undefined, "blue")]);
    expect(names(apply)).toEqual(
      expect.arrayContaining(["Deployment/tiers-prod-api-blue", "Deployment/tiers-prod-api-green"]),
    );
    expect(get(apply, "Service", "tiers-prod-api").spec.selector.color).toBe("blue");
  });
});

describe("deploy plan", () => {
  it("rolling tier: apply everything, wait for each Deployment, smoke each service's health paths", () => {
    const plan = planDeploy(fixture(staging), staging);
    expect(plan.switches).toEqual([]);
    expect(plan.rollouts.map((r) => r.deployment)).toEqual([
      "tiers-staging-api",
      "tiers-staging-worker",
    ]);
    expect(plan.rollouts[0]!.timeoutSeconds).toBe(330);
    expect(plan.smoke.map((s) => `${s.via}:${s.port}${s.path}`)).toEqual([
      "tiers-staging-api:http/healthz",
      "tiers-staging-api:http/readyz",
      "tiers-staging-worker:health/healthz",
      "tiers-staging-worker:health/readyz",
    ]);
    expect(plan.smoke[0]).toMatchObject({
      attempts: staging.deploy.health_check.failure_threshold,
      intervalSeconds: staging.deploy.health_check.interval_seconds,
    });
    expect(plan.smokeAfterSwitch).toEqual([]);
    expect(plan.rollbackOnHealth && plan.rollbackOnSmoke).toBe(true);
  });

  it("prod: update the idle colour, smoke through preview, switch, smoke through live", () => {
    const plan = planDeploy(fixture(prod), prod, { api: "blue" });
    expect(plan.rollouts.map((r) => r.deployment)).toEqual([
      "tiers-prod-api-green",
      "tiers-prod-worker",
    ]);
    expect(plan.smoke.filter((s) => s.service === "api").map((s) => s.via)).toEqual([
      "tiers-prod-api-preview",
      "tiers-prod-api-preview",
    ]);
    expect(plan.switches.map((s) => [s.live, s.target])).toEqual([["blue", "green"]]);
    expect(new Set(plan.smokeAfterSwitch.map((s) => s.via))).toEqual(new Set(["tiers-prod-api"]));
    expect(describePlan(plan)).toContain(
      "switch service/tiers-prod-api from blue to green; keep deployment/tiers-prod-api-blue for switch-back",
    );
  });

  it("automatic rollback follows deploy.rollback", () => {
    const manual = clone(staging);
    manual.deploy.rollback.automatic = false;
    const off = planDeploy(fixture(staging), manual);
    expect([off.rollbackOnHealth, off.rollbackOnSmoke]).toEqual([false, false]);
    const smokeOnly = clone(staging);
    smokeOnly.deploy.rollback.on = ["smoke"];
    const partial = planDeploy(fixture(staging), smokeOnly);
    expect([partial.rollbackOnHealth, partial.rollbackOnSmoke]).toEqual([false, true]);
  });

  it("smoke checks use the http port, else the health port", () => {
    expect(smokePort(prod, prod.services.api!)).toBe("http");
    expect(smokePort(prod, prod.services.worker!)).toBe("health");
  });
});
