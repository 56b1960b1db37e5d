/**
 * `tiers publish` against the real local registry (127.0.0.1:5000): digests and labels are
 * checked with skopeo (a registry client), the record is validated, and a registry that is
 * down is reported by name and leaves no record. The tags it pushed (<namespace>/<service>:<the
 * snapshot's commit>, a commit only these tests make) are deleted from the registry afterwards,
 * and the cleanup helper is held to never deleting an image another tag still names.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArtefactRecord } from "../../pipelines/src/core/artefact.ts";
import { docker, freePort, requirePrerequisites } from "../support/docker.ts";
import {
  listTags,
  manifestDigest,
  type PushedTags,
  remainingTags,
  removePushedTags,
} from "../support/registry.ts";
import { runTiers, snapshotRepo, type TempRepo } from "../support/repo.ts";

let repo: TempRepo;
const registry = "127.0.0.1:5000";
const services = ["api", "worker"];
/** Tags of other commits (a user's `tiers publish`, other runs) before this file pushed. */
const othersBefore = new Map<string, string[]>();

/** What this file pushes: each service's repository, tagged with the snapshot's commit. */
function pushedByThisFile(): PushedTags[] {
  return services.map((service) => ({
    registry,
    repository: `tiers/${service}`,
    tags: repo ? [repo.commit] : [],
  }));
}

beforeAll(async () => {
  await requirePrerequisites();
  repo = await snapshotRepo();
  for (const service of services) {
    const tags = await listTags(registry, `tiers/${service}`);
    othersBefore.set(
      service,
      tags.filter((tag) => tag !== repo.commit),
    );
  }
});

afterAll(async () => {
  // Also after a failure halfway: whatever of ours got pushed goes (idempotent).
  if (repo) await removePushedTags(pushedByThisFile());
  await repo?.remove();
});

const skopeo = (ref: string) =>
  JSON.parse(
    execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], {
      encoding: "utf8",
    }),
  ) as { Digest: string; Labels: Record<string, string> };

