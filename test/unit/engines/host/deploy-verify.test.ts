/**
 * The deploy's fact gathering (engines/host/deploy-verify.ts) on in-memory readers: which
 * records and registry answers it asks for, and that an unreadable record reaches core as
 * invalid, never as absent (issue 10).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type EnvironmentModel,
  loadModel,
} from "../../../../pipelines/src/core/environment/index.ts";
import type { EvidenceVerifier } from "../../../../pipelines/src/core/promotion/evidence.ts";
import { pinVerdicts } from "../../../../pipelines/src/core/promotion/pin-verdict.ts";
import { parseRecord } from "../../../../pipelines/src/core/promotion/records.ts";
import { pinFacts } from "../../../../pipelines/src/engines/host/deploy-verify.ts";
import type {
  RecordReader,
  RegistryReader,
} from "../../../../pipelines/src/engines/host/promotion/sources.ts";
import { repoRoot } from "../../../support/repo.ts";

const digest = `sha256:${"ab".repeat(32)}`;
const hex = digest.replace(":", "-");
let model: EnvironmentModel;
beforeAll(async () => {
  model = await loadModel(join(repoRoot, "test", "fixtures", "promotion-chain"));
});

const passage = `kind: passage
tier: prod
digest: ${digest}
service: api
repository: reg/tiers/api
commit: null
recorded_by: ada
recorded_at: "2026-11-22T00:00:00Z"
gates: []
evidence: { verifier: cosign, signer: null, signature: null }
`;

/** Records from a map of path → text, with the git reader's contract (undefined = absent). */
function memoryRecords(files: Record<string, string>): RecordReader {
  return {
    record: async (schema, path) =>
      files[path] === undefined ? undefined : parseRecord(schema, files[path]!, path),
    files: async () => Object.keys(files),
    pinsAt: async () => undefined,
  };
}
const registry: RegistryReader = {
  inspect: async () => ({ ok: true, value: { digest, labels: {} } as never }),
};
const signed: EvidenceVerifier & { asked: unknown[] } = {
  kind: "cosign",
  asked: [],
  async verifySignature(subject, policy) {
    this.asked.push({ subject, mode: policy.mode });
    return { ok: true, why: "verifies" };
  },
  sign: async () => {
    throw new Error("deploy never signs");
  },
};
const pins = [
  {
    service: "api",
    image: "api",
    repository: "reg/tiers/api",
    digest,
    overlay: "k8s/overlays/prod/kustomization.yaml",
  },
];

describe("deploy fact gathering on in-memory readers", () => {
  it("a recorded, unrejected, signed pin holds; the signature asked is the staging passage's, by prod's policy", async () => {
    const facts = await pinFacts(model, "prod", pins, {
      records: memoryRecords({ [`releases/passages/prod/${hex}.yaml`]: passage }),
      registry,
      verifier: signed,
    });
    expect(pinVerdicts(model, "prod", facts)[0]?.holds).toBe(true);
    expect(signed.asked).toEqual([
      { subject: { tier: "staging", digest, repository: "reg/tiers/api" }, mode: "key" },
    ]);
  });

  it("a rejection record with only rejected_by reaches core as invalid, and the pin does not hold", async () => {
    const facts = await pinFacts(model, "prod", pins, {
      records: memoryRecords({
        [`releases/passages/prod/${hex}.yaml`]: passage,
        [`releases/rejections/${hex}.yaml`]: "rejected_by: mallory\n",
      }),
      registry,
      verifier: signed,
    });
    expect(facts[0]?.rejection?.state).toBe("invalid");
    expect(pinVerdicts(model, "prod", facts)[0]?.why.join()).toMatch(
      /rejections\/sha256-.*malformed/,
    );
  });

  it("an invalid passage record is not 'no passage': the why names the file and the parse error", async () => {
    const facts = await pinFacts(model, "prod", pins, {
      records: memoryRecords({
        [`releases/passages/prod/${hex}.yaml`]: "kind: passage\n  tier: [\n",
      }),
      registry,
      verifier: signed,
    });
    expect(facts[0]?.passage).toMatchObject({ ok: false, failure: "invalid" });
    expect(facts[0]?.passage?.why).toMatch(
      /passage record cannot be read: releases\/passages\/prod\/.*:\d+:\d+/,
    );
  });

  it("a reader that fails (not absent) fails closed", async () => {
    const broken: RecordReader = {
      record: async () => {
        throw new Error("git could not read the object");
      },
      files: async () => [],
      pinsAt: async () => undefined,
    };
    const facts = await pinFacts(model, "prod", pins, {
      records: broken,
      registry,
      verifier: signed,
    });
    expect(pinVerdicts(model, "prod", facts)[0]?.holds).toBe(false);
  });
});
