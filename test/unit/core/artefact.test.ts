import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type ArtefactRecord,
  artefactRecordPaths,
  imageBuildArgs,
  imageLabels,
  imageRepository,
  imageTag,
  isPromotableTag,
  parseArtefactRecord,
  readArtefactRecord,
  serializeArtefactRecord,
} from "../../../pipelines/src/core/artefact.ts";
import type { TiersError } from "../../../pipelines/src/core/errors.ts";

const commit = "0123456789abcdef0123456789abcdef01234567";
const revision = {
  commit,
  committedAt: "2026-11-22T01:00:00Z",
  dirty: false,
  source: "https://example.test/tiers.git",
};
const digest = `sha256:${"a".repeat(64)}`;

function record(overrides: Partial<ArtefactRecord> = {}): ArtefactRecord {
  const repository = "127.0.0.1:5000/tiers/api";
  return {
    commit,
    created: "2026-11-22T02:00:00.000Z",
    registry: "127.0.0.1:5000",
    images: { api: { repository, tag: commit, digest, ref: `${repository}@${digest}` } },
    ...overrides,
  };
}

describe("image labels", () => {
  it("carry every OCI label and the project's service and target labels", () => {
    const labels = imageLabels({
      project: "tiers",
      service: "api",
      target: "production",
      revision,
    });
    expect(labels).toEqual({
      "org.opencontainers.image.revision": commit,
      "org.opencontainers.image.source": "https://example.test/tiers.git",
      "org.opencontainers.image.created": "2026-11-22T01:00:00Z",
      "org.opencontainers.image.version": commit,
      "org.opencontainers.image.title": "tiers-api",
      "tiers.service": "api",
      "tiers.target": "production",
    });
  });

  it("mark development images with the dev tier label under the project's prefix", () => {
    const labels = imageLabels({
      project: "acme",
      service: "worker",
      target: "development",
      revision,
    });
    expect(labels["acme.environment"]).toBe("dev");
    expect(labels["acme.target"]).toBe("development");
    expect(labels["tiers.environment"]).toBeUndefined();
  });

  it("never mark production or test images as dev", () => {
    for (const target of ["production", "test"] as const) {
      expect(
        imageLabels({ project: "tiers", service: "api", target, revision }),
      ).not.toHaveProperty("tiers.environment");
    }
  });

  it("flag a dirty tree so the image cannot pass for a release", () => {
    const labels = imageLabels({
      project: "tiers",
      service: "api",
      target: "production",
      revision: { ...revision, dirty: true },
    });
    expect(labels["tiers.dirty"]).toBe("true");
    expect(labels["org.opencontainers.image.version"]).toBe(`${commit}-dirty`);
  });
});

describe("image build arguments", () => {
  it("hands every Dockerfile the base image and the commit, so /version reports the SHA", () => {
    expect(imageBuildArgs({ baseImage: "local/node:22", revision })).toEqual({
      BASE_IMAGE: "local/node:22",
      TIERS_GIT_SHA: commit,
    });
  });
});

describe("image tags", () => {
  it("are the bare SHA only for clean production builds", () => {
    expect(imageTag(commit, "production", false)).toBe(commit);
    expect(imageTag(commit, "development", false)).toBe(`${commit}-development`);
    expect(imageTag(commit, "test", true)).toBe(`${commit}-dirty-test`);
    expect(isPromotableTag(imageTag(commit, "production", false))).toBe(true);
    expect(isPromotableTag(imageTag(commit, "production", true))).toBe(false);
    expect(isPromotableTag("latest")).toBe(false);
  });

  it("live under <registry>/<namespace>/<service>", () => {
    expect(imageRepository("127.0.0.1:5000", "tiers", "api")).toBe("127.0.0.1:5000/tiers/api");
  });
});

describe("artefact record", () => {
  it("round-trips through its text form", () => {
    const text = serializeArtefactRecord(record());
    expect(parseArtefactRecord(text, "x.json")).toEqual(record());
    expect(text.endsWith("\n")).toBe(true);
  });

  it("rejects a ref that does not match repository@digest, naming the field and file", () => {
    const bad = record();
    bad.images.api!.ref = "127.0.0.1:5000/tiers/api:latest";
    const error = (() => {
      try {
        parseArtefactRecord(JSON.stringify(bad), "/r/.tiers/artefacts/x.json");
      } catch (caught) {
        return caught as TiersError;
      }
    })();
    expect(error?.describe()).toMatch(/^\/r\/\.tiers\/artefacts\/x\.json: .*images\.api\.ref/);
  });

  it("rejects a malformed digest, a mutable tag and unknown keys", () => {
    const bad = record();
    bad.images.api!.digest = "sha256:abc";
    expect(() => parseArtefactRecord(JSON.stringify(bad), "f")).toThrow(/digest/);
    const mutable = record();
    mutable.images.api!.tag = "latest";
    expect(() => parseArtefactRecord(JSON.stringify(mutable), "f")).toThrow(/tag/);
    expect(() => parseArtefactRecord(JSON.stringify({ ...record(), extra: 1 }), "f")).toThrow(
      /extra/,
    );
    expect(() => parseArtefactRecord("{", "f")).toThrow(/not valid JSON/);
  });

  it("is read from .tiers/artefacts, and a missing one says how to create it", async () => {
    const root = await mkdtemp(join(tmpdir(), "tiers-artefact-"));
    await expect(readArtefactRecord(root)).rejects.toThrow(/no artefact record for latest/);
    const paths = artefactRecordPaths(root, commit);
    await mkdir(paths.dir, { recursive: true });
    await writeFile(paths.latest, serializeArtefactRecord(record()));
    expect((await readArtefactRecord(root)).images.api?.digest).toBe(digest);
  });
});
