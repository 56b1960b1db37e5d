import { describe, expect, it } from "vitest";
import { selectorMatches } from "../../../../pipelines/src/core/manifests/label-selector.ts";

// Semantics of k8s.io/apimachinery/pkg/labels (selector.go, Requirement.Matches), as documented
// at https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#set-based-requirement
describe("label selectors as the Kubernetes API reads them", () => {
  const live = { "app.kubernetes.io/name": "api" };
  const preview = { "app.kubernetes.io/name": "api", "app.kubernetes.io/component": "preview" };

  it("matchLabels: every pair must be present with that value; an empty selector picks all", () => {
    expect(selectorMatches({ matchLabels: { "app.kubernetes.io/name": "api" } }, preview)).toBe(
      true,
    );
    expect(selectorMatches({ matchLabels: { "app.kubernetes.io/name": "worker" } }, live)).toBe(
      false,
    );
    expect(selectorMatches({}, {})).toBe(true);
  });

  it("NotIn also holds where the key is absent; In needs the key", () => {
    const notPreview = {
      matchExpressions: [
        { key: "app.kubernetes.io/component", operator: "NotIn" as const, values: ["preview"] },
      ],
    };
    expect(selectorMatches(notPreview, live)).toBe(true);
    expect(selectorMatches(notPreview, preview)).toBe(false);
    const inPreview = {
      matchExpressions: [
        { key: "app.kubernetes.io/component", operator: "In" as const, values: ["preview"] },
      ],
    };
    expect(selectorMatches(inPreview, live)).toBe(false);
    expect(selectorMatches(inPreview, preview)).toBe(true);
  });

  it("Exists and DoesNotExist look at the key only; an unknown operator matches nothing", () => {
    const key = "app.kubernetes.io/component";
    expect(selectorMatches({ matchExpressions: [{ key, operator: "Exists" }] }, preview)).toBe(
      true,
    );
    expect(selectorMatches({ matchExpressions: [{ key, operator: "DoesNotExist" }] }, live)).toBe(
      true,
    );
    const unknown = { matchExpressions: [{ key, operator: "Gt" }] } as unknown as Parameters<
      typeof selectorMatches
    >[0];
    expect(selectorMatches(unknown, preview)).toBe(false);
  });
});
