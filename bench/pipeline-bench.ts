/**
 * Pipeline benchmark: prints figures, asserts nothing.
 *
 *   npx tsx bench/pipeline-bench.ts
 *
 * On a snapshot of the working tree (a temp git repo, so the real tree stays clean):
 * 1. cold build: `tiers build --no-cache` on a fresh commit (every layer rebuilt; the npm
 *    download cache mount stays warm, as on any machine that built once);
 * 2. warm build: `tiers build` again without a change (should build nothing);
 * 3. the same work by raw docker commands: `docker build --no-cache` per service (cold) and
 *    `docker build` per service with the cache warm, to show what the pipeline adds;
 * 4. the test tier's wall time and the share of setup + teardown in it;
 * 5. dev `up` to every service healthy (images built), then `down --volumes`;
 * 6. the targets of issue 13 as ratios (build vs raw docker in this same run) and limits.
 * One run per figure: on a shared machine, run it a few times and take the medians.
 */
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { formatDuration } from "../pipelines/src/core/log.ts";
import { loadMachineSettings } from "../pipelines/src/engines/host/machine.ts";
import type { TestTierReport } from "../pipelines/src/engines/host/test-tier.ts";
import { freePort, removeComposeProject } from "../test/support/docker.ts";
import { runTiers, snapshotRepo } from "../test/support/repo.ts";

const docker = process.env.TIERS_DOCKER_BIN ?? "/usr/bin/docker";

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

function line(label: string, ms: number, note = ""): void {
  console.log(`${label.padEnd(46)} ${formatDuration(ms).padStart(8)}  ${note}`);
}

const targets: string[] = [];
/** A target line: `value` against `limit`, with why when over (printed at the end). */
function target(label: string, value: string, ok: boolean, limit: string, why: string): void {
  targets.push(
    `  ${label.padEnd(44)} ${value.padStart(8)}  (${limit})  ${ok ? "ok" : `OVER: ${why}`}`,
  );
}
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

