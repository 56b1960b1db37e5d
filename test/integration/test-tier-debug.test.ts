/**
 * 🜁 Debugging a failed test-tier stage on the host, on the real Docker engine and
 * docker-compose: `tiers env test run --interactive` under a real pseudo-terminal (util-linux
 * `script`, as the dev shell test does) opens a shell in the failed service's container, a
 * command typed there reads the container's environment, and the shell's exit tears everything
 * down; `--keep-on-failure` keeps the stack and prints exec / logs / clean-up commands, each run
 * here as printed; `--interactive` without a terminal is refused before anything starts; and
 * the report keeps every service's full log (bounded, with a note) under `.tiers/reports/`.
 *
 * The failing suite is a fixture (test/fixtures/failing-suite/Dockerfile) put over the worker
 * of a copy of test/fixtures/repo, never the shipped sample.
 */
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestTierReport } from "../../pipelines/src/engines/host/test-tier.ts";
import {
  allVolumes,
  composeProjectResources,
  removeComposeProject,
  requirePrerequisites,
  resourcesWithLabels,
} from "../support/docker.ts";
import { repoRoot, runTiers, snapshotRepo, type TempRepo } from "../support/repo.ts";
import { runInTerminal, runTiersInTerminal } from "../support/terminal.ts";

let repo: TempRepo;
const nothing = { containers: [], networks: [], volumes: [] };
const projects: string[] = [];
// The locally provisioned PostgreSQL (no registry pulls) and a small per-service log bound, so
// the failing suite's 300 lines are cut and the note shows.
const env = {
  TIERS_POSTGRES_IMAGE: process.env.TIERS_POSTGRES_IMAGE ?? "local/postgres:15-bookworm",
  TIERS_LIMIT_REPORT_LOG_BYTES: "4096",
};
const run = ["env", "test", "run", "--service", "worker"];
const project = "debugfixture";

beforeAll(async () => {
  await requirePrerequisites();
  repo = await snapshotRepo(join(repoRoot, "test", "fixtures", "repo"));
  await copyFile(
    join(repoRoot, "test", "fixtures", "failing-suite", "Dockerfile"),
    join(repo.root, "services", "worker", "Dockerfile"),
  );
  // Its own project name, so its labels (`<project>.tier`, `<project>.run`) and compose
  // projects are its own: another test's `tiers env test clean` on this machine never sees
  // them, and nothing here depends on the name the fixture ships with.
  const base = join(repo.root, "environments", "base.yaml");
  const text = await readFile(base, "utf8");
  if (!/^project: \S+$/m.test(text)) throw new Error(`no project line in ${base}`);
  await writeFile(base, text.replace(/^project: \S+$/m, `project: ${project}`));
  repo.commitAll("the worker's suite fails");
  const built = await runTiers(repo.root, ["build", "--target", "test", "--service", "worker"], {
    env,
  });
  if (built.code !== 0)
    throw new Error(`building the fixture failed:\n${built.stdout}${built.stderr}`);
});

afterAll(async () => {
  for (const project of projects) removeComposeProject(project);
  await repo?.remove();
});

/** Notes the compose project a run printed, so afterAll removes it even when a test failed. */
function seen(output: string): string {
  for (const match of output.matchAll(/compose project (\S+-test-[0-9a-f]+)/g)) {
    projects.push(match[1]!);
  }
  return output;
}

/** The report a run printed the path of. */
async function reportOf(output: string): Promise<TestTierReport> {
  const file = /report: (\S+\.json)/.exec(output)?.[1];
  if (!file) throw new Error(`no report path in output:\n${output}`);
  return JSON.parse(await readFile(file, "utf8")) as TestTierReport;
}

/** Nothing of the run remains: no container, network or volume by compose's or tiers' label. */
function expectNothingLeft(report: TestTierReport, volumesBefore: Set<string>) {
  expect(composeProjectResources(report.composeProject)).toEqual(nothing);
  expect(resourcesWithLabels({ [`${project}.run`]: report.id })).toEqual(nothing);
  expect([...allVolumes()].filter((v) => !volumesBefore.has(v))).toEqual([]);
}

