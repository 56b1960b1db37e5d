import { describe, expect, it } from "vitest";
import { unpromotedDigest } from "../../../../pipelines/src/core/manifests/pins.ts";
import {
  chooseRollbackTarget,
  rollbackChanges,
} from "../../../../pipelines/src/core/promotion/rollback.ts";

const d = (n: string) => `sha256:${n.repeat(64)}`;
const overlay = "k8s/overlays/staging/kustomization.yaml";

describe("rollback target (pure, on an in-memory pin history)", () => {
  const history = [
    { commit: "c3".repeat(20), pins: { api: d("3") } },
    { commit: "c2".repeat(20), pins: { api: d("2") } },
    { commit: "c1".repeat(20), pins: { api: unpromotedDigest } },
  ];

  it("restores the newest earlier live pins that differ from the current ones", () => {
    const target = chooseRollbackTarget({
      tier: "staging",
      overlay,
      current: { api: d("3") },
      history,
    });
    expect(target.commit).toBe("c2".repeat(20));
  });

  it("restores the pins that held a given digest, and refuses one never pinned", () => {
    const at = { tier: "staging", overlay, current: { api: d("3") }, history };
    expect(chooseRollbackTarget({ ...at, to: d("2") }).pins).toEqual({ api: d("2") });
    expect(() => chooseRollbackTarget({ ...at, to: d("9") })).toThrow(/was never pinned/);
  });

  it("refuses when only the current pins or the placeholder are in the history", () => {
    expect(() =>
      chooseRollbackTarget({
        tier: "staging",
        overlay,
        current: { api: d("2") },
        history: history.slice(1),
      }),
    ).toThrow(/no earlier pins/);
  });

  it("moves each pinned image to the target's digest", () => {
    const changes = rollbackChanges(
      [{ index: 0, line: 1, name: "api", newName: "reg/tiers/api", digest: d("3") }],
      { commit: "c2".repeat(20), pins: { api: d("2") } },
      () => "api",
    );
    expect(changes).toEqual([
      { service: "api", image: "api", repository: "reg/tiers/api", from: d("3"), to: d("2") },
    ]);
  });
});
