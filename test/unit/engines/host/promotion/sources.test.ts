/**
 * The typed record read of every record kind through the injected readers (issue 10): present,
 * absent, or invalid with the file and why — an unreadable record is never "absent".
 */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  MissingArtefactRecord,
  parseArtefactRecord,
} from "../../../../../pipelines/src/core/artefact.ts";
import {
  approvalSchema,
  historySchema,
  parseRecord,
  passageSchema,
  rejectionSchema,
  testReportSchema,
} from "../../../../../pipelines/src/core/promotion/records.ts";
import {
  type ArtefactReader,
  type RecordReader,
  readArtefact,
  readRecord,
} from "../../../../../pipelines/src/engines/host/promotion/sources.ts";

const digest = `sha256:${"ab".repeat(32)}`;
const commit = "c".repeat(40);
const at = '"2026-11-22T00:00:00Z"';

/** Records from a map of path → text, with the git reader's contract (undefined = absent). */
function memory(files: Record<string, string>): RecordReader {
  return {
    record: async (schema, path) =>
      files[path] === undefined ? undefined : parseRecord(schema, files[path]!, path),
    files: async () => Object.keys(files),
    pinsAt: async () => undefined,
  };
}

const kinds = [
  [
    "passage",
    passageSchema,
    `kind: passage\ntier: prod\ndigest: ${digest}\nservice: api\nrepository: r/api\ncommit: null\nrecorded_by: ada\nrecorded_at: ${at}\ngates: []\nevidence: { verifier: local, signer: null, signature: null }\n`,
  ],
  [
    "rejection",
    rejectionSchema,
    `kind: rejection\ndigest: ${digest}\nreason: leaks\nrejected_by: ada\nrejected_at: ${at}\n`,
  ],
  [
    "approval",
    approvalSchema,
    `kind: approval\ntier: prod\ndigest: ${digest}\napprovals: [{ by: ada, at: ${at} }]\n`,
  ],
  [
    "test report",
    testReportSchema,
    `kind: test-report\ncommit: ${commit}\npassed: true\nsummary: ok\nrecorded_by: ci\nrecorded_at: ${at}\n`,
  ],
  [
    "history",
    historySchema,
    `kind: promotion\ntier: prod\nat: ${at}\nby: ada\ncommit: null\npins: []\n`,
  ],
] as ReadonlyArray<readonly [string, z.ZodType<unknown>, string]>;

describe("readRecord: one typed result for every record kind", () => {
  for (const [name, schema, valid] of kinds) {
    it(`${name}: present, absent, invalid YAML (located), incomplete`, async () => {
      const file = `releases/${name}.yaml`;
      expect((await readRecord(memory({ [file]: valid }), schema, file)).state).toBe("present");
      expect(await readRecord(memory({}), schema, file)).toEqual({ state: "absent", file });
      const yaml = await readRecord(memory({ [file]: "kind: x\n  a: [\n" }), schema, file);
      expect(yaml).toMatchObject({
        state: "invalid",
        file,
        where: expect.stringMatching(/:\d+:\d+$/),
      });
      const partial = await readRecord(memory({ [file]: "rejected_by: mallory\n" }), schema, file);
      expect(partial).toMatchObject({
        state: "invalid",
        file,
        why: expect.stringMatching(/malformed/),
      });
    });
  }

  it("a reader that fails is invalid, not absent", async () => {
    const broken = { record: async () => Promise.reject(new Error("git: bad object")) };
    expect(await readRecord(broken, rejectionSchema, "r.yaml")).toMatchObject({
      state: "invalid",
      why: "git: bad object",
    });
  });
});

describe("readArtefact: absent only for a MissingArtefactRecord", () => {
  const reader = (read: ArtefactReader["read"]): Pick<ArtefactReader, "read"> => ({ read });
  it("artefact: present, absent, invalid", async () => {
    const text = JSON.stringify({
      commit,
      created: "2026-11-22T00:00:00Z",
      registry: "reg",
      images: { api: { repository: "reg/api", tag: commit, digest, ref: `reg/api@${digest}` } },
    });
    const record = parseArtefactRecord(text, "x.json");
    expect(
      (
        await readArtefact(
          reader(async () => record),
          commit,
        )
      ).state,
    ).toBe("present");
    const absent = await readArtefact(
      reader(async () => Promise.reject(new MissingArtefactRecord("no artefact record"))),
      commit,
    );
    expect(absent).toEqual({ state: "absent", file: `.tiers/artefacts/${commit}.json` });
    const broken = await readArtefact(
      reader(async () => parseArtefactRecord("{ not json", `.tiers/artefacts/${commit}.json`)),
      commit,
    );
    expect(broken).toMatchObject({ state: "invalid", file: `.tiers/artefacts/${commit}.json` });
  });
});
