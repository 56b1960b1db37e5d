/**
 * Doctor asks the real Docker engine over its API socket, and hears what the docker CLI hears:
 * the same server version, the same images present with the same labels, a missing image as
 * missing. And when DOCKER_HOST is not a unix socket the CLI is asked instead, so an engine that
 * does not answer there is still reported unusable.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadMachineSettings } from "../../pipelines/src/engines/host/machine.ts";
import { probeMachine } from "../../pipelines/src/engines/host/probe.ts";
import { docker, requirePrerequisites } from "../support/docker.ts";
import { repoRoot } from "../support/repo.ts";

beforeAll(async () => {
  await requirePrerequisites();
});

describe("doctor over the Engine API", () => {
  it("reports the server version and images as `docker version` and `docker image inspect` do", async () => {
    const settings = await loadMachineSettings(repoRoot);
    const missing = `local/tiers-doctor-absent-${process.pid}:none`;
    const probe = await probeMachine({
      settings: { ...settings, busyboxImage: missing },
      env: { ...process.env, DOCKER_HOST: "unix:///var/run/docker.sock" },
    });
    expect(probe.engine).toEqual({
      answers: true,
      serverVersion: docker("version", "--format", "{{.Server.Version}}"),
    });
    const base = probe.images.find((image) => image.role === "base")!;
    const labels = JSON.parse(
      docker("image", "inspect", "--format", "{{json .Config.Labels}}", settings.baseImage),
    ) as Record<string, string> | null;
    expect(base.present).toBe(true);
    expect(base.recipe).toBe(labels?.["tiers.recipe"]);
    expect(probe.images.find((image) => image.role === "busybox")).toMatchObject({
      ref: missing,
      present: false,
    });
  });

  it("asks the docker CLI for an endpoint that is not a unix socket, and reports it unusable", async () => {
    const settings = await loadMachineSettings(repoRoot);
    const probe = await probeMachine({
      settings,
      env: { ...process.env, DOCKER_HOST: "tcp://127.0.0.1:1" },
      timeoutMs: 20_000,
    });
    expect(probe.engine.answers).toBe(false);
    // The docker CLI's own words for the endpoint it could not reach.
    expect(probe.engine.problem).toContain("tcp://127.0.0.1:1");
    expect(probe.images.every((image) => image.present === undefined)).toBe(true);
  });
});
