/**
 * Rendered Kubernetes manifests of a tier: parsing, schema validation, tier policies, agreement
 * with the tier config, blue-green colours and the deploy plan. Pure: callers hand in the text
 * `kubectl kustomize` rendered and the merged tier. See docs/k8s.md.
 */
import type { Tier } from "../environment/schema.ts";
import { checkAdmissionDrift } from "./admission.ts";
import type { KubeObject } from "./documents.ts";
import { checkDrift, type DriftOptions } from "./drift.ts";
import type { ManifestFinding } from "./findings.ts";
import { checkObservabilityDrift } from "./observability-drift.ts";
import { checkPolicies } from "./policy.ts";
import { validateSchemas } from "./schema.ts";

export * from "./admission.ts";
export * from "./admission-schema.ts";
export * from "./blue-green.ts";
export * from "./documents.ts";
export * from "./drift.ts";
export * from "./findings.ts";
export * from "./label-selector.ts";
export * from "./migration.ts";
export * from "./naming.ts";
export * from "./observability-drift.ts";
export * from "./pins.ts";
export * from "./plan.ts";
export * from "./policy.ts";
export * from "./schema.ts";

/** The overlay directory of a tier, relative to the repository root. */
export function overlayDir(tier: string): string {
  return `k8s/overlays/${tier}`;
}

/** Every schema, policy and drift finding of a rendered overlay, in that order. */
export function checkRendered(
  objects: readonly KubeObject[],
  tier: Tier,
  options: DriftOptions = {},
): ManifestFinding[] {
  return [
    ...validateSchemas(objects).map(({ rule, object, path, message }) => ({
      rule,
      object,
      path,
      message,
    })),
    ...checkPolicies(objects),
    ...checkDrift(objects, tier, options),
    ...checkObservabilityDrift(objects, tier),
    ...checkAdmissionDrift(objects, tier),
  ];
}
