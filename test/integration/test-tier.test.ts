/**
 * 🜁 `tiers env test run` / `clean` on the real Docker engine: an isolated, labelled
 * environment whose exit code is the tests' result, a report file, and zero containers,
 * networks and volumes left behind — after success, after failing tests, after SIGTERM, and
 * after SIGKILL followed by `tiers env test clean`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMachineSettings } from "../../pipelines/src/engines/host/machine.ts";
import type { TestTierReport } from "../../pipelines/src/engines/host/test-tier.ts";
import {
  allVolumes,
  docker,
  requirePrerequisites,
  resourcesWithLabels,
} from "../support/docker.ts";
import { runTiers, snapshotRepo, spawnTiers, type TempRepo } from "../support/repo.ts";

let repo: TempRepo;
const testTier = { "tiers.tier": "test" };
const nothing = { containers: [], networks: [], volumes: [] };

beforeAll(async () => {
  await requirePrerequisites();
  repo = await snapshotRepo();
  // Test images are built once here (by tag), so every run below only starts containers.
  const built = await runTiers(repo.root, ["build", "--target", "test"]);
  if (built.code !== 0)
    throw new Error(`building test images failed:\n${built.stdout}${built.stderr}`);
});

afterAll(async () => {
  await runTiers(repo.root, ["env", "test", "clean"]);
  await repo?.remove();
});

async function reportOf(stdout: string): Promise<TestTierReport> {
  const file = /report: (\S+\.json)/.exec(stdout)?.[1];
  if (!file) throw new Error(`no report path in output:\n${stdout}`);
  return JSON.parse(await readFile(file, "utf8")) as TestTierReport;
}

/**
 * Resolves once a container of the run that tiers process `pid` owns exists (the run is
 * mid-way), returns its run id. By owner, since other runs may share the Docker engine.
 */
async function runStarted(pid: number | undefined, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const out = docker(
      "ps",
      "--filter",
      "label=tiers.tier=test",
      "--filter",
      `label=tiers.owner=${hostname()}:${pid}`,
      "--format",
      '{{.Label "tiers.run"}}',
    );
    if (out) return out.split("\n")[0]!;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("no test-tier container appeared");
}

