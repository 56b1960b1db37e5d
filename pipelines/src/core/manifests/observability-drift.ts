/**
 * Agreement between a rendered overlay's observability objects and the merged tier: the
 * ServiceMonitors and the PrometheusRule kustomize renders carry the specs the core functions
 * derive from the tier (core/observability/kubernetes.ts), and the `flags` ConfigMap holds
 * exactly the tier's flag values. The overlay files are generated, so drift means someone
 * edited a generated file or the config changed without `scripts/render-observability.ts`.
 */
import { isDeepStrictEqual } from "node:util";
import type { Tier } from "../environment/schema.ts";
import { monitoringObjects } from "../observability/kubernetes.ts";
import { flagEnvironment } from "../observability/runtime-environment.ts";
import { type KubeObject, objectId } from "./documents.ts";
import type { ManifestFinding } from "./findings.ts";
import { type LabelSelector, selectorMatches } from "./label-selector.ts";
import { serviceResource } from "./naming.ts";

const regenerate = "run scripts/render-observability.ts to regenerate the overlay";

/** Every observability disagreement between `objects` (rendered) and `tier`. */
export function checkObservabilityDrift(
  objects: readonly KubeObject[],
  tier: Tier,
): ManifestFinding[] {
  const findings: ManifestFinding[] = [];
  const prefix = `${tier.project}-${tier.tier}-`;
  const wanted = monitoringObjects(tier);
  const rendered = objects.filter((o) => ["ServiceMonitor", "PrometheusRule"].includes(o.kind));
  for (const want of wanted) {
    const name = `${prefix}${want.metadata.name}`;
    const got = rendered.find((o) => o.kind === want.kind && o.metadata.name === name);
    if (!got) {
      findings.push({
        rule: "drift/monitoring",
        object: `overlay ${tier.tier}`,
        path: "",
        message: `no ${want.kind} "${name}": features.monitoring is on; ${regenerate}`,
      });
    } else if (!isDeepStrictEqual(got.spec, want.spec)) {
      findings.push({
        rule: "drift/monitoring",
        object: objectId(got),
        path: "spec",
        message: `differs from what environments/${tier.tier}.yaml says (observability, alerting); ${regenerate}`,
      });
    }
    if (got && want.kind === "ServiceMonitor") {
      findings.push(
        ...checkMonitorSelects(objects, got, serviceResource(tier, want.metadata.name)),
      );
    }
  }
  for (const got of rendered) {
    if (
      wanted.some((w) => w.kind === got.kind && `${prefix}${w.metadata.name}` === got.metadata.name)
    )
      continue;
    findings.push({
      rule: "drift/monitoring",
      object: objectId(got),
      path: "",
      message: `is not derived from the tier config${tier.features.monitoring ? "" : " (features.monitoring is off)"}; ${regenerate}`,
    });
  }

  const flagsName = `${prefix}flags`;
  const flags = objects.find(
    (o) => o.kind === "ConfigMap" && o.metadata.name.startsWith(flagsName),
  );
  const want = flagEnvironment(tier);
  if (!flags) {
    findings.push({
      rule: "drift/flags",
      object: `overlay ${tier.tier}`,
      path: "",
      message: `no ConfigMap "${flagsName}-<hash>" with the tier's flags; ${regenerate}`,
    });
  } else {
    const data = (flags.data ?? {}) as Record<string, string>;
    for (const key of new Set([...Object.keys(want), ...Object.keys(data)])) {
      if (data[key] === want[key]) continue;
      findings.push({
        rule: "drift/flags",
        object: objectId(flags),
        path: `data.${key}`,
        message:
          want[key] === undefined
            ? "is not a flag of the tier"
            : `is ${JSON.stringify(data[key] ?? null)}, the tier config says ${JSON.stringify(want[key])}`,
      });
    }
  }
  return findings;
}

/**
 * A ServiceMonitor must pick exactly its service's live Service among the rendered Services
 * (its namespace's, which is where Prometheus Operator looks by default). A second match, such
 * as a blue-green preview Service, makes Prometheus scrape the idle colour as live traffic, and
 * the same pods twice whenever both Services pick one colour.
 */
function checkMonitorSelects(
  objects: readonly KubeObject[],
  monitor: KubeObject,
  live: string,
): ManifestFinding[] {
  const selector = ((monitor.spec as { selector?: LabelSelector } | undefined)?.selector ??
    {}) as LabelSelector;
  const picked = objects
    .filter((o) => o.kind === "Service" && selectorMatches(selector, o.metadata.labels ?? {}))
    .map((o) => o.metadata.name)
    .sort();
  if (picked.length === 1 && picked[0] === live) return [];
  return [
    {
      rule: "drift/monitoring",
      object: objectId(monitor),
      path: "spec.selector",
      message: `selects ${picked.length ? picked.map((n) => `Service/${n}`).join(", ") : "no Service"}; it must select only Service/${live} (another match is scraped as a second copy of the service)`,
    },
  ];
}
