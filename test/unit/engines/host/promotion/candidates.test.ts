import { describe, expect, it } from "vitest";
/**
 * Candidate resolution (engines/host/promotion/candidates.ts) on in-memory readers: no files,
 * no registry, no git. The integration tests cover the same paths on the real tools.
 */
import { type ArtefactRecord, ociLabel } from "../../../../../pipelines/src/core/artefact.ts";
import { imageRepository } from "../../../../../pipelines/src/core/environment/index.ts";
import { unpromotedDigest } from "../../../../../pipelines/src/core/manifests/pins.ts";
import { passagePath } from "../../../../../pipelines/src/core/promotion/records.ts";
import {
  candidatesForDigest,
  candidatesFromRecord,
  resolveCandidates,
  resolveCommitRecord,
  waitingCandidates,
} from "../../../../../pipelines/src/engines/host/promotion/candidates.ts";
import type { ArtefactReader } from "../../../../../pipelines/src/engines/host/promotion/sources.ts";
import {
  commitOf,
  digestOf,
  fixtureModel,
  memoryArtefacts,
  memoryRecords,
  memoryRegistry,
  pin,
  remoteImage,
  sources,
} from "./memory-sources.ts";

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

describe("what waits below a tier, read through in-memory sources", () => {
  const api = digestOf("a");
  const worker = digestOf("b");
  const passage = (tier: string, digest: string, service: string, commit: string, at: string) => ({
    kind: "passage",
    tier,
    digest,
    service,
    repository: `127.0.0.1:5000/tiers-promotion-test/${service}`,
    commit,
    recorded_by: "ci",
    recorded_at: at,
    gates: [],
    evidence: { verifier: "local", signer: null, signature: null, annotations: {} },
  });

  it("offers prod the digests pinned in staging, with the commit from staging's passages", async () => {
    const model = await fixtureModel();
    const repo = imageRepository(model, "prod", "api");
    const records = memoryRecords(
      { [passagePath("staging", api)]: passage("staging", api, "api", commitOf("c"), "t1") },
      {
        staging: [
          pin(0, "tiers/api", repo, api),
          pin(1, "tiers/worker", imageRepository(model, "prod", "worker"), unpromotedDigest),
        ],
      },
    );
    const found = await waitingCandidates({ tier: "prod" }, model, sources({ records }));
    // The unpromoted placeholder is not a candidate.
    expect(found).toEqual([
      {
        service: "api",
        repository: repo,
        reference: `${repo}@${api}`,
        digest: api,
        commit: commitOf("c"),
      },
    ]);
  });

  it("says the tier below has nothing pinned, naming its overlay", async () => {
    const model = await fixtureModel();
    const records = memoryRecords({}, { staging: [] });
    await expect(waitingCandidates({ tier: "prod" }, model, sources({ records }))).rejects.toThrow(
      expect.objectContaining({
        message: "nothing is pinned in staging yet, so nothing waits to enter prod",
        where: "k8s/overlays/staging/kustomization.yaml",
      }),
    );
  });

  it("offers staging the newest commit that passed test, from its artefact record when published", async () => {
    const model = await fixtureModel();
    const records = memoryRecords({
      [passagePath("test", api)]: passage("test", api, "api", commitOf("c"), "2026-01-02"),
      [passagePath("test", worker)]: passage("test", worker, "worker", commitOf("d"), "2026-01-01"),
    });
    const fromPassages = await waitingCandidates({ tier: "staging" }, model, sources({ records }));
    expect(fromPassages.map((c) => [c.service, c.digest, c.commit])).toEqual([
      ["api", api, commitOf("c")],
    ]);
    const published = record(commitOf("c"));
    const fromRecord = await waitingCandidates(
      { tier: "staging" },
      model,
      sources({ records, artefacts: artefacts([published]) }),
    );
    expect(fromRecord).toEqual(candidatesFromRecord(published, undefined));
  });

  it("falls back to the latest published artefact, and refuses when there is nothing at all", async () => {
    const model = await fixtureModel();
    const latest = record(commitOf("e"));
    const found = await waitingCandidates(
      { tier: "staging" },
      model,
      sources({ artefacts: memoryArtefacts([], latest) }),
    );
    expect(found.map((c) => c.commit)).toEqual([commitOf("e")]);
    await expect(waitingCandidates({ tier: "staging" }, model, sources())).rejects.toThrow(
      "nothing waits to enter staging: test has no passage and nothing is published",
    );
  });
});

describe("a bare digest, resolved through in-memory sources", () => {
  const digest = digestOf("f");

  it("asks the registry which service repository holds it, and takes the commit from its label", async () => {
    const model = await fixtureModel();
    const worker = imageRepository(model, "staging", "worker");
    const registry = memoryRegistry({
      [`${worker}@${digest}`]: remoteImage(worker, digest, { [ociLabel.revision]: commitOf("9") }),
    });
    const found = await candidatesForDigest(
      { root: "/nowhere", tier: "staging" },
      model,
      sources({ registry }),
      digest,
    );
    expect(found).toEqual([
      {
        service: "worker",
        repository: worker,
        reference: `${worker}@${digest}`,
        digest,
        commit: commitOf("9"),
      },
    ]);
  });

  it("refuses, naming every repository asked, when none holds it", async () => {
    const model = await fixtureModel();
    const registry = memoryRegistry();
    await expect(
      candidatesForDigest(
        { root: "/nowhere", tier: "staging" },
        model,
        sources({ registry }),
        digest,
      ),
    ).rejects.toThrow(`no service repository in the registry holds ${digest}`);
    expect(registry.asked).toEqual(
      Object.keys(model.tiers.staging!.services).map(
        (s) => `${imageRepository(model, "staging", s)}@${digest}`,
      ),
    );
  });

  it("refuses two ways of naming what to promote at once (a usage error)", async () => {
    const model = await fixtureModel();
    await expect(
      resolveCandidates(
        { root: "/nowhere", tier: "staging", digest, commit: "abc" },
        model,
        sources(),
      ),
    ).rejects.toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
