/**
 * Pipeline benchmark: prints figures, asserts nothing.
 *
 *   npx tsx bench/pipeline-bench.ts                     every section, 3 rounds
 *   BENCH_ROUNDS=5 BENCH_ONLY=build npx tsx bench/pipeline-bench.ts
 *
 * On a snapshot of the working tree (a temp git repo, so the real tree stays clean), each
 * section repeated BENCH_ROUNDS times (median printed, every value beside it: the machine is
 * shared, so one run proves little):
 * 1. build: a fresh commit per round, then `tiers build --no-cache` (cold: every layer rebuilt;
 *    the npm download cache mount stays warm, as on any machine that built once) and `tiers
 *    build` again without a change (warm: builds nothing), each paired in the same round with
 *    its baseline, in alternating order. The baseline is the raw `docker build` of the same
 *    services: per service the command the Dockerfiles' headers document, with the same
 *    Dockerfile, target (production), build arguments (core/artefact.ts imageBuildArgs) and CA
 *    secret as `tiers build`, no labels and no skip check, run one service after another as a
 *    hand-written script would. The same raw builds started side by side are printed too, to
 *    show how much of the gap is concurrency and how much is the pipeline's own cost.
 * 2. test: the test tier's wall time (images built) and its setup and teardown
 *    (`report.durations`, engines/host/test-tier.ts; PostgreSQL starts while the images are
 *    built or found, so setup is the wait it adds after that).
 * 3. dev: `tiers env dev up` until every service is healthy (images built, fresh volume), then
 *    `down --volumes`.
 * 4. the targets of issue 13, from the medians (ratios: the median of each round's ratio).
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { imageBuildArgs, type Revision } from "../pipelines/src/core/artefact.ts";
import { formatDuration } from "../pipelines/src/core/log.ts";
import {
  buildSettings,
  readRevision,
  servicesToBuild,
} from "../pipelines/src/engines/host/build.ts";
import type { TestTierReport } from "../pipelines/src/engines/host/test-tier.ts";
import { freePort, removeComposeProject } from "../test/support/docker.ts";
import { runTiers, snapshotRepo } from "../test/support/repo.ts";

const docker = process.env.TIERS_DOCKER_BIN ?? "/usr/bin/docker";
const run = promisify(execFile);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
if (!Number.isSafeInteger(rounds) || rounds < 1) {
  throw new Error(`BENCH_ROUNDS must be a whole number ≥ 1, not "${process.env.BENCH_ROUNDS}"`);
}
const sections = (process.env.BENCH_ONLY ?? "build,test,dev").split(",");

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** One figure: the median, then every round's value. */
function line(label: string, values: readonly number[], note = ""): void {
  const each = values.length > 1 ? `[${values.map((v) => formatDuration(v)).join(", ")}]` : "";
  console.log(
    `${label.padEnd(46)} ${formatDuration(median(values)).padStart(8)}  ${each} ${note}`.trimEnd(),
  );
}

const targets: string[] = [];
/** A target line: `value` against `limit`, with why when over (printed at the end). */
function target(label: string, value: string, ok: boolean, limit: string, why: string): void {
  targets.push(
    `  ${label.padEnd(44)} ${value.padStart(8)}  (${limit})  ${ok ? "ok" : `OVER: ${why}`}`,
  );
}
const ratios = (a: readonly number[], b: readonly number[]) => median(a.map((v, i) => v / b[i]!));

const repo = await snapshotRepo();
const devProject = `tiers-bench-${process.pid}`;
try {
  console.log(
    `pipeline bench on ${repo.root}: ${rounds} round(s); medians, then each round in brackets\n`,
  );
  // The CLI bundle is rebuilt on the first run after a source change: not part of any figure.
  await runTiers(repo.root, ["--help"]);

  if (sections.includes("build")) await benchBuild();
  if (sections.includes("test")) await benchTestTier();
  if (sections.includes("dev")) await benchDevTier();
  console.log(`\ntargets (issue 13), this run (medians):\n${targets.join("\n")}`);
} finally {
  removeComposeProject(devProject);
  await repo.remove();
}

