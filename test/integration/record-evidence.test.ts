/**
 * `tiers record-evidence` on real git and the real `npm sbom`: the step `dagger call publish`
 * runs on a fresh clone of the git remote after pushing (pipelines/src/index.ts publish). The
 * clone is a commit or more ahead of the published one (record-tests committed on top), and the
 * artefact record is placed where the module's toolbox puts it; no registry is needed, the
 * evidence is about the record's digests. No Dagger engine here: the toolbox itself is checked
 * up to that boundary in test/unit/index/release.test.ts.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeArtefactRecord } from "../../pipelines/src/core/artefact.ts";
import { runTiers, snapshotRepo, type TempRepo } from "../support/repo.ts";

let repo: TempRepo;
const registry = "127.0.0.1:5000";
const digestOf = (service: string) => `sha256:${(service === "api" ? "a" : "b").repeat(64)}`;

async function placeRecord(root: string, commit: string): Promise<void> {
  const images = Object.fromEntries(
    ["api", "worker"].map((service) => [
      service,
      {
        repository: `${registry}/tiers/${service}`,
        tag: commit,
        digest: digestOf(service),
        ref: `${registry}/tiers/${service}@${digestOf(service)}`,
      },
    ]),
  );
  await mkdir(join(root, ".tiers", "artefacts"), { recursive: true });
  await writeFile(
    join(root, ".tiers", "artefacts", `${commit}.json`),
    serializeArtefactRecord({ commit, created: "2026-01-01T00:05:00.000Z", registry, images }),
  );
}

beforeAll(async () => {
  repo = await snapshotRepo();
});

/** `tiers record-evidence --commit <the snapshot> …` as the Dagger toolbox runs it. */
const recordEvidence = (...more: string[]) =>
  runTiers(repo.root, ["record-evidence", "--commit", repo.commit, ...more]);

afterAll(async () => {
  await repo?.remove();
});

describe("tiers record-evidence (real git, real npm sbom; the Dagger publish's evidence step)", () => {
  it("refuses a commit with no artefact record, naming the file, and commits nothing", async () => {
    const head = repo.git("rev-parse", "HEAD");
    const result = await recordEvidence();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`no artefact record of ${repo.commit}`);
    expect(result.stderr).toContain(`.tiers/artefacts/${repo.commit}.json`);
    expect(repo.git("rev-parse", "HEAD")).toBe(head);
  });

  it("commits the SBOM and the dagger engine's SLSA provenance of each digest, on a clone ahead of the commit", async () => {
    await placeRecord(repo.root, repo.commit);
    // What the clone looks like after record-tests: one record commit on top of the published one.
    await mkdir(join(repo.root, "releases", "tests"), { recursive: true });
    await writeFile(join(repo.root, "releases", "tests", "unrelated.yaml"), "kind: note\n");
    const ahead = repo.commitAll("a record committed after the published commit");
    const result = await recordEvidence(
      "--engine",
      "dagger",
      "--started-on",
      "2026-01-01T00:01:00Z",
      "--finished-on",
      "2026-01-01T00:04:00Z",
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(repo.git("rev-parse", "HEAD~1")).toBe(ahead);
    expect(repo.git("log", "-1", "--format=%s")).toMatch(
      new RegExp(`^evidence ${repo.commit.slice(0, 12)}: SBOM and SLSA provenance of api, worker$`),
    );
    expect(result.stdout).toMatch(/not attested: TIERS_COSIGN_KEY is not set/);
    for (const service of ["api", "worker"]) {
      const hex = digestOf(service).replace("sha256:", "");
      const bom = JSON.parse(repo.git("show", `HEAD:releases/sboms/sha256-${hex}.cdx.json`)) as {
        bomFormat: string;
        metadata: { tools: Array<{ vendor: string; name: string }> };
      };
      expect(bom.bomFormat).toBe("CycloneDX");
      expect(bom.metadata.tools[0]).toMatchObject({ vendor: "npm", name: "cli" });
      const provenance = JSON.parse(
        repo.git("show", `HEAD:releases/provenance/sha256-${hex}.json`),
      ) as {
        buildDefinition: {
          externalParameters: Record<string, unknown>;
          resolvedDependencies: Array<{ name: string; digest: Record<string, string> }>;
        };
        runDetails: { builder: { id: string }; metadata: Record<string, string> };
      };
      expect(provenance.runDetails.builder.id).toBe("urn:tiers:engine:dagger");
      expect(provenance.runDetails.metadata).toMatchObject({
        startedOn: "2026-01-01T00:01:00.000Z",
        finishedOn: "2026-01-01T00:04:00.000Z",
      });
      // The published commit, not the clone's HEAD, is the build's source.
      expect(provenance.buildDefinition.externalParameters).toMatchObject({
        source: { commit: repo.commit },
        service,
        dockerfile: `services/${service}/Dockerfile`,
        target: "production",
        buildArgs: { TIERS_GIT_SHA: repo.commit },
      });
      const lock = provenance.buildDefinition.resolvedDependencies.find(
        (d) => d.name === "package-lock.json",
      );
      expect(lock?.digest.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(repo.git("status", "--porcelain")).toBe("");
  });

  it("fails closed when the checkout's lock file is not the published commit's, and records nothing", async () => {
    const lock = join(repo.root, "package-lock.json");
    await writeFile(lock, `${(await readFile(lock, "utf8")).trimEnd()}\n\n`);
    const changed = repo.commitAll("a lock file change after the published commit");
    const result = await recordEvidence("--engine", "dagger");
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/package-lock\.json differ from [0-9a-f]{40}'s/);
    expect(result.stderr).toContain("nothing was recorded");
    expect(repo.git("rev-parse", "HEAD")).toBe(changed);
  });

  it("refuses an unknown engine and a malformed time before reading anything", async () => {
    const engine = await recordEvidence("--engine", "k8s");
    expect(engine.code).not.toBe(0);
    expect(engine.stderr).toContain('--engine must be host or dagger, got "k8s"');
    const time = await recordEvidence("--started-on", "yesterday");
    expect(time.code).not.toBe(0);
    expect(time.stderr).toContain('--started-on must be an ISO 8601 time, got "yesterday"');
  });
});
