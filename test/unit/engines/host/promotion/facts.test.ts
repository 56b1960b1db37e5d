/**
 * Fact gathering (engines/host/promotion/facts.ts) on in-memory readers: what the gates judge
 * about a candidate entering staging (from test) — the registry's digest and labels, the
 * passage in git, the test report, a rejection — and the approvals of a tier.
 */
import { describe, expect, it } from "vitest";
import { ociLabel } from "../../../../../pipelines/src/core/artefact.ts";
import { imageRepository } from "../../../../../pipelines/src/core/environment/index.ts";
import type { EvidenceVerifier } from "../../../../../pipelines/src/core/promotion/evidence.ts";
import type { Candidate } from "../../../../../pipelines/src/core/promotion/gates.ts";
import {
  approvalPath,
  passagePath,
  rejectionPath,
  testReportPath,
} from "../../../../../pipelines/src/core/promotion/records.ts";
import {
  approvalsFacts,
  candidateFacts,
} from "../../../../../pipelines/src/engines/host/promotion/facts.ts";
import {
  commitOf,
  digestOf,
  fixtureModel,
  memoryRecords,
  memoryRegistry,
  remoteImage,
  silentRegistry,
  sources,
} from "./memory-sources.ts";

const digest = digestOf("a");
const commit = commitOf("c");

/** A verifier no test here should reach: signatures are not required in these calls. */
const noVerifier: EvidenceVerifier = {
  kind: "local",
  verifySignature: () => Promise.reject(new Error("signature checked though not required")),
  sign: () => Promise.reject(new Error("signed while gathering facts")),
};

async function setup() {
  const model = await fixtureModel();
  const repository = imageRepository(model, "staging", "api");
  const candidate: Candidate = {
    service: "api",
    repository,
    reference: `${repository}@${digest}`,
    digest,
    commit,
  };
  const image = remoteImage(repository, digest, { [ociLabel.revision]: commit });
  return { model, repository, candidate, image };
}

const passage = (repository: string) => ({
  kind: "passage",
  tier: "test",
  digest,
  service: "api",
  repository,
  commit,
  recorded_by: "ci",
  recorded_at: "2026-01-01T00:00:00Z",
  gates: [],
  evidence: { verifier: "local", signer: null, signature: null, annotations: {} },
});

const testReport = (passed: boolean) => ({
  kind: "test-report",
  commit,
  passed,
  summary: passed ? "api passed (run r1)" : "api failed (run r1)",
  recorded_by: "ci",
  recorded_at: "2026-01-01T00:00:00Z",
});

