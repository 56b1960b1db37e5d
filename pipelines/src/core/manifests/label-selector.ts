/**
 * Which labelled objects a Kubernetes label selector picks, for checks that must know exactly
 * what a selector reaches (a ServiceMonitor's Services). The semantics are the API's
 * (k8s.io/apimachinery/pkg/labels/selector.go, documented at
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#set-based-requirement):
 * every `matchLabels` pair and every `matchExpressions` requirement must hold; `NotIn` also
 * holds where the key is absent; an empty selector picks everything.
 */

/** A `metav1.LabelSelector` as manifests spell it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

/** True when `labels` satisfy `selector`. An unknown operator matches nothing (fail closed). */
export function selectorMatches(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    const present = Object.hasOwn(labels, key);
    switch (operator) {
      case "In":
        return present && values.includes(labels[key]!);
      case "NotIn":
        return !present || !values.includes(labels[key]!);
      case "Exists":
        return present;
      case "DoesNotExist":
        return !present;
      default:
        return false;
    }
  });
}