async function benchBuild(): Promise<void> {
  const settings = await buildSettings(repo.root);
  const services = await servicesToBuild(repo.root, undefined);
  /** The raw `docker build` of every service, one after another or all at once. */
  const raw = (revision: Revision, extra: string[], together: boolean) =>
    timed(async () => {
      const buildOf = (service: (typeof services)[number]) =>
        run(
          docker,
          [
            "build",
            "-q",
            ...extra,
            "-f",
            service.build!.dockerfile,
            "--target",
            "production",
            ...Object.entries(imageBuildArgs({ baseImage: settings.baseImage, revision })).flatMap(
              ([key, value]) => ["--build-arg", `${key}=${value}`],
            ),
            ...(settings.caBundle ? ["--secret", `id=ca,src=${settings.caBundle}`] : []),
            "-t",
            `bench/${service.name}:raw`,
            service.build!.context,
          ],
          { cwd: repo.root, env: { ...process.env, DOCKER_BUILDKIT: "1" } },
        );
      if (together) await Promise.all(services.map(buildOf));
      else for (const service of services) await buildOf(service);
    });
  const figures = { cold: [], rawCold: [], rawColdTogether: [], warm: [], rawWarm: [] } as Record<
    string,
    number[]
  >;
  for (let round = 0; round < rounds; round++) {
    // A unique commit so the cold build really builds (tags of earlier runs do not match).
    await writeFile(join(repo.root, "BENCH.md"), `bench run ${Date.now()}\n`);
    repo.commitAll(`bench: round ${round}`);
    const revision = await readRevision(repo.root);
    const tiersCold = async () => {
      const [cold, ms] = await timed(() => runTiers(repo.root, ["build", "--no-cache"]));
      if (cold.code !== 0) throw new Error(`cold build failed:\n${cold.stdout}${cold.stderr}`);
      figures.cold!.push(ms);
    };
    const rawCold = async () => {
      figures.rawCold!.push((await raw(revision, ["--no-cache"], false))[1]);
      figures.rawColdTogether!.push((await raw(revision, ["--no-cache"], true))[1]);
    };
    // Alternating order, so neither side always runs on the machine the other left.
    for (const step of round % 2 ? [rawCold, tiersCold] : [tiersCold, rawCold]) await step();
    const tiersWarm = async () => {
      const [warm, ms] = await timed(() => runTiers(repo.root, ["build"]));
      const rebuilt = (warm.stdout.match(/\(built\)/g) ?? []).length;
      if (warm.code !== 0 || rebuilt)
        throw new Error(`warm build rebuilt or failed:\n${warm.stdout}`);
      figures.warm!.push(ms);
    };
    const rawWarm = async () => {
      figures.rawWarm!.push((await raw(revision, [], false))[1]);
    };
    for (const step of round % 2 ? [rawWarm, tiersWarm] : [tiersWarm, rawWarm]) await step();
  }
  await run(docker, ["rmi", ...services.map((s) => `bench/${s.name}:raw`)]).catch(() => undefined);
  const n = services.length;
  line(`tiers build --no-cache (cold, ${n} services)`, figures.cold!);
  line(`raw docker build --no-cache ×${n}, one by one`, figures.rawCold!, "the baseline");
  line(
    `raw docker build --no-cache ×${n}, side by side`,
    figures.rawColdTogether!,
    "for reference",
  );
  line("tiers build again, no change (warm)", figures.warm!, "0 images rebuilt");
  line(`raw docker build ×${n} again (cache warm)`, figures.rawWarm!, "docker's own no-op");
  const warmRatio = ratios(figures.warm!, figures.rawWarm!);
  target(
    "no-change tiers build / raw docker build (warm)",
    `${warmRatio.toFixed(2)}×`,
    warmRatio <= 1.3,
    "≤ 1.3×",
    "CLI start, environment model, git, one image inspect per service",
  );
  const coldRatio = ratios(figures.cold!, figures.rawCold!);
  const overTogether = ratios(figures.cold!, figures.rawColdTogether!);
  target(
    "cold tiers build / raw docker build --no-cache",
    `${coldRatio.toFixed(2)}×`,
    coldRatio <= 1.2,
    `≤ 1.2×; ${overTogether.toFixed(2)}× the raw builds side by side`,
    "the builds themselves (see the raw figures side by side); labels, skip checks and CLI start are the rest",
  );
}

