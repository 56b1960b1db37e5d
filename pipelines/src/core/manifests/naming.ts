/**
 * The Kubernetes naming rules of a tier's objects: namespace, resource and workload names,
 * labels, secret object and variable names, the mesh annotation, exposed and serving ports.
 * One home for them, so the deploy plan (plan.ts) and the drift check (drift.ts) agree.
 */
import { resourceName } from "../environment/index.ts";
import type { Tier } from "../environment/schema.ts";
import { blueGreenServices, colourNames, colours } from "./blue-green.ts";

/** The Kubernetes namespace of a tier: `<project>-<tier>`. */
export function namespaceOf(tier: Pick<Tier, "project" | "tier">): string {
  return `${tier.project}-${tier.tier}`;
}

/** `<project>-<tier>-<service>`, the name of a service's objects (see environment.resourceName). */
export function serviceResource(tier: Pick<Tier, "project" | "tier">, service: string): string {
  return resourceName(tier.project, tier.tier, service);
}

/** Kubernetes name of the Secret a config secret is delivered as: `database_url` -> `database-url`. */
export function secretObjectName(key: string): string {
  return key.replace(/_/g, "-");
}

/** Environment variable a config secret is exposed as: `database_url` -> `DATABASE_URL`. */
export function secretEnvName(key: string): string {
  return key.toUpperCase();
}

/** The key in the delivered Secret that holds the value. */
export const secretValueKey = "value";

/** Label keys every object of a tier carries. */
export function tierLabels(tier: Pick<Tier, "project" | "tier">): Record<string, string> {
  return {
    "app.kubernetes.io/part-of": tier.project,
    "app.kubernetes.io/managed-by": tier.project,
    "app.kubernetes.io/instance": namespaceOf(tier),
    [`${tier.project}/tier`]: tier.tier,
  };
}

/** Annotation that puts a namespace into the service mesh (features.mtls). */
export const meshAnnotation = { key: "linkerd.io/inject", value: "enabled" } as const;
/** Namespace of the mesh's control plane, which every meshed pod's proxy must reach. */
export const meshNamespace = "linkerd";

/**
 * Where a secret reference lives in the secret manager External Secrets reads:
 * `vault:kv/tiers/prod/database#url` -> key `kv/tiers/prod/database`, property `url`.
 * `env:` and `file:` references name things on one machine and cannot reach a cluster.
 */
export function remoteRefOf(ref: string): { key: string; property?: string } | undefined {
  const match = /^(vault|aws-sm|gcp-sm|azure-kv):([^#]+)(?:#(.+))?$/.exec(ref);
  if (!match) return undefined;
  return match[3] ? { key: match[2]!, property: match[3] } : { key: match[2]! };
}

/** The workloads a service renders to in this tier: one, or one per colour. */
export function workloadNames(
  tier: Pick<Tier, "project" | "tier" | "deploy" | "services">,
  service: string,
): string[] {
  const resource = serviceResource(tier, service);
  if (blueGreenServices(tier).includes(service)) {
    const names = colourNames(resource);
    return colours.map((c) => names.deployment[c]);
  }
  return [resource];
}

/** Ports a service exposes in a cluster: all declared, minus `debug` unless debug ports are on. */
export function exposedPorts(
  tier: Pick<Tier, "features">,
  spec: Tier["services"][string],
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(spec.ports).filter(([name]) => name !== "debug" || tier.features.debug_ports),
  );
}

/**
 * The port a service serves its health endpoints (and `PORT`) on: `http` if declared, else
 * `health`, else the first exposed port.
 */
export function servingPort(tier: Pick<Tier, "features">, spec: Tier["services"][string]): string {
  const ports = Object.keys(exposedPorts(tier, spec));
  if (ports.includes("http")) return "http";
  if (ports.includes("health")) return "health";
  const first = ports[0];
  if (!first) throw new Error("a service with no exposed port cannot be smoke-checked");
  return first;
}

/** Options for the drift check. */