/** The report names every service's full log; the suite's is bounded with a note. */
async function expectLogs(report: TestTierReport) {
  expect(report.logs?.map((log) => log.service).sort()).toEqual(["postgres", "worker"]);
  const worker = report.logs!.find((log) => log.service === "worker")!;
  expect(worker.file).toBe(`.tiers/reports/test-${report.id}/worker.log`);
  expect(worker.truncated, JSON.stringify(report.logs)).toBe(true);
  expect(worker.bytes).toBeGreaterThan(4096);
  const text = await readFile(join(repo.root, worker.file), "utf8");
  expect(Buffer.byteLength(text)).toBeLessThan(4096 + 400);
  expect(text.split("\n")[0]).toMatch(
    /^\[tiers: truncated: the log of worker is \d+ bytes; a report keeps 4096 per service \(TIERS_LIMIT_REPORT_LOG_BYTES\)/,
  );
  // The start (setup) and the end (the failure) survive; the middle is cut, and says so.
  expect(text, JSON.stringify(text.slice(0, 1500))).toContain("setup line 0 of the failing suite");
  expect(text).toMatch(/\[tiers: \d+ line\(s\), \d+ bytes omitted here\]/);
  expect(text).toContain("Tests  1 failed (1)");
  const postgres = await readFile(
    join(repo.root, report.logs!.find((log) => log.service === "postgres")!.file),
    "utf8",
  );
  expect(postgres).toMatch(/database system is ready to accept connections/);
}

describe("debugging a failed test-tier stage (real Docker engine, docker-compose, pty)", () => {
  it("--interactive without a terminal is refused before anything is built or started", async () => {
    const result = await runTiers(repo.root, [...run, "--interactive"], { env });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toMatch(/tiers env test run --interactive needs a terminal/);
    expect(result.stderr).toMatch(/--keep-on-failure/);
    expect(result.stdout).not.toMatch(/test run [0-9a-f]{8}/);
    expect(resourcesWithLabels({ [`${project}.tier`]: "test" })).toEqual(nothing);
    const both = await runTiers(repo.root, [...run, "--interactive", "--keep-on-failure"], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--interactive and --keep-on-failure exclude each other/);
  });

  it("--interactive opens a shell in the failed service's container and tears down on exit (real pty)", async () => {
    const volumesBefore = allVolumes();
    const session = await runTiersInTerminal(repo.root, [...run, "--interactive"], {
      env,
      input: 'echo "tier=[$TIERS_TIER] image=[$TIERS_FAILING_SUITE]"; exit 4',
      timeoutMs: 240_000,
    });
    seen(session.output);
    expect(session.typed, session.output).toBe(true);
    const lines = session.output.split(/\r?\n|\r/);
    // The shell expanded the container's variables (compose's environment and the image's
    // ENV): the typed line itself only holds `$TIERS_TIER`.
    expect(lines, session.output).toContain("tier=[test] image=[in-the-container]");
    expect(session.output).toMatch(
      new RegExp(`re-attach \\(worker\\): docker-compose --project-name ${project}-test-`),
    );
    expect(session.output).toMatch(/clean up: automatic when the shell exits/);
    expect(session.output).toMatch(/shell in worker exited \(4\): tearing down/);
    // Exit code = the tests' result, not the shell's.
    expect(session.code, session.output).toBe(1);
    const report = await reportOf(session.output);
    expect(report.outcome).toBe("failed");
    expect(report.services).toEqual([
      expect.objectContaining({ service: "worker", outcome: "failed", exitCode: 1 }),
    ]);
    expect(report.teardown.kept).toBeUndefined();
    await expectLogs(report);
    expectNothingLeft(report, volumesBefore);
  });

  it("--keep-on-failure keeps the stack; the printed exec, logs and clean-up commands work as printed", async () => {
    const volumesBefore = allVolumes();
    const result = await runTiers(repo.root, [...run, "--keep-on-failure"], {
      env,
      timeoutMs: 240_000,
    });
    const output = seen(result.stdout + result.stderr);
    expect(result.code, output).toBe(1);
    const report = await reportOf(result.stdout);
    expect(report.outcome).toBe("failed");
    expect(report.teardown).toEqual({
      removed: nothing,
      leftovers: [],
      kept: true,
    });
    await expectLogs(report);
    // Still there: the database and the kept service container, labelled with the run.
    const kept = composeProjectResources(report.composeProject);
    expect(kept.containers.sort()).toEqual(
      [`${report.composeProject}_postgres_1`, `${report.composeProject}_worker_1`].sort(),
    );
    const printed = (what: string) => {
      const line = new RegExp(`^🜁 +${what}: (.+)$`, "m").exec(result.stdout)?.[1];
      if (!line) throw new Error(`no "${what}" command printed:\n${result.stdout}`);
      return line;
    };
    // The exec command as printed, typed into a real terminal from another folder.
    const shell = await runInTerminal(["sh", "-c", printed("shell \\(worker\\)")], "/", {
      input: 'echo "image=[$TIERS_FAILING_SUITE]"; exit',
      timeoutMs: 60_000,
    });
    expect(shell.output.split(/\r?\n|\r/), shell.output).toContain("image=[in-the-container]");
    expect(shell.code, shell.output).toBe(0);
    const logs = await runInTerminal(["sh", "-c", printed("logs")], "/", { timeoutMs: 60_000 });
    expect(logs.code, logs.output).toBe(0);
    expect(logs.output).toMatch(/postgres_1 +\| .*database system is ready to accept connections/);
    expect(printed("clean up")).toBe(`tiers env test clean --run ${report.id}`);
    expect(printed(" +or")).toMatch(
      new RegExp(`^docker-compose --project-name ${report.composeProject} .* down --volumes`),
    );
    // A kept run is not debris: a plain clean leaves it; the printed one removes it.
    const plain = await runTiers(repo.root, ["env", "test", "clean"], { env });
    expect(plain.stdout).toMatch(
      new RegExp(
        `left run ${report.id} alone: it was kept for debugging \\(--run ${report.id} removes it\\)`,
      ),
    );
    expect(composeProjectResources(report.composeProject).containers).toHaveLength(2);
    const clean = await runTiers(repo.root, ["env", "test", "clean", "--run", report.id], { env });
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/removed 2 container\(s\), 1 network\(s\), 0 volume\(s\)/);
    expectNothingLeft(report, volumesBefore);
  });
});
