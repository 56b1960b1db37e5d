/**
 * What a Kubernetes tier's overlay carries for observability, derived from its merged config:
 * a ServiceMonitor per service, a PrometheusRule from `alerting.rules`, and the env file of the
 * `flags` ConfigMap. Pure: `observabilityFiles` gives the overlay files' text, which
 * `scripts/render-observability.ts` writes and the manifest drift check holds them to.
 *
 * Objects are written un-prefixed and un-namespaced, like the rest of an overlay: kustomize adds
 * `namespace`, `namePrefix` and the tier labels (k8s/overlays/<tier>/kustomization.yaml).
 */
import { stringify } from "yaml";
import { type AlertName, alertNames } from "../environment/observability-schema.ts";
import type { Tier } from "../environment/schema.ts";
import { blueGreenServices, previewLabel } from "../manifests/blue-green.ts";
import type { KubeObject } from "../manifests/documents.ts";
import type { LabelSelector } from "../manifests/label-selector.ts";
import { flagEnvironment } from "./runtime-environment.ts";

/** Series the services expose (services/runtime/src/metrics.ts); the alerts read them. */
export const metricNames = {
  requests: "tiers_http_requests_total",
  duration: "tiers_http_request_duration_seconds",
  queueDepth: "tiers_worker_queue_depth",
  leaseExpiries: "tiers_worker_lease_expiries_total",
} as const;

/** The port a service's metrics are scraped on: its serving port, else its health port. */
function metricsPort(ports: Record<string, number>): string {
  const names = Object.keys(ports);
  const name = names.includes("http") ? "http" : names.includes("health") ? "health" : names[0];
  if (name === undefined) throw new Error("a service with no port cannot be scraped");
  return name;
}

/**
 * The Services a service's ServiceMonitor selects: exactly its live Service. A blue-green
 * service also has a preview Service with the same name label, left out by its preview label
 * (core/manifests/blue-green.ts); the manifest drift check holds the rendered overlay to "one
 * Service per monitor" (core/manifests/observability-drift.ts).
 */
function monitorSelector(tier: Tier, service: string): LabelSelector {
  const matchLabels = { "app.kubernetes.io/name": service };
  if (!blueGreenServices(tier).includes(service)) return { matchLabels };
  return {
    matchLabels,
    matchExpressions: [{ key: previewLabel.key, operator: "NotIn", values: [previewLabel.value] }],
  };
}

/** One ServiceMonitor per service, selecting its live Service only; none when not monitored. */
export function serviceMonitors(tier: Tier): KubeObject[] {
  if (!tier.features.monitoring) return [];
  const { path, interval_seconds } = tier.observability.metrics;
  return Object.entries(tier.services).map(([service, spec]) => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: service, labels: { "app.kubernetes.io/name": service } },
    spec: {
      selector: monitorSelector(tier, service),
      endpoints: [{ port: metricsPort(spec.ports), path, interval: `${interval_seconds}s` }],
    },
  }));
}

/** PromQL of each alert, over the tier's namespace (Prometheus Operator adds `namespace`). */
function expression(alert: AlertName, namespace: string, threshold: number, window: string) {
  const scope = `namespace="${namespace}"`;
  switch (alert) {
    case "error_rate":
      return `sum(rate(${metricNames.requests}{${scope},status=~"5.."}[${window}])) / sum(rate(${metricNames.requests}{${scope}}[${window}])) > ${threshold}`;
    case "p95_latency":
      return `histogram_quantile(0.95, sum by (le) (rate(${metricNames.duration}_bucket{${scope}}[${window}]))) > ${threshold}`;
    case "availability":
      return `avg(avg_over_time(up{${scope}}[${window}])) < ${threshold}`;
  }
}

/** A fraction as a percentage without float noise: 0.07 -> "7". */
const percent = (fraction: number) => String(Number((fraction * 100).toPrecision(6)));

const summaries: Record<AlertName, (threshold: number) => string> = {
  error_rate: (t) => `More than ${percent(t)}% of requests fail`,
  p95_latency: (t) => `95th percentile latency above ${t}s`,
  availability: (t) => `Fewer than ${percent(t)}% of scrapes succeed`,
};

/** `ErrorRate`, `P95Latency`, `Availability`: alert names as Prometheus conventions spell them. */
export function alertTitle(alert: AlertName): string {
  return alert
    .split("_")
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join("");
}

/** The tier's enabled alerts as one PrometheusRule; none when the tier is not monitored. */
export function prometheusRule(tier: Tier): KubeObject | undefined {
  if (!tier.features.monitoring) return undefined;
  const namespace = `${tier.project}-${tier.tier}`;
  const rules = alertNames
    .filter((alert) => tier.alerting.rules[alert].enabled)
    .map((alert) => {
      const rule = tier.alerting.rules[alert];
      return {
        alert: alertTitle(alert),
        expr: expression(alert, namespace, rule.threshold, rule.for),
        for: rule.for,
        labels: {
          severity: rule.severity,
          tier: tier.tier,
          receiver: tier.alerting.route.receiver,
        },
        annotations: {
          summary: `${tier.marker} ${tier.tier}: ${summaries[alert](rule.threshold)}`,
          ...(tier.observability.dashboards ? { dashboard: tier.observability.dashboards } : {}),
        },
      };
    });
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "alerts" },
    spec: { groups: [{ name: `${namespace}-alerts`, rules }] },
  };
}

/** File the overlay's ServiceMonitors and PrometheusRule are written to. */
export const monitoringFile = "monitoring.yaml";
/** Env file the overlay's `flags` ConfigMap is generated from. */
export const flagsFile = "flags.env";

const generatedNote = (tier: Tier) =>
  `Generated from environments/${tier.tier}.yaml by scripts/render-observability.ts; do not edit.`;

/** The monitoring objects of `tier`: its ServiceMonitors, then its PrometheusRule. */
export function monitoringObjects(tier: Tier): KubeObject[] {
  const rule = prometheusRule(tier);
  return [...serviceMonitors(tier), ...(rule ? [rule] : [])];
}

/**
 * The overlay files of `tier`, by name relative to k8s/overlays/<tier>/, as they must read.
 * An unmonitored tier gets no monitoring file (kustomize refuses an empty resource).
 */
export function observabilityFiles(tier: Tier): Record<string, string> {
  const objects = monitoringObjects(tier);
  const monitoring = objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n");
  const flags = Object.entries(flagEnvironment(tier)).map(([k, v]) => `${k}=${v}\n`);
  return {
    ...(objects.length > 0 ? { [monitoringFile]: `# ${generatedNote(tier)}\n${monitoring}` } : {}),
    [flagsFile]: `# ${generatedNote(tier)}\n${flags.join("")}`,
  };
}
