/**
 * Rollback planning (engines/host/promotion/rollback.ts, planRollback) on an in-memory overlay
 * history: which earlier pins are restored, and the refusals. The rollback commit itself is
 * covered on real git by the integration tests.
 */
import { describe, expect, it } from "vitest";
import { imageRepository } from "../../../../../pipelines/src/core/environment/index.ts";
import { unpromotedDigest } from "../../../../../pipelines/src/core/manifests/pins.ts";
import type { OverlayPin } from "../../../../../pipelines/src/core/promotion/overlay.ts";
import { rejectionPath } from "../../../../../pipelines/src/core/promotion/records.ts";
import type { PinHistoryEntry } from "../../../../../pipelines/src/engines/host/history.ts";
import {
  type PinHistoryReader,
  planRollback,
} from "../../../../../pipelines/src/engines/host/promotion/rollback.ts";
import {
  commitOf,
  digestOf,
  fixtureModel,
  historyEntry,
  memoryRecords,
  pin,
} from "./memory-sources.ts";

const [d1, d2, d3] = [digestOf("1"), digestOf("2"), digestOf("3")];
const head = commitOf("f");

/** The overlay's history, newest first, each commit with its pins (image name → digest). */
function history(
  model: Awaited<ReturnType<typeof fixtureModel>>,
  entries: Array<[commit: string, api: string]>,
  records: Record<string, object> = {},
): PinHistoryReader {
  const pinsOf = (api: string): OverlayPin[] => [
    pin(0, "tiers/api", imageRepository(model, "staging", "api"), api),
  ];
  const log: PinHistoryEntry[] = entries.map(([c, api]) => historyEntry(c, { "tiers/api": api }));
  const byCommit = new Map(entries.map(([c, api]) => [c, pinsOf(api)]));
  const rejections = memoryRecords(records);
  return {
    pinsAt: async (_tier, rev = "HEAD") => byCommit.get(rev === "HEAD" ? head : rev),
    pinHistory: async () => log,
    resolve: async (rev) => (byCommit.has(rev) ? rev : undefined),
    record: rejections.record,
  } as PinHistoryReader;
}

describe("planning a rollback on an in-memory overlay history", () => {
  it("restores the newest earlier pins that differ from the current ones", async () => {
    const model = await fixtureModel();
    const repo = history(model, [
      [head, d3],
      [commitOf("e"), d3],
      [commitOf("d"), d2],
      [commitOf("c"), d1],
    ]);
    const { target, changes } = await planRollback({ tier: "staging" }, model, repo, head);
    expect(target).toMatchObject({ commit: commitOf("d"), pins: { "tiers/api": d2 } });
    expect(changes).toEqual([
      {
        service: "api",
        image: "tiers/api",
        repository: imageRepository(model, "staging", "api"),
        from: d3,
        to: d2,
      },
    ]);
  });

  it("goes back to a named digest, or to the pins of a named overlay commit", async () => {
    const model = await fixtureModel();
    const repo = history(model, [
      [head, d3],
      [commitOf("d"), d2],
      [commitOf("c"), d1],
    ]);
    const toDigest = await planRollback({ tier: "staging", to: d1 }, model, repo, head);
    expect(toDigest.target.commit).toBe(commitOf("c"));
    const toCommit = await planRollback({ tier: "staging", to: commitOf("d") }, model, repo, head);
    expect(toCommit.changes.map((c) => c.to)).toEqual([d2]);
  });

  it("refuses a target that was rejected, naming the rejection record", async () => {
    const model = await fixtureModel();
    const repo = history(
      model,
      [
        [head, d3],
        [commitOf("d"), d2],
      ],
      {
        [rejectionPath(d2)]: {
          kind: "rejection",
          digest: d2,
          reason: "corrupts orders",
          rejected_by: "ops",
          rejected_at: "2026-01-01T00:00:00Z",
        },
      },
    );
    await expect(planRollback({ tier: "staging" }, model, repo, head)).rejects.toThrow(
      expect.objectContaining({
        message: `refusing to roll staging back to ${d2}: it was rejected (corrupts orders)`,
        where: rejectionPath(d2),
      }),
    );
  });

  it("refuses when there is nothing earlier, only the placeholder, or an unknown --to", async () => {
    const model = await fixtureModel();
    const only = history(model, [[head, d3]]);
    await expect(planRollback({ tier: "staging" }, model, only, head)).rejects.toThrow(
      "staging has no earlier pins to roll back to",
    );
    const placeholder = history(model, [
      [head, d3],
      [commitOf("c"), unpromotedDigest],
    ]);
    await expect(
      planRollback({ tier: "staging", to: commitOf("c") }, model, placeholder, head),
    ).rejects.toThrow(/are the unpromoted placeholder/);
    await expect(planRollback({ tier: "staging", to: "nope" }, model, only, head)).rejects.toThrow(
      "nope is neither a digest nor a commit that has k8s/overlays/staging/kustomization.yaml",
    );
  });
});
