/**
 * Agreement between a rendered overlay and its merged tier config. The overlays are written by
 * hand (kustomize's layout is what teams read), so instead of generating them, every fact the
 * config declares is compared with what kustomize renders: namespace and names, labels, ports,
 * probe paths and timings, resources, replicas or autoscaling, rollout strategy and history,
 * secrets by reference, runtime settings, mTLS and monitoring. A copy that drifts fails here.
 */
import type { Tier } from "../environment/schema.ts";
import { flagPrefix } from "../observability/runtime-environment.ts";
import { blueGreenServices, colourLabel } from "./blue-green.ts";
import { clusterScopedKinds, field, type KubeObject, objectId } from "./documents.ts";
import { checkService } from "./drift-service.ts";
import type { ManifestFinding } from "./findings.ts";
import {
  meshAnnotation,
  meshNamespace,
  namespaceOf,
  remoteRefOf,
  secretObjectName,
  secretValueKey,
  tierLabels,
} from "./naming.ts";

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