describe("tiers publish (real registry)", () => {
  it("reports a registry that is down by name and records nothing", async () => {
    const port = await freePort();
    const result = await runTiers(repo.root, ["publish", "--registry", `127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`registry 127\\.0\\.0\\.1:${port} is unreachable`));
    expect(result.stderr).toMatch(/nothing was pushed or recorded/);
    expect(existsSync(join(repo.root, ".tiers", "artefacts"))).toBe(false);
  });

  it("reports a registry that answers but refuses the push, and records nothing", async () => {
    // A registry API that is up (GET /v2/ answers) but refuses every upload as unauthorised, as
    // a registry does to a client without credentials. (A 403 makes docker retry for ~50 s.)
    const server = createServer((request, response) => {
      if (request.method === "GET" && request.url === "/v2/") {
        response.writeHead(200, { "Content-Type": "application/json" }).end("{}");
        return;
      }
      response.writeHead(401, { "Content-Type": "application/json" }).end(
        JSON.stringify({
          errors: [{ code: "UNAUTHORIZED", message: "requested access to the resource is denied" }],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await runTiers(repo.root, ["publish", "--registry", `127.0.0.1:${port}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`registry 127\\.0\\.0\\.1:${port} refused the push`),
      );
      expect(result.stderr).toMatch(/nothing was recorded/);
      expect(existsSync(join(repo.root, ".tiers", "artefacts"))).toBe(false);
    } finally {
      server.close();
    }
  });

  it("pushes every service and records the digest the registry serves", async () => {
    const result = await runTiers(repo.root, ["publish"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const record = await readArtefactRecord(repo.root);
    expect(record.commit).toBe(repo.commit);
    expect(record.registry).toBe("127.0.0.1:5000");
    expect(Object.keys(record.images).sort()).toEqual(["api", "worker"]);
    for (const [service, image] of Object.entries(record.images)) {
      const remote = skopeo(`${image.repository}:${repo.commit}`);
      expect(image.digest).toBe(remote.Digest);
      expect(image.ref).toBe(`127.0.0.1:5000/tiers/${service}@${remote.Digest}`);
      // The digest resolves, and the labels travel with the image to the registry.
      const byDigest = skopeo(image.ref);
      expect(byDigest.Labels["org.opencontainers.image.revision"]).toBe(repo.commit);
      expect(byDigest.Labels["tiers.service"]).toBe(service);
      expect(byDigest.Labels["tiers.target"]).toBe("production");
      expect(byDigest.Labels).not.toHaveProperty("tiers.environment");
    }
    // The commit's record and latest.json are the same validated document.
    expect(await readArtefactRecord(repo.root, repo.commit)).toEqual(record);
    const files = await readdir(join(repo.root, ".tiers", "artefacts"));
    expect(files.sort()).toEqual([`${repo.commit}.json`, "latest.json"]);
    // Supply-chain evidence (issue 15): one commit on top of the published one holds, per
    // digest, the SBOM the real `npm sbom` made from the lock file and the SLSA v1 provenance.
    expect(repo.git("rev-parse", "HEAD~1")).toBe(repo.commit);
    expect(repo.git("log", "-1", "--format=%s")).toMatch(
      /^evidence [0-9a-f]{12}: SBOM and SLSA provenance of api, worker$/,
    );
    expect(result.stdout).toMatch(/not attested: TIERS_COSIGN_KEY is not set/);
    for (const [service, image] of Object.entries(record.images)) {
      const hex = image.digest.replace("sha256:", "");
      const bom = JSON.parse(repo.git("show", `HEAD:releases/sboms/sha256-${hex}.cdx.json`)) as {
        bomFormat: string;
        metadata: { tools: Array<{ vendor: string; name: string }> };
        components: Array<{ name: string; scope?: string }>;
      };
      expect(bom.bomFormat).toBe("CycloneDX");
      expect(bom.metadata.tools[0]).toMatchObject({ vendor: "npm", name: "cli" });
      expect(bom.components.filter((c) => c.scope === "required").map((c) => c.name)).toEqual(
        expect.arrayContaining(["pg", "pg-types"]),
      );
      const provenance = JSON.parse(
        repo.git("show", `HEAD:releases/provenance/sha256-${hex}.json`),
      ) as {
        buildDefinition: {
          externalParameters: Record<string, unknown>;
          resolvedDependencies: Array<{
            name: string;
            uri: string;
            digest: Record<string, string>;
          }>;
        };
        runDetails: { builder: { id: string } };
      };
      expect(provenance.runDetails.builder.id).toBe("urn:tiers:engine:host");
      expect(provenance.buildDefinition.externalParameters).toMatchObject({
        source: { commit: repo.commit },
        service,
        dockerfile: `services/${service}/Dockerfile`,
        target: "production",
        buildArgs: { TIERS_GIT_SHA: repo.commit },
      });
      const base = provenance.buildDefinition.resolvedDependencies.find(
        (d) => d.name === "base-image",
      );
      expect(base?.uri).toMatch(/^docker-image:\/\/.+/);
    }
    expect(repo.git("status", "--porcelain")).toBe("");
  });

  it("leaves the previous record untouched when a later publish fails", async () => {
    const before = await readArtefactRecord(repo.root);
    const port = await freePort();
    const result = await runTiers(repo.root, ["publish", "--registry", `127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(await readArtefactRecord(repo.root)).toEqual(before);
  });

  it("deletes the tags it pushed from the registry and leaves every other tag alone", async () => {
    const report = await removePushedTags(pushedByThisFile());
    expect(report.kept).toEqual([]);
    expect(report.removed.map((r) => r.repository).sort()).toEqual(["tiers/api", "tiers/worker"]);
    expect(await remainingTags(pushedByThisFile())).toEqual([]);
    for (const service of services) {
      const after = new Set(await listTags(registry, `tiers/${service}`));
      expect(after.has(repo.commit)).toBe(false);
      for (const tag of othersBefore.get(service) ?? []) expect(after.has(tag), tag).toBe(true);
    }
  });
});

describe("registry cleanup (test/support/registry.ts, real registry)", () => {
  it("never deletes an image that a tag it did not create also names", async () => {
    // One image, two tags: "ours" (what a test pushed) and "theirs" (say, a user's). Deleting
    // ours by digest would take theirs with it, so the helper must keep both and say why.
    // A fixed test-only repository: the catalog keeps listing it empty (see registry.ts).
    const repository = "tiers-registry-test/busybox";
    const run = randomBytes(4).toString("hex");
    const [ours, theirs] = [`ours-${run}`, `theirs-${run}`];
    const refs = [ours, theirs].map((tag) => `${registry}/${repository}:${tag}`);
    try {
      for (const ref of refs) {
        docker("tag", "local/busybox", ref);
        docker("push", "-q", ref);
      }
      const digest = await manifestDigest(registry, repository, ours);
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const report = await removePushedTags([{ registry, repository, tags: [ours] }]);
      expect(report.removed).toEqual([]);
      expect(report.kept).toEqual([{ repository, tag: ours, digest, sharedWith: [theirs] }]);
      expect((await listTags(registry, repository)).sort()).toEqual([ours, theirs]);
      // Named together, both are ours: the image goes and no tag is left.
      const both = [{ registry, repository, tags: [ours, theirs] }];
      expect((await removePushedTags(both)).removed).toEqual([
        { repository, tags: [ours, theirs], digest },
      ]);
      expect(await remainingTags(both)).toEqual([]);
    } finally {
      await removePushedTags([{ registry, repository, tags: [ours, theirs] }]);
      for (const ref of refs) docker("image", "rm", ref);
    }
  });
});