const repo = await snapshotRepo();
// A unique commit so the cold build really builds (tags of earlier runs do not match).
await writeFile(join(repo.root, "BENCH.md"), `bench run ${Date.now()}\n`);
repo.commitAll("bench: unique commit");
const devProject = `tiers-bench-${process.pid}`;
try {
  console.log(
    `pipeline bench on ${repo.root} (2 cores; BuildKit layer cache as the machine has it)\n`,
  );

  const [cold, coldMs] = await timed(() => runTiers(repo.root, ["build", "--no-cache"]));
  if (cold.code !== 0) throw new Error(`cold build failed:\n${cold.stdout}${cold.stderr}`);
  line("tiers build --no-cache (cold, 2 services)", coldMs);

  const [warm, warmMs] = await timed(() => runTiers(repo.root, ["build"]));
  const rebuilt = (warm.stdout.match(/\(built\)/g) ?? []).length;
  line("tiers build again, no change (warm)", warmMs, `${rebuilt} image(s) rebuilt`);

  // The raw equivalent: what a hand-written script would run for the same two images.
  const machine = await loadMachineSettings(repo.root);
  const raw = (extra: string[]) =>
    timed(async () => {
      for (const service of ["api", "worker"]) {
        execFileSync(
          docker,
          [
            "build",
            "-q",
            ...extra,
            "-f",
            `services/${service}/Dockerfile`,
            "--target",
            "production",
            "--build-arg",
            `BASE_IMAGE=${machine.baseImage}`,
            ...(machine.extraCaBundle ? ["--secret", `id=ca,src=${machine.extraCaBundle}`] : []),
            "-t",
            `bench/${service}:raw`,
            ".",
          ],
          { cwd: repo.root, env: { ...process.env, DOCKER_BUILDKIT: "1" }, stdio: "ignore" },
        );
      }
    });
  const [, rawColdMs] = await raw(["--no-cache"]);
  line("raw docker build --no-cache ×2 (cold)", rawColdMs, "no labels, no skip check");
  const [, rawWarmMs] = await raw([]);
  line("raw docker build ×2 again (cache warm)", rawWarmMs, "docker's own no-op");
  execFileSync(docker, ["rmi", "bench/api:raw", "bench/worker:raw"], { stdio: "ignore" });
  target(
    "no-change tiers build / raw docker build (warm)",
    ratio(warmMs, rawWarmMs),
    warmMs <= 1.3 * rawWarmMs,
    "≤ 1.3×",
    `${formatDuration(warmMs - rawWarmMs)} over docker's no-op: CLI start, environment model, git, one image inspect per service`,
  );
  target(
    "cold tiers build / raw docker build --no-cache",
    ratio(coldMs, rawColdMs),
    coldMs <= 1.2 * rawColdMs,
    "≤ 1.2×",
    `${formatDuration(coldMs - rawColdMs)} over raw: builds run one service after another, labels, skip checks`,
  );

  await runTiers(repo.root, ["build", "--target", "test"]);
  // runTiers kills a run after 280 s by default (SIGKILL leaves the stack behind); on a loaded
  // shared machine the test tier can take longer, so it gets 15 min here.
  const [test, testMs] = await timed(() =>
    runTiers(repo.root, ["env", "test", "run"], { timeoutMs: 900_000 }),
  );
  const reportFile = /report: (\S+\.json)/.exec(test.stdout)?.[1];
  if (reportFile) {
    const report = JSON.parse(await readFile(reportFile, "utf8")) as TestTierReport;
    const overhead = report.durations.setup + report.durations.teardown;
    line("tiers env test run (images built)", testMs, `outcome ${report.outcome}`);
    line("  setup (PostgreSQL + fixtures)", report.durations.setup);
    line("  tests", report.durations.tests);
    // The load test is evidence the run produces (the performance gate), not setup.
    if (report.durations.loadTest !== undefined) line("  load test", report.durations.loadTest);
    line("  teardown", report.durations.teardown);
    line(
      "  setup + teardown share",
      overhead,
      `${Math.round((overhead / report.durations.total) * 100)}% of the run`,
    );
    target(
      "test tier setup + teardown beyond the tests",
      formatDuration(overhead),
      overhead <= 3000,
      "≤ 3 s",
      `setup ${formatDuration(report.durations.setup)} (PostgreSQL start + fixtures), teardown ${formatDuration(report.durations.teardown)}`,
    );
  } else {
    line("tiers env test run", testMs, `no report (exit ${test.code})`);
  }

  const env = {
    TIERS_DEV_PROJECT: devProject,
    TIERS_API_HTTP_PORT: String(await freePort()),
    TIERS_API_DEBUG_PORT: String(await freePort()),
    TIERS_WORKER_HEALTH_PORT: String(await freePort()),
    TIERS_WORKER_DEBUG_PORT: String(await freePort()),
    TIERS_POSTGRES_PORT: String(await freePort()),
  };
  await runTiers(repo.root, ["build", "--target", "development"], { env });
  const [up, upMs] = await timed(() => runTiers(repo.root, ["env", "dev", "up"], { env }));
  line(
    "tiers env dev up → all healthy (images built)",
    upMs,
    up.code === 0 ? "" : `failed (exit ${up.code})`,
  );
  target(
    "dev tier up → every service healthy",
    formatDuration(upMs),
    up.code === 0 && upMs <= 10_000,
    "≤ 10 s",
    up.code === 0 ? "compose start + the services' health checks" : `up failed (exit ${up.code})`,
  );
  const [, downMs] = await timed(() =>
    runTiers(repo.root, ["env", "dev", "down", "--volumes"], { env }),
  );
  line("tiers env dev down --volumes", downMs);
  console.log(`\ntargets (issue 13), this run:\n${targets.join("\n")}`);
} finally {
  removeComposeProject(devProject);
  await repo.remove();
}