describe("the facts of a candidate entering staging", () => {
  it("reads the digest, labels, passage and test report, and finds no rejection", async () => {
    const { model, repository, candidate, image } = await setup();
    const registry = memoryRegistry({
      [candidate.reference]: image,
      [`${repository}:${commit}`]: image,
    });
    const records = memoryRecords({
      [passagePath("test", digest)]: passage(repository),
      [testReportPath(commit)]: testReport(true),
    });
    const facts = await candidateFacts(
      "staging",
      model,
      sources({ registry, records }),
      noVerifier,
      candidate,
      false,
    );
    expect(facts.previousTier).toBe("test");
    expect(facts.previousIsChainStart).toBe(false);
    expect(facts.registryDigest).toEqual({ ok: true, value: digest });
    expect(facts.labels).toEqual({ ok: true, value: image.labels });
    expect(facts.passage.ok).toBe(true);
    expect(facts.tests).toEqual({
      ok: true,
      value: { passed: true, where: testReportPath(commit), summary: "api passed (run r1)" },
    });
    expect(facts.rejection).toMatchObject({ state: "absent" });
    // The commit tag is asked too: a re-pushed tag would show here.
    expect(registry.asked).toEqual([candidate.reference, `${repository}:${commit}`]);
  });

  it("sees a re-pushed commit tag as a changed digest", async () => {
    const { model, repository, candidate, image } = await setup();
    const other = digestOf("b");
    const registry = memoryRegistry({
      [candidate.reference]: image,
      [`${repository}:${commit}`]: remoteImage(repository, other),
    });
    const facts = await candidateFacts(
      "staging",
      model,
      sources({ registry }),
      noVerifier,
      candidate,
      false,
    );
    expect(facts.registryDigest).toEqual({
      ok: false,
      why: `digest changed: tag ${commit.slice(0, 12)} now resolves to ${other}, the record says ${digest}`,
    });
  });

  it("fails closed when the registry does not answer: no digest, no labels, no passage", async () => {
    const { model, repository, candidate } = await setup();
    const records = memoryRecords({ [passagePath("test", digest)]: passage(repository) });
    const facts = await candidateFacts(
      "staging",
      model,
      sources({ registry: silentRegistry, records }),
      noVerifier,
      candidate,
      false,
    );
    const why = `registry did not answer (${candidate.reference})`;
    expect(facts.registryDigest).toEqual({ ok: false, why });
    expect(facts.labels).toEqual({ ok: false, why });
    expect(facts.passage).toEqual({ ok: false, failure: "digest-changed", why });
  });

  it("says what is missing: no passage record, no test report, no commit label", async () => {
    const { model, candidate, image } = await setup();
    const registry = memoryRegistry({ [candidate.reference]: image });
    const facts = await candidateFacts(
      "staging",
      model,
      sources({ registry }),
      noVerifier,
      candidate,
      false,
    );
    expect(facts.passage).toMatchObject({ ok: false, failure: "missing" });
    expect(facts.tests).toEqual({
      ok: false,
      why: `no test report ${testReportPath(commit)} in git; run \`tiers env test run\` on that commit`,
    });
    const unlabelled = await candidateFacts(
      "staging",
      model,
      sources({ registry }),
      noVerifier,
      { ...candidate, commit: null },
      false,
    );
    expect(unlabelled.tests).toEqual({
      ok: false,
      why: `the image's commit is unknown (no ${ociLabel.revision} label)`,
    });
  });

  it("reports a malformed test report as not ok, naming the file", async () => {
    const { model, candidate, image } = await setup();
    const registry = memoryRegistry({ [candidate.reference]: image });
    const records = memoryRecords({
      [testReportPath(commit)]: "kind: test-report\npassed: maybe\n",
    });
    const facts = await candidateFacts(
      "staging",
      model,
      sources({ registry, records }),
      noVerifier,
      candidate,
      false,
    );
    expect(facts.tests.ok).toBe(false);
    expect(facts.tests.ok ? "" : facts.tests.why).toContain(testReportPath(commit));
  });

  it("finds the rejection of the digest", async () => {
    const { model, candidate, image } = await setup();
    const registry = memoryRegistry({ [candidate.reference]: image });
    const rejection = {
      kind: "rejection",
      digest,
      reason: "leaks memory",
      rejected_by: "ops",
      rejected_at: "2026-01-01T00:00:00Z",
    };
    const records = memoryRecords({ [rejectionPath(digest)]: rejection });
    const facts = await candidateFacts(
      "staging",
      model,
      sources({ registry, records }),
      noVerifier,
      candidate,
      false,
    );
    expect(facts.rejection).toMatchObject({ state: "present", value: rejection });
  });
});

describe("the approvals of a tier", () => {
  it("counts the distinct approvers recorded for each digest, never the actor", async () => {
    const { model: fixture, candidate } = await setup();
    // The fixture's prod asks its CI environment; this test needs a tier that asks records.
    const prod = { ...fixture.tiers.prod!, approvals: { required: 2, source: "record" as const } };
    const model = { ...fixture, tiers: { ...fixture.tiers, prod } };
    const approvers = (names: string[]) => ({
      kind: "approval",
      tier: "prod",
      digest,
      approvals: names.map((by) => ({ by, at: "2026-01-01T00:00:00Z" })),
    });
    const verdict = (names: string[], actor?: string) =>
      approvalsFacts(
        "prod",
        model,
        { records: memoryRecords({ [approvalPath("prod", digest)]: approvers(names) }) },
        [candidate],
        {},
        actor,
      );
    expect((await verdict(["ana", "bo"])).ok).toBe(true);
    expect((await verdict(["ana", "bo"], "ana")).ok).toBe(false);
    expect((await verdict(["ana", "ana"])).ok).toBe(false);
  });

  it("takes a CI environment's approval from the environment argument, no process env faked", async () => {
    const { model, candidate } = await setup();
    expect(model.tiers.prod!.approvals.source).toBe("ci-environment");
    const verdict = (env: Record<string, string>) =>
      approvalsFacts("prod", model, { records: memoryRecords() }, [candidate], env);
    expect((await verdict({ GITHUB_ACTIONS: "true", GITHUB_ENVIRONMENT: "prod" })).ok).toBe(true);
    expect((await verdict({ GITHUB_ACTIONS: "true", GITHUB_ENVIRONMENT: "staging" })).ok).toBe(
      false,
    );
    expect((await verdict({})).ok).toBe(false);
  });
});
