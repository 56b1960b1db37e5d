/**
 * `tiers build` asks the real Docker engine over its API socket whether each image is already
 * built (engines/host/build.ts findImage, docker-api.ts engineImage), and hears what
 * `docker image inspect` prints: docker/cli's image inspect is the client's ImageInspect, the
 * same `GET /images/{name}/json`. An engine that cannot answer there is asked through the CLI,
 * whose failure is the error, and a hung one costs its time limit, never forever.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findImage } from "../../pipelines/src/engines/host/build.ts";
import { loadMachineSettings } from "../../pipelines/src/engines/host/machine.ts";
import { parseImageInspect } from "../../pipelines/src/tools/docker.ts";
import { docker, requirePrerequisites } from "../support/docker.ts";
import { repoRoot } from "../support/repo.ts";

const socketEnv = { ...process.env, DOCKER_HOST: "unix:///var/run/docker.sock" };
let dir: string;
let hung: Server;

beforeAll(async () => {
  await requirePrerequisites();
  dir = mkdtempSync(join(tmpdir(), "tiers-find-image-"));
  // Accepts connections, reads the request and never answers: a daemon that hangs. (Reading
  // lets the server see each client hang up, so closing it does not wait on them.)
  hung = createServer((connection) => connection.resume());
  await new Promise<void>((resolve) => hung.listen(join(dir, "hung.sock"), resolve));
});
afterAll(async () => {
  await new Promise((resolve) => hung?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("findImage over the Engine API", () => {
  it("finds an image as `docker image inspect` reads it, and an absent one as absent", async () => {
    const { baseImage } = await loadMachineSettings(repoRoot);
    const found = await findImage(repoRoot, baseImage, socketEnv);
    expect(found).toEqual(
      parseImageInspect(docker("image", "inspect", "--format", "{{json .}}", baseImage)),
    );
    expect(found?.id).toMatch(/^sha256:/);
    expect(await findImage(repoRoot, `local/tiers-absent-${process.pid}:none`, socketEnv)).toBe(
      undefined,
    );
  });

  it("asks the CLI when the socket is absent, and its failure is the error", async () => {
    const env = { ...process.env, DOCKER_HOST: `unix://${join(dir, "absent.sock")}` };
    await expect(findImage(repoRoot, "local/busybox:latest", env)).rejects.toThrow(
      /Cannot connect to the Docker daemon/i,
    );
  });

  it("gives a hung engine its time limit on the socket and on the CLI, never forever", async () => {
    const env = {
      ...process.env,
      DOCKER_HOST: `unix://${join(dir, "hung.sock")}`,
      TIERS_TIMEOUT_DOCKER_ENGINE: "300ms",
      TIERS_TIMEOUT_DOCKER: "2s",
    };
    const started = Date.now();
    await expect(findImage(repoRoot, "local/busybox:latest", env)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 30_000);
});
