/**
 * Agreement between a rendered overlay and its merged tier config. The overlays are written by
 * hand (kustomize's layout is what teams read), so instead of generating them, every fact the
 * config declares is compared with what kustomize renders: namespace and names, labels, ports,
 * probe paths and timings, resources, replicas or autoscaling, rollout strategy and history,
 * secrets by reference, runtime settings, mTLS and monitoring. A copy that drifts fails here.
 */
import type { Tier } from "../environment/schema.ts";
import { flagPrefix } from "../observability/runtime-environment.ts";
import { blueGreenServices, colourLabel, colourNames, colours } from "./blue-green.ts";
import {
  type ContainerSpec,
  clusterScopedKinds,
  field,
  type KubeObject,
  objectId,
  type ProbeSpec,
  podTemplateOf,
} from "./documents.ts";
import type { ManifestFinding } from "./findings.ts";
import { splitImage } from "./pins.ts";

/** The Kubernetes namespace of a tier: `<project>-<tier>`. */
export function namespaceOf(tier: Pick<Tier, "project" | "tier">): string {
  return `${tier.project}-${tier.tier}`;
}

/** `<project>-<tier>-<service>`, the name of a service's objects (see environment.resourceName). */
export function serviceResource(tier: Pick<Tier, "project" | "tier">, service: string): string {
  return `${tier.project}-${tier.tier}-${service}`;
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
export interface DriftOptions {
  /**
   * The runtime settings services read (`runtimeEnvironment(model, tier)` of the environment
   * model); the rendered `runtime` ConfigMap must hold exactly these.
   */
  runtimeEnvironment?: Readonly<Record<string, string>>;
}

/** Every disagreement between the rendered overlay and the merged tier config. */
export function checkDrift(
  objects: readonly KubeObject[],
  tier: Tier,
  options: DriftOptions = {},
): ManifestFinding[] {
  const findings: ManifestFinding[] = [];
  const add = (rule: string, object: string, path: string, message: string) =>
    findings.push({ rule, object, path, message });
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);
  const namespace = namespaceOf(tier);
  const overlay = `overlay ${tier.tier}`;

  // Namespace, labels.
  const ns = find("Namespace", namespace);
  if (!ns) add("drift/namespace", overlay, "", `no Namespace "${namespace}" (<project>-<tier>)`);
  const labels = tierLabels(tier);
  for (const object of objects) {
    if (!clusterScopedKinds.has(object.kind) && object.metadata.namespace !== namespace) {
      add(
        "drift/namespace",
        objectId(object),
        "metadata.namespace",
        `is in "${object.metadata.namespace ?? ""}", expected "${namespace}"`,
      );
    }
    for (const [key, value] of Object.entries(labels)) {
      if (object.metadata.labels?.[key] !== value) {
        add("drift/labels", objectId(object), `metadata.labels.${key}`, `expected "${value}"`);
      }
    }
  }

  // mTLS through the mesh.
  const meshed = ns?.metadata.annotations?.[meshAnnotation.key] === meshAnnotation.value;
  if (ns && meshed !== tier.features.mtls) {
    add(
      "drift/mtls",
      objectId(ns),
      `metadata.annotations.${meshAnnotation.key}`,
      tier.features.mtls
        ? `features.mtls is true, so the namespace needs ${meshAnnotation.key}: ${meshAnnotation.value}`
        : `features.mtls is false, but the namespace is in the mesh`,
    );
  }

  // A meshed pod's proxy must reach the mesh control plane through the default-deny egress.
  if (tier.features.mtls) {
    const toMesh = (peer: unknown) =>
      (field(peer, "namespaceSelector.matchLabels") as Record<string, string> | undefined)?.[
        "kubernetes.io/metadata.name"
      ] === meshNamespace;
    const allPods = (o: KubeObject) => {
      const selector = field(o, "spec.podSelector");
      return (
        typeof selector === "object" && selector !== null && Object.keys(selector).length === 0
      );
    };
    const reachesMesh = objects.some(
      (o) =>
        o.kind === "NetworkPolicy" &&
        allPods(o) &&
        ((field(o, "spec.egress") ?? []) as { to?: unknown[] }[]).some((rule) =>
          (rule.to ?? []).some(toMesh),
        ),
    );
    if (!reachesMesh) {
      add(
        "drift/mtls",
        overlay,
        "",
        `features.mtls is true, so every pod needs egress to the mesh control plane (namespace ${meshNamespace})`,
      );
    }
  }

  // Strategy: colours exist exactly in blue-green tiers.
  const bg = blueGreenServices(tier);
  if (tier.deploy.strategy !== "blue-green") {
    for (const object of objects) {
      if (object.metadata.labels?.[colourLabel] !== undefined) {
        add(
          "drift/strategy",
          objectId(object),
          `metadata.labels.${colourLabel}`,
          `deploy.strategy is ${tier.deploy.strategy}: blue-green colours belong only to blue-green tiers`,
        );
      }
    }
  } else if (bg.length === 0) {
    add(
      "drift/strategy",
      overlay,
      "",
      "deploy.strategy is blue-green but no service has an http port to switch",
    );
  }

  // Runtime settings.
  if (options.runtimeEnvironment) {
    const prefix = `${tier.project}-${tier.tier}-runtime`;
    const configMap = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith(prefix),
    );
    if (!configMap) {
      add(
        "drift/runtime",
        overlay,
        "",
        `no ConfigMap "${prefix}-<hash>" with the tier's runtime settings`,
      );
    } else {
      const data = (configMap.data ?? {}) as Record<string, string>;
      // Flags travel in their own ConfigMap (observability-drift.ts checks it).
      const wanted = Object.fromEntries(
        Object.entries(options.runtimeEnvironment).filter(([key]) => !key.startsWith(flagPrefix)),
      );
      for (const key of new Set([...Object.keys(wanted), ...Object.keys(data)])) {
        if (data[key] !== wanted[key]) {
          add(
            "drift/runtime",
            objectId(configMap),
            `data.${key}`,
            wanted[key] === undefined
              ? "is not a runtime setting of the tier"
              : `is ${JSON.stringify(data[key] ?? null)}, the tier config says ${JSON.stringify(wanted[key])}`,
          );
        }
      }
    }
  }

  // Secrets by reference.
  for (const [key, entry] of Object.entries(tier.secrets)) {
    const ref = typeof entry === "string" ? entry : "ref" in entry ? entry.ref : undefined;
    const remote = ref ? remoteRefOf(ref) : undefined;
    const name = secretObjectName(key);
    if (!remote) {
      add(
        "drift/secret",
        overlay,
        `secrets.${key}`,
        `secret "${key}" must be a secret-manager reference (vault:, aws-sm:, gcp-sm:, azure-kv:) to reach a cluster`,
      );
      continue;
    }
    const external = objects.find(
      (o) => o.kind === "ExternalSecret" && field(o, "spec.target.name") === name,
    );
    if (!external) {
      add(
        "drift/secret",
        overlay,
        "",
        `no ExternalSecret writing Secret "${name}" for secrets.${key}`,
      );
      continue;
    }
    const data = (field(external, "spec.data") ?? []) as {
      secretKey?: string;
      remoteRef?: { key?: string; property?: string };
    }[];
    const item = data.find((d) => d.secretKey === secretValueKey);
    if (item?.remoteRef?.key !== remote.key || item?.remoteRef?.property !== remote.property) {
      add(
        "drift/secret",
        objectId(external),
        "spec.data",
        `expected ${secretValueKey} <- key "${remote.key}"${remote.property ? ` property "${remote.property}"` : ""} (secrets.${key}: ${ref})`,
      );
    }
  }

  // Services.
  for (const [service, spec] of Object.entries(tier.services)) {
    checkService(objects, tier, service, spec, add);
  }

  // Managed dependencies are reached through an egress rule on their port.
  for (const [name, dependency] of Object.entries(tier.dependencies)) {
    if (dependency.provided_by !== "managed") continue;
    const egress = objects
      .filter((o) => o.kind === "NetworkPolicy")
      .flatMap((o) => (field(o, "spec.egress") ?? []) as { ports?: { port?: number }[] }[]);
    if (!egress.some((rule) => (rule.ports ?? []).some((p) => p.port === dependency.port))) {
      add(
        "drift/network",
        overlay,
        "",
        `no NetworkPolicy allows egress to ${name} on port ${dependency.port} (dependencies.${name}.port)`,
      );
    }
  }
  return findings;
}

