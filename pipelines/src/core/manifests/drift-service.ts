/**
 * The drift checks of one service: its Services and ingress, and each of its Deployments
 * (container, probes, resources, secrets, strategy, monitoring, replicas or autoscaling,
 * disruption budget) against the service's merged config. checkDrift (drift.ts) runs it per
 * service.
 */
import type { Tier } from "../environment/schema.ts";
import { blueGreenServices, colourLabel, colourNames } from "./blue-green.ts";
import {
  type ContainerSpec,
  field,
  type KubeObject,
  objectId,
  type ProbeSpec,
  podTemplateOf,
} from "./documents.ts";
import {
  exposedPorts,
  secretEnvName,
  secretObjectName,
  secretValueKey,
  serviceResource,
  servingPort,
  workloadNames,
} from "./naming.ts";
import { splitImage } from "./pins.ts";

/** Records one finding. */
export type Add = (rule: string, object: string, path: string, message: string) => void;

export function checkService(
  objects: readonly KubeObject[],
  tier: Tier,
  service: string,
  spec: Tier["services"][string],
  add: Add,
): void {
  checkServiceObjects(objects, tier, service, spec, add);
  for (const name of workloadNames(tier, service)) {
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata.name === name);
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
    checkContainer(container, tier, service, spec, id, add);
    checkRollout(objects, deployment, template, name, tier, service, spec, add);
  }
}

/** The service's Service objects (and preview for blue-green), and ingress to its serving port. */
function checkServiceObjects(
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
}

/** One Deployment's container: image repository, ports, probes, resources, secrets, runtime env. */
function checkContainer(
  container: ContainerSpec,
  tier: Tier,
  service: string,
  spec: Tier["services"][string],
  id: string,
  add: Add,
): void {
  const ports = exposedPorts(tier, spec);
  const repository = spec.image
    ? splitImage(spec.image).repository
    : `${tier.registry.host}/${tier.registry.namespace}/${service}`;
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
}

/** One Deployment's rollout: strategy, history, monitoring, replicas or autoscaling, disruption budget. */
function checkRollout(
  objects: readonly KubeObject[],
  deployment: KubeObject,
  template: ReturnType<typeof podTemplateOf>,
  name: string,
  tier: Tier,
  service: string,
  spec: Tier["services"][string],
  add: Add,
): void {
  const id = `Deployment/${name}`;
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