async function benchTestTier(): Promise<void> {
  await runTiers(repo.root, ["build", "--target", "test"]);
  const figures = {
    wall: [],
    setup: [],
    tests: [],
    loadTest: [],
    teardown: [],
    overhead: [],
  } as Record<string, number[]>;
  let outcome = "";
  for (let round = 0; round < rounds; round++) {
    // runTiers kills a run after 280 s by default (SIGKILL leaves the stack behind); on a loaded
    // shared machine the test tier can take longer, so it gets 15 min here.
    const [test, ms] = await timed(() =>
      runTiers(repo.root, ["env", "test", "run"], { timeoutMs: 900_000 }),
    );
    const reportFile = /report: (\S+\.json)/.exec(test.stdout)?.[1];
    if (!reportFile)
      throw new Error(`test tier wrote no report (exit ${test.code}):\n${test.stderr}`);
    const report = JSON.parse(await readFile(reportFile, "utf8")) as TestTierReport;
    outcome = report.outcome;
    figures.wall!.push(ms);
    figures.setup!.push(report.durations.setup);
    figures.tests!.push(report.durations.tests);
    // The load test is evidence the run produces (the performance gate), not setup.
    if (report.durations.loadTest !== undefined) figures.loadTest!.push(report.durations.loadTest);
    figures.teardown!.push(report.durations.teardown);
    figures.overhead!.push(report.durations.setup + report.durations.teardown);
  }
  line("tiers env test run (images built)", figures.wall!, `last outcome ${outcome}`);
  line("  setup (PostgreSQL ready, beyond the build)", figures.setup!);
  line("  tests", figures.tests!);
  if (figures.loadTest!.length) line("  load test", figures.loadTest!);
  line("  teardown", figures.teardown!);
  line("  setup + teardown", figures.overhead!);
  const overhead = median(figures.overhead!);
  target(
    "test tier setup + teardown beyond the tests",
    formatDuration(overhead),
    overhead <= 3000,
    "≤ 3 s",
    `setup ${formatDuration(median(figures.setup!))} (compose up, PostgreSQL's first start and its health check), teardown ${formatDuration(median(figures.teardown!))}`,
  );
}

async function benchDevTier(): Promise<void> {
  const env = {
    TIERS_DEV_PROJECT: devProject,
    TIERS_API_HTTP_PORT: String(await freePort()),
    TIERS_API_DEBUG_PORT: String(await freePort()),
    TIERS_WORKER_HEALTH_PORT: String(await freePort()),
    TIERS_WORKER_DEBUG_PORT: String(await freePort()),
    TIERS_POSTGRES_PORT: String(await freePort()),
  };
  await runTiers(repo.root, ["build", "--target", "development"], { env });
  const ups: number[] = [];
  const downs: number[] = [];
  let failed = "";
  for (let round = 0; round < rounds; round++) {
    const [up, upMs] = await timed(() => runTiers(repo.root, ["env", "dev", "up"], { env }));
    if (up.code !== 0) failed = `up failed (exit ${up.code}): ${up.stderr.trim().split("\n")[0]}`;
    ups.push(upMs);
    const [, downMs] = await timed(() =>
      runTiers(repo.root, ["env", "dev", "down", "--volumes"], { env }),
    );
    downs.push(downMs);
  }
  line("tiers env dev up → all healthy (images built)", ups, failed);
  line("tiers env dev down --volumes", downs);
  const upMs = median(ups);
  target(
    "dev tier up → every service healthy",
    formatDuration(upMs),
    !failed && upMs <= 10_000,
    "≤ 10 s",
    failed ||
      "compose start, then each service's first start and health check, one after another (depends_on)",
  );
}