describe("tiers env test run (real Docker engine)", () => {
  it("runs every service's tests in an isolated environment, reports, and leaves nothing", async () => {
    const volumesBefore = allVolumes();
    const result = await runTiers(repo.root, ["env", "test", "run"]);
    const report = await reportOf(result.stdout);
    expect(report.services.map((s) => s.service).sort()).toEqual(["api", "worker"]);
    // Exit code = the tests' result.
    expect(result.code, result.stdout + result.stderr).toBe(report.outcome === "passed" ? 0 : 1);
    expect(report.outcome, result.stdout).toBe("passed");
    expect(report.composeProject).toMatch(/^tiers-test-[0-9a-f]{8}$/);
    expect(report.durations.setup).toBeGreaterThan(0);
    expect(report.durations.teardown).toBeGreaterThan(0);
    expect(report.teardown.removed.networks.length).toBeGreaterThanOrEqual(0);
    // Logs streamed with the test marker, prefixed by service.
    expect(result.stdout).toMatch(/^🜁 api │ /m);
    // The API's container loaded migrations and fixtures with the project's schema runner ...
    expect(result.stdout).toMatch(/^🜁 api │ .*migrations: \d+ applied/m);
    expect(result.stdout).toMatch(/^🜁 api │ .*fixtures loaded: 001_jobs\.sql/m);
    // ... and its fixture contract test ran against that shared database (not skipped).
    const api = report.services.find((s) => s.service === "api")?.tests;
    expect(api?.files).toContainEqual({
      file: "test/integration/fixtures-contract.test.ts",
      project: "integration",
      outcome: "passed",
      tests: 3,
      failed: 0,
      skipped: 0,
    });
    // Real scrapes in the test tier: each service's suite starts the service in its test
    // container against the tier's PostgreSQL, drives traffic and scrapes /metrics over HTTP
    // (request counts and latency; the worker's queue depth and a real lease expiry).
    for (const service of ["api", "worker"]) {
      expect(
        report.services.find((s) => s.service === service)?.tests?.files,
        `${service}: test/integration/service.test.ts ran in the tier and passed`,
      ).toContainEqual(
        expect.objectContaining({
          file: "test/integration/service.test.ts",
          project: "integration",
          outcome: "passed",
          failed: 0,
        }),
      );
    }
    for (const service of report.services) {
      expect(service.tests?.failed, service.service).toBe(0);
      expect(service.tests?.passed, service.service).toBeGreaterThan(0);
    }
    // This run's resources (other runs may share the engine).
    expect(resourcesWithLabels({ ...testTier, "tiers.run": report.id })).toEqual(nothing);
    expect(resourcesWithLabels({ "com.docker.compose.project": report.composeProject })).toEqual(
      nothing,
    );
    expect([...allVolumes()].filter((v) => !volumesBefore.has(v))).toEqual([]);
  });

  it("exits 1 when a test fails, and still tears everything down", async () => {
    const failing = join(
      repo.root,
      "services",
      "worker",
      "test",
      "unit",
      "zz-deliberately-failing.test.ts",
    );
    await writeFile(
      failing,
      'import { expect, it } from "vitest";\nit("fails on purpose", () => expect(1).toBe(2));\n',
    );
    repo.commitAll("a failing test");
    try {
      const result = await runTiers(repo.root, ["env", "test", "run", "--service", "worker"]);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      const report = await reportOf(result.stdout);
      expect(report.outcome).toBe("failed");
      expect(report.services).toEqual([
        expect.objectContaining({ service: "worker", outcome: "failed" }),
      ]);
      // The report names the failing file, read from the runner's own output.
      expect(report.services[0]?.tests?.failed).toBe(1);
      expect(report.services[0]?.tests?.files).toContainEqual(
        expect.objectContaining({
          file: "test/unit/zz-deliberately-failing.test.ts",
          outcome: "failed",
          failed: 1,
        }),
      );
      expect(resourcesWithLabels({ ...testTier, "tiers.run": report.id })).toEqual(nothing);
    } finally {
      repo.git("reset", "-q", "--hard", repo.commit);
    }
  });

  it.each([
    { signal: "SIGINT" as const, times: 1, code: 130 },
    { signal: "SIGTERM" as const, times: 2, code: 143 },
  ])(
    "tears everything down on $signal ×$times mid-run and exits $code",
    async ({ signal, times, code }) => {
      const child = spawnTiers(repo.root, ["env", "test", "run"]);
      let output = "";
      const collect = (c: Buffer) => {
        output += c;
      };
      child.stdout.on("data", collect);
      child.stderr.on("data", collect);
      const exited = new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
      const run = await runStarted(child.pid);
      child.kill(signal);
      // A second signal (an impatient Ctrl-C) must not cut the teardown short.
      for (let i = 1; i < times; i++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        child.kill(signal);
      }
      expect(await exited, output).toBe(code);
      expect(output).toMatch(new RegExp(`${signal}: stopping; tearing everything down`));
      if (times > 1) expect(output).toMatch(new RegExp(`${signal} again: still tearing down`));
      expect(resourcesWithLabels({ ...testTier, "tiers.run": run })).toEqual(nothing);
      expect((await reportOf(output)).outcome).toBe("interrupted");
    },
  );

  it("after SIGKILL, `tiers env test clean` finds the leftovers by label and removes them", async () => {
    const volumesBefore = allVolumes();
    const child = spawnTiers(repo.root, ["env", "test", "run"]);
    const exited = new Promise((resolve) => child.on("close", resolve));
    const run = await runStarted(child.pid);
    // While its tiers process lives, clean leaves the run alone (it tears itself down).
    const early = await runTiers(repo.root, ["env", "test", "clean"]);
    expect(early.stdout).toMatch(
      new RegExp(`left run ${run} alone: its tiers process \\S+:${child.pid} is still running`),
    );
    expect(
      resourcesWithLabels({ ...testTier, "tiers.run": run }).containers.length,
    ).toBeGreaterThan(0);
    // Kill the whole process group, as a CI runner cancelling the job does: nothing can clean up.
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    expect(
      resourcesWithLabels({ ...testTier, "tiers.run": run }).containers.length,
    ).toBeGreaterThan(0);
    const clean = await runTiers(repo.root, ["env", "test", "clean"]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/removed container tiers-test-/);
    expect(clean.stdout).toMatch(/removed \d+ container\(s\), 1 network\(s\), 0 volume\(s\)/);
    expect(resourcesWithLabels({ ...testTier, "tiers.run": run })).toEqual(nothing);
    expect([...allVolumes()].filter((v) => !volumesBefore.has(v))).toEqual([]);
    const again = await runTiers(repo.root, ["env", "test", "clean"]);
    expect(again.stdout).toMatch(/nothing to clean/);
  });

  it("leaves a run another host started alone (a shared engine), and removes it when named", async () => {
    // No pid on this host can say whether a tiers process on another host still runs it.
    const run = `elsewhere${process.pid}`;
    const name = `tiers-test-elsewhere-${process.pid}`;
    const { busyboxImage } = await loadMachineSettings(repo.root);
    docker(
      "run",
      "-d",
      "--name",
      name,
      ...["--label", "tiers.tier=test", "--label", `tiers.run=${run}`],
      ...["--label", "tiers.owner=another-host.example:1"],
      busyboxImage,
      "sleep",
      "300",
    );
    try {
      const plain = await runTiers(repo.root, ["env", "test", "clean"]);
      expect(plain.code, plain.stdout + plain.stderr).toBe(0);
      expect(plain.stdout).toContain(
        `left run ${run} alone: it was started on another host (another-host.example:1)`,
      );
      expect(resourcesWithLabels({ ...testTier, "tiers.run": run }).containers).toHaveLength(1);
      const named = await runTiers(repo.root, ["env", "test", "clean", "--run", run]);
      expect(named.stdout).toMatch(/removed 1 container\(s\)/);
      expect(resourcesWithLabels({ ...testTier, "tiers.run": run })).toEqual(nothing);
    } finally {
      docker("rm", "--force", name);
    }
  });
});