type Add = (rule: string, object: string, path: string, message: string) => void;

function checkService(
  objects: readonly KubeObject[],
  tier: Tier,
  service: string,
  spec: Tier["services"][string],
  add: Add,
): void {
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);
  const resource = serviceResource(tier, service);
  const ports = exposedPorts(tier, spec);
  const blueGreen = blueGreenServices(tier).includes(service);
  const repository = spec.image
    ? splitImage(spec.image).repository
    : `${tier.registry.host}/${tier.registry.namespace}/${service}`;

  // Services: the live one, and the preview one for blue-green.
  const serviceNames = blueGreen ? [resource, colourNames(resource).preview] : [resource];
  for (const name of serviceNames) {
    const svc = find("Service", name);
    if (!svc) {
      add("drift/service", `Service/${name}`, "", `missing: services.${service} needs a Service`);
      continue;
    }
    const declared = (field(svc, "spec.ports") ?? []) as { name?: string; port?: number }[];
    const got = Object.fromEntries(declared.map((p) => [p.name ?? "", p.port]));
    if (JSON.stringify(sortKeys(got)) !== JSON.stringify(sortKeys(ports))) {
      add(
        "drift/ports",
        objectId(svc),
        "spec.ports",
        `are ${JSON.stringify(got)}, the tier config says ${JSON.stringify(ports)}`,
      );
    }
    const selector = (field(svc, "spec.selector") ?? {}) as Record<string, string>;
    if (selector["app.kubernetes.io/name"] !== service) {
      add(
        "drift/service",
        objectId(svc),
        "spec.selector",
        `must select app.kubernetes.io/name=${service}`,
      );
    }
    if (blueGreen && selector[colourLabel] === undefined) {
      add(
        "drift/strategy",
        objectId(svc),
        "spec.selector",
        `a blue-green Service must select a ${colourLabel}`,
      );
    }
  }

  // The serving port is reachable through the default-deny ingress (smoke checks, traffic).
  const serving = servingPort(tier, spec);
  const opensPort = objects.some(
    (o) =>
      o.kind === "NetworkPolicy" &&
      selectsService(field(o, "spec.podSelector"), service) &&
      ((field(o, "spec.ingress") ?? []) as { ports?: { port?: number | string }[] }[]).some(
        (rule) => (rule.ports ?? []).some((p) => p.port === ports[serving] || p.port === serving),
      ),
  );
  if (!opensPort) {
    add(
      "drift/network",
      `Service/${resource}`,
      "",
      `no NetworkPolicy allows ingress to ${service} on ports.${serving} (${ports[serving]})`,
    );
  }

  for (const name of workloadNames(tier, service)) {
    const deployment = find("Deployment", name);
    const id = `Deployment/${name}`;
    if (!deployment) {
      add("drift/workload", id, "", `missing: services.${service} renders to this Deployment`);
      continue;
    }
    const template = podTemplateOf(deployment);
    const container = template?.spec?.containers?.find((c) => c.name === service);
    if (!container) {
      add("drift/workload", id, "spec.template.spec.containers", `no container named "${service}"`);
      continue;
    }
    const at = `spec.template.spec.containers[${service}]`;
    const image = splitImage(container.image ?? "");
    if (image.repository !== repository) {
      add(
        "drift/image",
        id,
        `${at}.image`,
        `repository is "${image.repository}", the tier config says "${repository}"`,
      );
    }
    checkContainerPorts(container, ports, id, at, add);
    checkProbe(
      container.livenessProbe,
      spec.health.liveness,
      ports,
      tier,
      id,
      `${at}.livenessProbe`,
      add,
    );
    checkProbe(
      container.readinessProbe,
      spec.health.readiness,
      ports,
      tier,
      id,
      `${at}.readinessProbe`,
      add,
    );
    for (const kind of ["requests", "limits"] as const) {
      for (const resource of ["cpu", "memory"] as const) {
        const got = container.resources?.[kind]?.[resource];
        const want = spec.resources[kind][resource];
        if (String(got) !== String(want)) {
          add(
            "drift/resources",
            id,
            `${at}.resources.${kind}.${resource}`,
            `is ${String(got)}, the tier config says ${want}`,
          );
        }
      }
    }
    for (const key of Object.keys(tier.secrets)) {
      const env = container.env?.find((e) => e.name === secretEnvName(key));
      const ref = env?.valueFrom?.secretKeyRef;
      if (ref?.name !== secretObjectName(key) || ref.key !== secretValueKey) {
        add(
          "drift/secret",
          id,
          `${at}.env.${secretEnvName(key)}`,
          `must come from secretKeyRef ${secretObjectName(key)}/${secretValueKey} (secrets.${key})`,
        );
      }
    }
    const serving = servingPort(tier, spec);
    const portEnv = container.env?.find((e) => e.name === "PORT")?.value;
    if (portEnv !== String(ports[serving])) {
      add(
        "drift/ports",
        id,
        `${at}.env.PORT`,
        `is ${String(portEnv)}, the service listens on ports.${serving}: ${ports[serving]}`,
      );
    }
    const envFrom = container.envFrom ?? [];
    if (
      !envFrom.some((e) => e.configMapRef?.name.startsWith(`${tier.project}-${tier.tier}-runtime`))
    ) {
      add("drift/runtime", id, `${at}.envFrom`, "does not read the tier's runtime ConfigMap");
    }

    // Strategy and history.
    const strategy = field(deployment, "spec.strategy.type");
    const wantStrategy = tier.deploy.strategy === "recreate" ? "Recreate" : "RollingUpdate";
    if (strategy !== wantStrategy) {
      add(
        "drift/strategy",
        id,
        "spec.strategy.type",
        `is ${String(strategy)}, deploy.strategy ${tier.deploy.strategy} needs ${wantStrategy}`,
      );
    }
    const history = field(deployment, "spec.revisionHistoryLimit");
    if (history !== tier.deploy.rollback.keep_revisions) {
      add(
        "drift/history",
        id,
        "spec.revisionHistoryLimit",
        `is ${String(history)}, deploy.rollback.keep_revisions says ${tier.deploy.rollback.keep_revisions}`,
      );
    }

    // Monitoring.
    const scrape = template?.metadata?.annotations?.["prometheus.io/scrape"] === "true";
    if (scrape !== tier.features.monitoring) {
      add(
        "drift/monitoring",
        id,
        "spec.template.metadata.annotations.prometheus.io/scrape",
        `features.monitoring is ${tier.features.monitoring}`,
      );
    }

    // Replicas or autoscaling.
    const replicas = field(deployment, "spec.replicas");
    const hpa = objects.find(
      (o) => o.kind === "HorizontalPodAutoscaler" && field(o, "spec.scaleTargetRef.name") === name,
    );
    if (spec.autoscaling.enabled) {
      if (replicas !== undefined) {
        add(
          "drift/replicas",
          id,
          "spec.replicas",
          "autoscaling is enabled: the autoscaler owns the replica count, leave spec.replicas unset",
        );
      }
      if (!hpa) {
        add(
          "drift/autoscaling",
          id,
          "",
          `services.${service}.autoscaling.enabled is true but no HorizontalPodAutoscaler targets this Deployment`,
        );
      } else {
        const got = {
          min: field(hpa, "spec.minReplicas"),
          max: field(hpa, "spec.maxReplicas"),
          target_cpu: cpuTarget(hpa),
        };
        for (const key of ["min", "max", "target_cpu"] as const) {
          if (got[key] !== spec.autoscaling[key]) {
            add(
              "drift/autoscaling",
              objectId(hpa),
              key === "target_cpu"
                ? "spec.metrics[cpu].target.averageUtilization"
                : `spec.${key}Replicas`,
              `is ${String(got[key])}, services.${service}.autoscaling.${key} says ${spec.autoscaling[key]}`,
            );
          }
        }
      }
    } else {
      if (hpa) {
        add(
          "drift/autoscaling",
          objectId(hpa),
          "",
          `services.${service}.autoscaling.enabled is false`,
        );
      }
      if (replicas !== spec.replicas) {
        add(
          "drift/replicas",
          id,
          "spec.replicas",
          `is ${String(replicas)}, services.${service}.replicas says ${spec.replicas}`,
        );
      }
    }

    // Disruption budget.
    const pdb = objects.find(
      (o) =>
        o.kind === "PodDisruptionBudget" &&
        matches(
          (field(o, "spec.selector.matchLabels") ?? {}) as Record<string, string>,
          template?.metadata?.labels ?? {},
        ),
    );
    if (!pdb) add("drift/disruption-budget", id, "", "no PodDisruptionBudget selects these pods");
  }
}

