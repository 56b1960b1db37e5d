/**
 * `tiers publish` against the real local registry (127.0.0.1:5000): digests and labels are
 * checked with skopeo (a registry client), the record is validated, and a registry that is
 * down is reported by name and leaves no record.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArtefactRecord } from "../../pipelines/src/core/artefact.ts";
import { freePort, requirePrerequisites } from "../support/docker.ts";
import { runTiers, snapshotRepo, type TempRepo } from "../support/repo.ts";

let repo: TempRepo;

beforeAll(async () => {
  await requirePrerequisites();
  repo = await snapshotRepo();
});

afterAll(async () => {
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
  });

  it("leaves the previous record untouched when a later publish fails", async () => {
    const before = await readArtefactRecord(repo.root);
    const port = await freePort();
    const result = await runTiers(repo.root, ["publish", "--registry", `127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(await readArtefactRecord(repo.root)).toEqual(before);
  });
});
