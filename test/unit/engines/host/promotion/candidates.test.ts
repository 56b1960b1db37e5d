import { describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../../../pipelines/src/core/artefact.ts";
import {
  candidatesFromRecord,
  resolveCommitRecord,
} from "../../../../../pipelines/src/engines/host/promotion/candidates.ts";
import type { ArtefactReader } from "../../../../../pipelines/src/engines/host/promotion/sources.ts";

const record = (commit: string) =>
  ({
    commit,
    images: {
      api: {
        repository: "reg/tiers/api",
        ref: `reg/tiers/api@sha256:${"a".repeat(64)}`,
        digest: `sha256:${"a".repeat(64)}`,
      },
    },
  }) as unknown as ArtefactRecord;

/** An in-memory artefact reader: no files, no registry. */
function artefacts(records: ArtefactRecord[]): ArtefactReader {
  return {
    read: async (which) => {
      const found = records.find((r) => r.commit === which);
      if (!found) throw new Error(`no artefact record for ${which}`);
      return found;
    },
    all: async () => records,
  };
}

describe("candidate resolution on in-memory readers", () => {
  it("finds the one record an abbreviated commit names, and refuses an ambiguous one", async () => {
    const sources = { artefacts: artefacts([record("ab".repeat(20)), record("ac".repeat(20))]) };
    expect((await resolveCommitRecord(sources, "abab")).commit).toBe("ab".repeat(20));
    await expect(resolveCommitRecord(sources, "a")).rejects.toThrow(/ambiguous/);
    await expect(resolveCommitRecord(sources, "ff")).rejects.toThrow(/no published artefact/);
  });

  it("turns a record into one candidate per image, and names the services when one is missing", () => {
    const r = record("ab".repeat(20));
    expect(candidatesFromRecord(r, undefined).map((c) => c.service)).toEqual(["api"]);
    expect(() => candidatesFromRecord(r, "worker")).toThrow(/has no image of service "worker"/);
  });
});