/** True when a pod selector (matchLabels or an `In` expression) picks the service's pods. */
function selectsService(selector: unknown, service: string): boolean {
  const labels = (field(selector, "matchLabels") ?? {}) as Record<string, string>;
  if (labels["app.kubernetes.io/name"] === service) return true;
  const expressions = (field(selector, "matchExpressions") ?? []) as {
    key?: string;
    operator?: string;
    values?: string[];
  }[];
  return expressions.some(
    (e) =>
      e.key === "app.kubernetes.io/name" &&
      e.operator === "In" &&
      (e.values ?? []).includes(service),
  );
}

function checkContainerPorts(
  container: ContainerSpec,
  ports: Record<string, number>,
  id: string,
  at: string,
  add: Add,
) {
  const got = Object.fromEntries(
    (container.ports ?? []).map((p) => [p.name ?? "", p.containerPort]),
  );
  if (JSON.stringify(sortKeys(got)) !== JSON.stringify(sortKeys(ports))) {
    add(
      "drift/ports",
      id,
      `${at}.ports`,
      `are ${JSON.stringify(got)}, the tier config says ${JSON.stringify(ports)}`,
    );
  }
}

function checkProbe(
  probe: ProbeSpec | undefined,
  path: string,
  ports: Record<string, number>,
  tier: Tier,
  id: string,
  at: string,
  add: Add,
) {
  if (!probe) return; // policy/probes reports a missing probe
  if (probe.httpGet?.path !== path) {
    add(
      "drift/probes",
      id,
      `${at}.httpGet.path`,
      `is ${String(probe.httpGet?.path)}, the tier config says ${path}`,
    );
  }
  const port = probe.httpGet?.port;
  const known =
    typeof port === "string" ? port in ports : Object.values(ports).includes(Number(port));
  if (!known)
    add(
      "drift/probes",
      id,
      `${at}.httpGet.port`,
      `port ${String(port)} is not one of the service's ports`,
    );
  const hc = tier.deploy.health_check;
  const timings: [keyof ProbeSpec, number, string][] = [
    ["initialDelaySeconds", hc.initial_delay_seconds, "initial_delay_seconds"],
    ["periodSeconds", hc.interval_seconds, "interval_seconds"],
    ["timeoutSeconds", hc.timeout_seconds, "timeout_seconds"],
    ["failureThreshold", hc.failure_threshold, "failure_threshold"],
  ];
  for (const [key, want, name] of timings) {
    if (probe[key] !== want) {
      add(
        "drift/probes",
        id,
        `${at}.${String(key)}`,
        `is ${String(probe[key])}, deploy.health_check.${name} says ${want}`,
      );
    }
  }
}

function cpuTarget(hpa: KubeObject): unknown {
  const metrics = (field(hpa, "spec.metrics") ?? []) as {
    type?: string;
    resource?: { name?: string; target?: { averageUtilization?: number } };
  }[];
  return metrics.find((m) => m.type === "Resource" && m.resource?.name === "cpu")?.resource?.target
    ?.averageUtilization;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function sortKeys(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
