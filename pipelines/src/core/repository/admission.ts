/**
 * Whether each overlay's admission policy file is what its tier's config generates, for
 * `tiers validate`: present (and listed in the overlay's `resources:`) exactly for the
 * Kubernetes tiers that require signatures, and equal, character for character, to what
 * core/manifests/admission.ts writes. The rendered-overlay drift check (checkAdmissionDrift)
 * catches the same at deploy; this one names the file without running kustomize.
 */
import type { EnvironmentModel } from "../environment/model.ts";
import { type Problem, rules } from "../environment/problems.ts";
import { admissionFile, admissionFiles } from "../manifests/admission.ts";
import type { OverlayResource } from "../promotion/overlay.ts";

/** What the surface read about one overlay's admission policy. */
export interface AdmissionFacts {
  /** Text of k8s/overlays/<tier>/admission-policy.yaml, by tier, when the file exists. */
  admissionPolicies: Readonly<Record<string, string>>;
  /** `resources:` of each overlay kustomization that parsed, by tier. */
  overlayResources: Readonly<Record<string, readonly OverlayResource[]>>;
}

const regenerate = "run `tiers admission generate`";

/** Every admission policy file that is missing, stale, edited or not included, per tier. */
export function checkAdmissionFiles(
  model: EnvironmentModel,
  facts: AdmissionFacts,
  overlayDir: (tier: string) => string,
): Problem[] {
  const problems: Problem[] = [];
  for (const name of model.order) {
    const tier = model.tiers[name]!;
    if (tier.runtime !== "kubernetes") continue;
    const file = `${overlayDir(name)}/${admissionFile}`;
    const at = (line: number, message: string, where = file): Problem => ({
      file: where,
      line,
      column: line === 0 ? 0 : 1,
      path: "",
      message,
      rule: rules.admissionPolicy,
      tier: name,
    });
    let want: string | undefined;
    try {
      want = admissionFiles(tier)[admissionFile];
    } catch (error) {
      // A key reference cosign cannot use (e.g. aws-sm:) names no key Kyverno could read either.
      problems.push(
        at(
          0,
          `cannot generate the admission policy: ${(error as Error).message}`,
          `environments/${name}.yaml`,
        ),
      );
      continue;
    }
    const got = facts.admissionPolicies[name];
    if (want === undefined) {
      if (got !== undefined) {
        problems.push(
          at(
            1,
            `${name} does not require signatures (signing.required is false), so the cluster has no passage to verify; remove the file (${regenerate} removes it) and its resources: entry`,
          ),
        );
      }
      continue;
    }
    if (got === undefined) {
      problems.push(
        at(
          0,
          `${name} requires signatures, so its overlay needs the admission policy that makes the cluster verify them; ${regenerate}`,
        ),
      );
    } else if (got !== want) {
      const line = firstDifference(got, want);
      problems.push(
        at(
          line,
          `differs from what environments/${name}.yaml (signing, promotion.from) generates, from line ${line}; ${regenerate}`,
        ),
      );
    }
    const resources = facts.overlayResources[name];
    if (resources && !resources.some((r) => r.path === admissionFile)) {
      problems.push(
        at(
          1,
          `resources: does not list ${admissionFile}, so kustomize leaves the admission policy out; add "- ${admissionFile}"`,
          `${overlayDir(name)}/kustomization.yaml`,
        ),
      );
    }
  }
  return problems;
}

/** 1-based line where two texts first differ. */
function firstDifference(a: string, b: string): number {
  const left = a.split("\n");
  const right = b.split("\n");
  let index = 0;
  while (index < left.length && left[index] === right[index]) index++;
  return index + 1;
}
