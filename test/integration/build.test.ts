/**
 * `tiers build` on the real Docker engine (BuildKit): production images tagged with the git
 * SHA and labelled; building again without a change builds nothing; a dirty tree is tagged so
 * it can never pass for a release. Labels are read back with docker inspect here and with a
 * registry client (skopeo) in publish.test.ts.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, requirePrerequisites } from "../support/docker.ts";
import { listTags } from "../support/registry.ts";
import { runTiers, snapshotRepo, type TempRepo } from "../support/repo.ts";

let repo: TempRepo;
let first: Awaited<ReturnType<typeof runTiers>>;
const services = ["api", "worker"];
const ref = (service: string, tag: string) => `127.0.0.1:5000/tiers/${service}:${tag}`;
const labelsOf = (image: string) =>
  JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Labels}}", image)) as Record<
    string,
    string
  >;

beforeAll(async () => {
  await requirePrerequisites();
  repo = await snapshotRepo();
  // Built once for the whole file (and reused by later files: same tree, same SHA, same tag).
  first = await runTiers(repo.root, ["build"]);
});

afterAll(async () => {
  await repo?.remove();
});

describe("tiers build (real Docker engine)", () => {
  it("tags each service's production image with the commit SHA", () => {
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (const service of services) {
      expect(docker("image", "inspect", "--format", "{{.Id}}", ref(service, repo.commit))).toMatch(
        /^sha256:/,
      );
    }
  });

  it("labels them with the OCI labels and the project's service and target labels", () => {
    for (const service of services) {
      const labels = labelsOf(ref(service, repo.commit));
      expect(labels).toMatchObject({
        "org.opencontainers.image.revision": repo.commit,
        "org.opencontainers.image.created": "2026-01-01T00:00:00.000Z",
        "org.opencontainers.image.version": repo.commit,
        "org.opencontainers.image.title": `tiers-${service}`,
        "tiers.service": service,
        "tiers.target": "production",
      });
      expect(labels["org.opencontainers.image.source"]).toBeTruthy();
      expect(labels).not.toHaveProperty("tiers.environment");
      expect(labels).not.toHaveProperty("tiers.dirty");
    }
  });

  it("builds nothing the second time: same image IDs, every build reported unchanged", async () => {
    const before = services.map((s) =>
      docker("image", "inspect", "--format", "{{.Id}}", ref(s, repo.commit)),
    );
    // A docker that logs each call: a no-change build asks the engine over its socket
    // (docker-api.ts engineImage), so it starts no docker process at all.
    const shimDir = await mkdtemp(join(tmpdir(), "tiers-docker-shim-"));
    const calls = join(shimDir, "calls.log");
    await writeFile(
      join(shimDir, "docker"),
      `#!/bin/sh\necho "$*" >> ${calls}\nexec /usr/bin/docker "$@"\n`,
      { mode: 0o755 },
    );
    const again = await runTiers(repo.root, ["build"], {
      env: {
        TIERS_DOCKER_BIN: join(shimDir, "docker"),
        DOCKER_HOST: "unix:///var/run/docker.sock",
      },
    });
    const dockerCalls = await readFile(calls, "utf8").catch(() => "");
    await rm(shimDir, { recursive: true, force: true });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(dockerCalls).toBe("");
    expect(again.stdout).not.toMatch(/→ build /);
    expect(again.stdout.match(/\(unchanged\)/g)).toHaveLength(services.length);
    const after = services.map((s) =>
      docker("image", "inspect", "--format", "{{.Id}}", ref(s, repo.commit)),
    );
    expect(after).toEqual(before);
  });

  it("labels development images with the dev tier label", async () => {
    const dev = await runTiers(repo.root, ["build", "--service", "api", "--target", "development"]);
    expect(dev.code, dev.stdout + dev.stderr).toBe(0);
    const labels = labelsOf(ref("api", `${repo.commit}-development`));
    expect(labels["tiers.environment"]).toBe("dev");
    expect(labels["tiers.target"]).toBe("development");
  });

  it("refuses an unknown service or target with a usage error (exit 2)", async () => {
    const service = await runTiers(repo.root, ["build", "--service", "nope"]);
    expect(service.code).toBe(2);
    expect(service.stderr).toMatch(/unknown service nope[\s\S]*api, worker/);
    const target = await runTiers(repo.root, ["build", "--target", "release"]);
    expect(target.code).toBe(2);
  });

  it("tags a dirty tree <sha>-dirty and refuses to publish it", async () => {
    await writeFile(join(repo.root, "UNCOMMITTED.md"), "work in progress\n");
    try {
      const dirty = await runTiers(repo.root, ["build", "--service", "api"]);
      expect(dirty.code, dirty.stdout + dirty.stderr).toBe(0);
      expect(dirty.stderr).toMatch(/uncommitted changes/);
      const labels = labelsOf(ref("api", `${repo.commit}-dirty`));
      expect(labels["tiers.dirty"]).toBe("true");
      expect(labels["org.opencontainers.image.version"]).toBe(`${repo.commit}-dirty`);
      const publish = await runTiers(repo.root, ["publish"]);
      expect(publish.code).toBe(1);
      expect(publish.stderr).toMatch(/uncommitted changes; only commits are published/);
      // Refused before any push: the registry holds no dirty tag (build never pushes either).
      for (const service of services) {
        const tags = await listTags("127.0.0.1:5000", `tiers/${service}`);
        expect(tags).not.toContain(`${repo.commit}-dirty`);
      }
    } finally {
      repo.git("clean", "-fq", "UNCOMMITTED.md");
    }
  });

  it("builds the services side by side; one failing build is named, the others still finish", async () => {
    // The worker's production stage ends in a failing step; the API's Dockerfile is untouched.
    await appendFile(join(repo.root, "services/worker/Dockerfile"), "RUN exit 3\n");
    const broken = repo.commitAll("the worker's image cannot be built");
    // Snapshot commits are deterministic, so an engine that ran this file before (a reused CI
    // machine) may still hold api at this tag, and the build would reuse it instead of building.
    const removeBrokenImages = () =>
      docker("image", "rm", "--force", ref("api", broken), ref("worker", broken));
    removeBrokenImages();
    try {
      const build = await runTiers(repo.root, ["build"], { env: { TIERS_BUILD_CONCURRENCY: "2" } });
      expect(build.code, build.stdout + build.stderr).toBe(1);
      expect(build.stderr).toMatch(/build of worker \(production\) failed/);
      expect(build.stderr).toMatch(/hint: api built fine/);
      // Both started before either ended: the builds ran concurrently.
      const lines = build.stdout.split("\n");
      const started = (s: string) => lines.findIndex((l) => l.includes(`→ build ${s} `));
      const ended = (s: string) => lines.findIndex((l) => l.includes(`✓ build ${s} `));
      expect(started("worker")).toBeGreaterThan(-1);
      expect(started("worker")).toBeLessThan(ended("api"));
      expect(docker("image", "inspect", "--format", "{{.Id}}", ref("api", broken))).toMatch(
        /^sha256:/,
      );
      expect(() => docker("image", "inspect", ref("worker", broken))).toThrow();
    } finally {
      removeBrokenImages();
      repo.git("reset", "-q", "--hard", repo.commit);
    }
  });
});
