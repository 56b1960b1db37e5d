/**
 * The deploy plan of a Kubernetes tier, worked out before anything touches a cluster: which
 * objects to apply, which rollouts to wait for and how long, which smoke checks to run before
 * and after a blue-green switch, and what an automatic rollback does. The host engine
 * (engines/host/deploy.ts) only executes it, so every decision here is unit-tested.
 */
import type { Tier } from "../environment/schema.ts";
import {
  blueGreenServices,
  type Colour,
  type ColourPlan,
  objectsToApply,
  planColours,
  renderedColour,
} from "./blue-green.ts";
import { field, type KubeObject } from "./documents.ts";
import { namespaceOf, serviceResource, servingPort, workloadNames } from "./naming.ts";

/** One HTTP check of a service's health endpoint through the API server's service proxy. */
export interface SmokeCheck {
  service: string;
  /** Kubernetes Service the request goes through (the preview Service before a switch). */
  via: string;
  /** Named Service port. */
  port: string;
  path: string;
  /** Which endpoint of the service's health config this is. */
  probe: "liveness" | "readiness";
  /** Tries before the check fails (deploy.health_check.failure_threshold). */
  attempts: number;
  /** Pause between tries (deploy.health_check.interval_seconds). */
  intervalSeconds: number;
}

/** A Deployment to wait for. */
export interface RolloutWait {
  service: string;
  deployment: string;
  timeoutSeconds: number;
}

/** What a deploy does and, if it fails, how it undoes itself. */
export interface DeployPlan {
  tier: string;
  namespace: string;
  strategy: Tier["deploy"]["strategy"];
  /** Objects sent to `kubectl apply`, in rendered order. */
  apply: KubeObject[];
  /** Rollouts to wait for, in order. */
  rollouts: RolloutWait[];
  /** Checks run once every rollout is complete (through preview Services for blue-green). */
  smoke: SmokeCheck[];
  /** Blue-green moves, one per switching service; empty for rolling tiers. */
  switches: ColourPlan[];
  /** Checks run through the live Services after the switch. */
  smokeAfterSwitch: SmokeCheck[];
  /** Roll back by itself when a rollout fails (rollback.on includes `health`). */
  rollbackOnHealth: boolean;
  /** Roll back by itself when a smoke check fails (rollback.on includes `smoke`). */
  rollbackOnSmoke: boolean;
}

/** Slack on top of a Deployment's progress deadline, so kubectl reports the deadline itself. */
const rolloutSlackSeconds = 30;
const defaultProgressDeadlineSeconds = 600;

/** The port smoke checks use: the service's serving port (see naming.ts). */
export const smokePort = servingPort;

function checksFor(tier: Tier, service: string, via: string): SmokeCheck[] {
  const spec = tier.services[service]!;
  const common = {
    service,
    via,
    port: smokePort(tier, spec),
    attempts: tier.deploy.health_check.failure_threshold,
    intervalSeconds: tier.deploy.health_check.interval_seconds,
  };
  return [
    { ...common, path: spec.health.liveness, probe: "liveness" },
    { ...common, path: spec.health.readiness, probe: "readiness" },
  ];
}

/**
 * Plans a deploy. `live` maps each blue-green service to the colour its live Service selects in
 * the cluster now (undefined: not deployed yet). Rolling tiers ignore it.
 */
export function planDeploy(
  objects: readonly KubeObject[],
  tier: Tier,
  live: Readonly<Record<string, Colour | undefined>> = {},
): DeployPlan {
  const switching = blueGreenServices(tier);
  const switches = switching.map((service) => {
    const resource = serviceResource(tier, service);
    return planColours(resource, live[service], renderedColour(objects, resource) ?? "blue");
  });
  const apply = objectsToApply(objects, switches);
  const applied = new Set(apply.filter((o) => o.kind === "Deployment").map((o) => o.metadata.name));

  const rollouts: RolloutWait[] = [];
  const smoke: SmokeCheck[] = [];
  const smokeAfterSwitch: SmokeCheck[] = [];
  for (const service of Object.keys(tier.services)) {
    for (const deployment of workloadNames(tier, service)) {
      if (!applied.has(deployment)) continue;
      const object = apply.find((o) => o.kind === "Deployment" && o.metadata.name === deployment);
      const deadline = Number(
        field(object, "spec.progressDeadlineSeconds") ?? defaultProgressDeadlineSeconds,
      );
      rollouts.push({ service, deployment, timeoutSeconds: deadline + rolloutSlackSeconds });
    }
    const plan = switches.find((s) => s.resource === serviceResource(tier, service));
    if (plan) {
      smoke.push(...checksFor(tier, service, plan.previewService));
      smokeAfterSwitch.push(...checksFor(tier, service, plan.liveService));
    } else {
      smoke.push(...checksFor(tier, service, serviceResource(tier, service)));
    }
  }
  return {
    tier: tier.tier,
    namespace: namespaceOf(tier),
    strategy: tier.deploy.strategy,
    apply,
    rollouts,
    smoke,
    switches,
    smokeAfterSwitch,
    rollbackOnHealth: tier.deploy.rollback.automatic && tier.deploy.rollback.on.includes("health"),
    rollbackOnSmoke: tier.deploy.rollback.automatic && tier.deploy.rollback.on.includes("smoke"),
  };
}

/** A short human description of a plan, one line per step, for `--dry-run` and logs. */
export function describePlan(plan: DeployPlan): string[] {
  const lines = [`apply ${plan.apply.length} objects to namespace ${plan.namespace}`];
  for (const r of plan.rollouts)
    lines.push(`wait for rollout of deployment/${r.deployment} (up to ${r.timeoutSeconds}s)`);
  for (const s of plan.smoke)
    lines.push(`smoke ${s.probe}: GET ${s.path} via service/${s.via}:${s.port}`);
  for (const sw of plan.switches) {
    lines.push(
      sw.live
        ? `switch service/${sw.liveService} from ${sw.live} to ${sw.target}; keep deployment/${sw.keptDeployment} for switch-back`
        : `first deploy: service/${sw.liveService} serves ${sw.target}`,
    );
  }
  for (const s of plan.smokeAfterSwitch)
    lines.push(`smoke ${s.probe}: GET ${s.path} via service/${s.via}:${s.port}`);
  lines.push(
    plan.rollbackOnHealth || plan.rollbackOnSmoke
      ? `on failure: ${plan.switches.length ? "switch the selector back and " : ""}rollout undo the updated deployments`
      : "on failure: stop and report (automatic rollback is off for this tier)",
  );
  return lines;
}
