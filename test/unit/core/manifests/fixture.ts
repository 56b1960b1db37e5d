/**
 * Builds, in memory, the objects a correct overlay of `tier` renders to, straight from the tier
 * config. Tests start from this compliant set and break one field at a time, so each check is
 * shown to fire (and the set passing every check shows the checks accept a correct overlay).
 * The real overlays are rendered with kubectl in test/integration/k8s.test.ts.
 */
import type { Tier } from "../../../../pipelines/src/core/environment/schema.ts";
import {
  admissionPolicy,
  blueGreenServices,
  colourNames,
  exposedPorts,
  type KubeObject,
  namespaceOf,
  previewLabel,
  remoteRefOf,
  secretEnvName,
  secretObjectName,
  serviceResource,
  tierLabels,
} from "../../../../pipelines/src/core/manifests/index.ts";
import { monitoringObjects } from "../../../../pipelines/src/core/observability/kubernetes.ts";
import { flagPrefix } from "../../../../pipelines/src/core/observability/runtime-environment.ts";

export const digest = `sha256:${"ab".repeat(32)}`;

/** A deep copy, so a test can mutate freely. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

export function fixtureObjects(tier: Tier, runtime: Record<string, string>): KubeObject[] {
  const ns = namespaceOf(tier);
  const labels = tierLabels(tier);
  const meta = (name: string, extra: Record<string, string> = {}) => ({
    name,
    namespace: ns,
    labels: { ...labels, ...extra },
  });
  const runtimeName = `${tier.project}-${tier.tier}-runtime-abc123`;
  const hc = tier.deploy.health_check;
  const objects: KubeObject[] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: ns,
        labels,
        ...(tier.features.mtls ? { annotations: { "linkerd.io/inject": "enabled" } } : {}),
      },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(runtimeName),
      data: Object.fromEntries(Object.entries(runtime).filter(([k]) => !k.startsWith(flagPrefix))),
    },
    // The flags ConfigMap and monitoring objects as kustomize renders the generated files.
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(`${tier.project}-${tier.tier}-flags-abc123`),
      data: Object.fromEntries(Object.entries(runtime).filter(([k]) => k.startsWith(flagPrefix))),
    },
    ...monitoringObjects(tier).map((o) => ({
      ...o,
      metadata: meta(`${tier.project}-${tier.tier}-${o.metadata.name}`, o.metadata.labels),
    })),
    // The admission policy, as kustomize renders admission-policy.yaml (tiers requiring signatures).
    ...[admissionPolicy(tier)].flatMap((o) =>
      o ? [{ ...o, metadata: meta(`${tier.project}-${tier.tier}-${o.metadata.name}`) }] : [],
    ),
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(`${tier.project}-${tier.tier}-default-deny`),
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(`${tier.project}-${tier.tier}-allow-postgres-egress`),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          { to: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ protocol: "TCP", port: 5432 }] },
        ],
      },
    },
  ];
  if (tier.features.mtls) {
    objects.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(`${tier.project}-${tier.tier}-allow-mesh-control-plane`),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "linkerd" } } },
            ],
            ports: [{ protocol: "TCP", port: 8080 }],
          },
        ],
      },
    });
  }
  for (const [key, entry] of Object.entries(tier.secrets)) {
    const ref = typeof entry === "string" ? entry : "ref" in entry ? entry.ref : "";
    const remote = remoteRefOf(ref) ?? { key: "missing" };
    objects.push({
      apiVersion: "external-secrets.io/v1",
      kind: "ExternalSecret",
      metadata: meta(`${tier.project}-${tier.tier}-${secretObjectName(key)}`),
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "ClusterSecretStore", name: "vault" },
        target: { name: secretObjectName(key), creationPolicy: "Owner" },
        data: [{ secretKey: "value", remoteRef: remote }],
      },
    });
  }
  const bg = blueGreenServices(tier);
  for (const [service, spec] of Object.entries(tier.services)) {
    const resource = serviceResource(tier, service);
    const ports = exposedPorts(tier, spec);
    const first = Object.keys(ports)[0]!;
    const servicePorts = Object.entries(ports).map(([name, port]) => ({
      name,
      port,
      targetPort: name,
    }));
    objects.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta(`${resource}-ingress`),
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": service } },
        policyTypes: ["Ingress"],
        ingress: [{ ports: [{ protocol: "TCP", port: ports[first] }] }],
      },
    });
    const colours = bg.includes(service) ? (["blue", "green"] as const) : [undefined];
    const probe = (path: string) => ({
      httpGet: { path, port: first },
      initialDelaySeconds: hc.initial_delay_seconds,
      periodSeconds: hc.interval_seconds,
      timeoutSeconds: hc.timeout_seconds,
      failureThreshold: hc.failure_threshold,
    });
    if (bg.includes(service)) {
      const names = colourNames(resource);
      for (const [name, colour] of [
        [names.live, "blue"],
        [names.preview, "green"],
      ] as const) {
        objects.push({
          apiVersion: "v1",
          kind: "Service",
          metadata: meta(name, {
            "app.kubernetes.io/name": service,
            ...(name === names.preview ? { [previewLabel.key]: previewLabel.value } : {}),
          }),
          spec: {
            selector: { "app.kubernetes.io/name": service, color: colour },
            ports: servicePorts,
          },
        });
      }
    } else {
      objects.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: meta(resource, { "app.kubernetes.io/name": service }),
        spec: { selector: { "app.kubernetes.io/name": service }, ports: servicePorts },
      });
    }
    for (const colour of colours) {
      const name = colour ? `${resource}-${colour}` : resource;
      const podLabels: Record<string, string> = {
        ...labels,
        "app.kubernetes.io/name": service,
        ...(colour ? { color: colour } : {}),
      };
      const selector = { "app.kubernetes.io/name": service, ...(colour ? { color: colour } : {}) };
      objects.push({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta(name, podLabels),
        spec: {
          ...(spec.autoscaling.enabled ? {} : { replicas: spec.replicas }),
          revisionHistoryLimit: tier.deploy.rollback.keep_revisions,
          progressDeadlineSeconds: 300,
          selector: { matchLabels: selector },
          strategy: { type: "RollingUpdate" },
          template: {
            metadata: {
              labels: podLabels,
              annotations: tier.features.monitoring ? { "prometheus.io/scrape": "true" } : {},
            },
            spec: {
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: service,
                  image: `${tier.registry.host}/${tier.registry.namespace}/${service}@${digest}`,
                  ports: Object.entries(ports).map(([n, p]) => ({ name: n, containerPort: p })),
                  env: [
                    { name: "PORT", value: String(ports[first]) },
                    ...Object.keys(tier.secrets).map((key) => ({
                      name: secretEnvName(key),
                      valueFrom: { secretKeyRef: { name: secretObjectName(key), key: "value" } },
                    })),
                  ],
                  envFrom: [{ configMapRef: { name: runtimeName } }],
                  livenessProbe: probe(spec.health.liveness),
                  readinessProbe: probe(spec.health.readiness),
                  resources: clone(spec.resources),
                  securityContext: {
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ["ALL"] },
                  },
                },
              ],
            },
          },
        },
      });
      objects.push({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: meta(name),
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      });
      if (spec.autoscaling.enabled) {
        objects.push({
          apiVersion: "autoscaling/v2",
          kind: "HorizontalPodAutoscaler",
          metadata: meta(name),
          spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
            minReplicas: spec.autoscaling.min,
            maxReplicas: spec.autoscaling.max,
            metrics: [
              {
                type: "Resource",
                resource: {
                  name: "cpu",
                  target: { type: "Utilization", averageUtilization: spec.autoscaling.target_cpu },
                },
              },
            ],
          },
        });
      }
    }
  }
  return objects;
}

/** Loosely typed so tests can break any nested field. */
// biome-ignore lint/suspicious/noExplicitAny: a test reaches into arbitrary nested fields
type Loose = KubeObject & Record<string, any>;

/** The object named `name` of kind `kind` (throws when absent, so a typo fails loudly). */
export function get(objects: KubeObject[], kind: string, name: string): Loose {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`fixture has no ${kind}/${name}`);
  return found as Loose;
}
