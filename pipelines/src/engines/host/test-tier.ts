/**
 * 🜁 The test tier on the host engine: an isolated, uniquely named Compose project
 * (`<project>-test-<id>`) with its own network, a fresh PostgreSQL, and each service's `test`
 * image run once with the command compose gives it (the API's loads migrations and fixtures
 * with the project's own `node src/migrate.ts --fixtures` before its suite, so nothing here
 * knows how a schema is built). Logs stream with the tier's marker, a
 * report lands in `.tiers/reports/test-<id>.json`, and everything the run created is torn down
 * whatever happens: success, failure, error, Ctrl-C or SIGTERM. A run killed outright (SIGKILL)
 * leaves labelled resources that `cleanTestTier` finds and removes. Only a failed run asked to
 * (`--keep-on-failure`) stays, for a person to inspect (test-tier-debug.ts).
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";
import { imageTag, projectLabel, testTarget } from "../../core/artefact.ts";
import { tierOfRuntime } from "../../core/environment/index.ts";
import { TiersError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import {
  type CleanResult,
  renderTestRunReport,
  type ServiceResult,
  type SuiteSummary,
  type TestRunReport,
  testRunReportPath,
} from "../../core/promotion/test-run.ts";
import { composeFilesFor } from "../../core/topology.ts";
import * as compose from "../../tools/compose.ts";
import * as docker from "../../tools/docker.ts";
import type { Invocation } from "../../tools/invocation.ts";
import { atomicWrite } from "./atomic-write.ts";
import {
  buildImages,
  buildSettings,
  composeVariables,
  readRevision,
  servicesToBuild,
  tierVariables,
} from "./build.ts";
import { serviceStates, waitHealthy } from "./compose-health.ts";
import { measurePerformance } from "./load-test.ts";
import { loadModelCached } from "./model-cache.ts";
import { runHost } from "./run.ts";
import { SecretStore } from "./secrets.ts";
import { afterFailedRun, type FailureMode } from "./test-tier-debug.ts";

export type { CleanResult, ServiceResult, SuiteSummary } from "../../core/promotion/test-run.ts";

/**
 * A host run's report: the one report schema (core/promotion/test-run.ts) with every detail a
 * host run has filled in.
 */
export type TestTierReport = TestRunReport &
  Required<
    Pick<TestRunReport, "composeProject" | "startedAt" | "finishedAt" | "durations" | "teardown">
  >;

/**
 * Reads vitest's default reporter output (colour off: the test containers set NO_COLOR): one
 * line per file (`✓ |integration| test/x.test.ts (3 tests | 1 skipped) 97ms`) and the
 * `Tests  1 failed | 55 passed | 11 skipped (67)` total. Undefined when no total was printed.
 */
export function summariseSuite(lines: readonly string[]): SuiteSummary | undefined {
  const files: SuiteSummary["files"] = [];
  let totals: Pick<SuiteSummary, "passed" | "failed" | "skipped"> | undefined;
  for (const line of lines) {
    const file =
      /^\s*[✓❯×↓]\s+(?:\|([^|]+)\|\s+)?(\S+\.(?:test|spec)\.[cm]?[jt]sx?)\s+\((\d+) tests?((?:\s*\|\s*\d+ \w+)*)\)/.exec(
        line,
      );
    if (file) {
      const count = (word: string) =>
        Number(new RegExp(`(\\d+) ${word}`).exec(file[4] ?? "")?.[1] ?? 0);
      const tests = Number(file[3]);
      const failed = count("failed");
      const skipped = count("skipped");
      files.push({
        file: file[2]!,
        ...(file[1] ? { project: file[1] } : {}),
        outcome: failed > 0 ? "failed" : skipped >= tests ? "skipped" : "passed",
        tests,
        failed,
        skipped,
      });
      continue;
    }
    const total = /^\s*Tests\s+(.*\(\d+\))\s*$/.exec(line);
    if (total) {
      const count = (word: string) =>
        Number(new RegExp(`(\\d+) ${word}`).exec(total[1] ?? "")?.[1] ?? 0);
      totals = { passed: count("passed"), failed: count("failed"), skipped: count("skipped") };
    }
  }
  return totals ? { ...totals, files } : undefined;
}

/** The ephemeral tier a request acts on: the one it names, else the model's ephemeral tier. */
export async function ephemeralTierOf(request: { root: string; tier?: string }): Promise<string> {
  return request.tier ?? tierOfRuntime(await loadModelCached(request.root), "ephemeral");
}

export interface TestTierRequest {
  root: string;
  /** The ephemeral tier to run; default: the model's ephemeral tier (core/environment/roles.ts). */
  tier?: string;
  reporter: Reporter;
  services?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Aborting it stops the running step; teardown still runs. */
  signal?: AbortSignal;
  /** Seconds PostgreSQL may take to become healthy (first-start initialisation included). */
  setupTimeoutSeconds?: number;
  /** Fixed run id (tests); random otherwise. */
  runId?: string;
  /** Called as soon as the run id is known (so a caller can report or kill it). */
  onStart?: (info: { id: string; composeProject: string }) => void;
  /** When a suite fails: open a shell in its service, or keep the stack (test-tier-debug.ts). */
  onFailure?: FailureMode;
}

/** The compose project name of a test run. */
export function testProjectName(project: string, id: string): string {
  return `${project}-test-${id}`;
}

/** Runs the test tier once; never leaves a container, network or volume behind. */
export async function runTestTier(request: TestTierRequest): Promise<TestTierReport> {
  const tier = await ephemeralTierOf(request);
  const { root, reporter } = request;
  const env = request.env ?? process.env;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const settings = await buildSettings(root, env);
  const id = request.runId ?? randomBytes(4).toString("hex");
  const composeProject = testProjectName(settings.project, id);
  const labels = projectLabel(settings.project);
  const runLabels = { [labels.tier]: tier, [labels.run]: id };
  request.onStart?.({ id, composeProject });
  reporter.info(tier, `test run ${id} (compose project ${composeProject})`);

  const durations: { build: number; setup: number; tests: number; loadTest?: number } & {
    teardown: number;
    total: number;
  } = { build: 0, setup: 0, tests: 0, teardown: 0, total: 0 };
  const services: ServiceResult[] = [];
  let outcome: TestTierReport["outcome"] = "error";
  let failure: unknown;
  let commit = "";
  let loadTest: TestRunReport["performance"];
  // A fresh password per run, handed to compose by secret name so it never reaches argv/logs.
  const secrets = new SecretStore(env).define("test-db-password", {
    value: randomBytes(18).toString("base64url"),
  });
  let project: compose.ComposeProject | undefined;
  // A run whose images could not be built has no stack worth keeping or logging for debugging.
  let imagesBuilt = false;
  let planned: string[] = [...(request.services ?? [])];
  const suiteOutputs = new Map<string, string[]>();
  const run = (
    invocation: Invocation,
    options: {
      stream?: string;
      collect?: string[];
      reject?: boolean;
      abortable?: boolean;
      /** Stops this call instead of the request's signal. */
      signal?: AbortSignal;
    } = {},
  ) =>
    runHost(
      {
        ...invocation,
        secretEnv: { ...invocation.secretEnv, TIERS_DB_PASSWORD: "test-db-password" },
      },
      {
        root,
        env,
        secrets,
        ...(options.signal
          ? { signal: options.signal }
          : request.signal && options.abortable !== false
            ? { signal: request.signal }
            : {}),
        ...(options.reject === false ? { reject: false } : {}),
        ...(options.stream
          ? {
              onLine: (line: string) => {
                options.collect?.push(line);
                reporter.info(tier, `${options.stream} │ ${line}`);
              },
            }
          : {}),
      },
    );

  try {
    // A bad --service is refused before anything starts.
    await servicesToBuild(root, request.services);
    const revision = await readRevision(root);
    commit = revision.commit;
    project = {
      name: composeProject,
      files: composeFilesFor(tier),
      env: composeVariables(
        settings,
        [],
        {
          ...(await tierVariables(root, tier)),
          // The tag buildImages gives the test images of this revision (core/artefact.ts).
          TIERS_IMAGE_TAG: imageTag(revision.commit, testTarget, revision.dirty),
          TIERS_RUN_ID: id,
          TIERS_RUN_OWNER: `${hostname()}:${process.pid}`,
          TIERS_GIT_SHA: commit,
        },
        env,
      ),
    };
    // PostgreSQL needs none of the images, so it starts while they are built (or found built);
    // a failed build stops it, and the teardown below removes whatever it had created.
    const stopSetup = new AbortController();
    const setupSignal = request.signal
      ? AbortSignal.any([request.signal, stopSetup.signal])
      : stopSetup.signal;
    const phase0 = performance.now();
    const setup = reporter
      .step(tier, "start PostgreSQL", async () => {
        await run(compose.up(project!, { services: ["postgres"] }), { signal: setupSignal });
        // Ready when its own probe passes, not when Docker next runs it (compose-health.ts).
        await waitHealthy(
          root,
          project!,
          ["postgres"],
          request.setupTimeoutSeconds ?? 120,
          run,
          setupSignal,
          { probe: (invocation) => run(invocation, { reject: false }) },
        );
      })
      .then(() => performance.now());
    const build = buildImages({
      root,
      reporter,
      target: testTarget,
      tier,
      env,
      revision,
      ...(request.services ? { services: request.services } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
    }).then((images) => ({ images, at: performance.now() }));
    const [built, ready] = await Promise.allSettled([
      build.catch((error: unknown) => {
        stopSetup.abort();
        throw error;
      }),
      setup,
    ]);
    if (built.status === "rejected") throw built.reason;
    imagesBuilt = true;
    if (ready.status === "rejected") throw ready.reason;
    const images = built.value.images;
    planned = images.map((image) => image.service);
    durations.build = built.value.at - phase0;
    // What setup adds to the run's wall time: the wait for PostgreSQL once the images are there.
    durations.setup = Math.max(0, ready.value - built.value.at);

    let phase = performance.now();
    for (const image of images) {
      request.signal?.throwIfAborted();
      const began = performance.now();
      const output: string[] = [];
      suiteOutputs.set(image.service, output);
      const result = await reporter
        .step(tier, `tests of ${image.service}`, async () => {
          const r = await run(
            compose.run(project!, { service: image.service, noDeps: true, labels: runLabels }),
            { stream: image.service, collect: output, reject: false },
          );
          if (r.exitCode !== 0) throw new TestsFailed(image.service, r.exitCode);
          return r;
        })
        .catch((error: unknown) => {
          if (error instanceof TestsFailed) return { exitCode: error.code };
          throw error;
        });
      // A run cut short by a signal is not a test failure: it is reported as not run.
      request.signal?.throwIfAborted();
      const summary = summariseSuite(output);
      services.push({
        service: image.service,
        outcome: result.exitCode === 0 ? "passed" : "failed",
        exitCode: result.exitCode,
        durationMs: Math.round(performance.now() - began),
        ...(summary ? { tests: summary } : {}),
      });
    }
    durations.tests = performance.now() - phase;
    outcome = services.every((s) => s.outcome === "passed") ? "passed" : "failed";
    // The performance baseline (issue 15) measures only code whose suites passed.
    if (outcome === "passed") {
      phase = performance.now();
      loadTest = await measurePerformance({
        root,
        tier,
        project,
        labels: runLabels,
        services: planned,
        reporter,
        run,
        ...(request.signal ? { signal: request.signal } : {}),
      });
      if (loadTest) durations.loadTest = performance.now() - phase;
    }
  } catch (error) {
    failure = error;
    outcome = request.signal?.aborted ? "interrupted" : "error";
  }

  // A run that did not pass keeps every service's log, and its stack when asked to.
  const debug =
    project && imagesBuilt && (outcome === "failed" || outcome === "error")
      ? await afterFailedRun({
          root,
          tier,
          id,
          reporter,
          project,
          outcome,
          suiteOutputs,
          keptLabel: labels.kept,
          states: (names) => serviceStates(root, project!, names, run),
          failed: services.filter((s) => s.outcome === "failed").map((s) => s.service),
          run: (invocation, options) => run(invocation, { ...options, abortable: false }),
          env,
          ...(request.onFailure ? { mode: request.onFailure } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        })
      : undefined;

  // Teardown is not abortable: a second Ctrl-C must not leave the environment half-removed.
  const phase = performance.now();
  const step = debug?.kept ? `keep ${composeProject}` : `tear down ${composeProject}`;
  const teardown = await reporter.step(tier, step, async () => {
    if (debug?.kept) return { removed: emptyClean(), leftovers: [], kept: true };
    // By the run's labels, which every container and the network carry (compose.test.yaml, and
    // `compose run --label` on the one-off suites), instead of `docker-compose down`: that is a
    // Python start and then a graceful stop per container, and nothing here needs one (the
    // database lives on a tmpfs that goes with its container). The same call also takes what
    // compose would not know of: a one-off container mid-start, one a killed child left.
    return removeRun(root, runLabels, env);
  });
  durations.teardown = performance.now() - phase;
  durations.total = performance.now() - started;
  for (const name of planned) {
    if (!services.some((s) => s.service === name)) {
      services.push({ service: name, outcome: "not-run", exitCode: null, durationMs: 0 });
    }
  }
  const report: TestTierReport = {
    id,
    composeProject,
    commit,
    startedAt,
    finishedAt: new Date().toISOString(),
    outcome,
    durations: Object.fromEntries(
      Object.entries(durations).map(([k, v]) => [k, Math.round(v)]),
    ) as TestTierReport["durations"],
    services,
    teardown,
    ...(loadTest ? { performance: loadTest } : {}),
    ...(debug?.logs.length ? { logs: debug.logs } : {}),
    ...(failure ? { error: failure instanceof Error ? failure.message : String(failure) } : {}),
  };
  const file = await writeReport(root, report);
  reporter.info(tier, `report: ${file}`);
  if (teardown.leftovers.length) {
    throw new TiersError(`teardown left ${teardown.leftovers.length} resource(s) behind`, {
      where: composeProject,
      hint: "run `tiers env test clean` to remove them",
    });
  }
  if (failure && outcome === "error") throw failure;
  return report;
}

const emptyClean = (): CleanResult => ({ containers: [], networks: [], volumes: [] });
const resourcesOf = (found: CleanResult) => [
  ...found.containers,
  ...found.networks,
  ...found.volumes,
];

/** Passes a teardown makes before it reports what is still there. */
const teardownPasses = 3;

/**
 * Removes every resource of one run, then lists again to prove it: what is still listed after
 * `teardownPasses` is reported as left behind. A pass can fail for a moment's reason: the
 * second Ctrl-C that a user presses reaches the docker CLI mid-call (run.ts forwards signals to
 * its children), or a compose killed mid-`up` is still creating the container.
 */
async function removeRun(
  root: string,
  runLabels: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Promise<{ removed: CleanResult; leftovers: string[] }> {
  const removed = emptyClean();
  let leftovers: string[] = [];
  for (let pass = 1; ; pass++) {
    try {
      const found = await removeByLabels(root, runLabels, env, { reject: false });
      for (const kind of ["containers", "networks", "volumes"] as const) {
        for (const name of found[kind]) if (!removed[kind].includes(name)) removed[kind].push(name);
      }
      leftovers = resourcesOf(await listByLabels(root, runLabels, env));
      if (leftovers.length === 0 || pass >= teardownPasses) return { removed, leftovers };
    } catch (error) {
      if (pass >= teardownPasses) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * pass));
  }
}

class TestsFailed extends Error {
  constructor(
    readonly service: string,
    readonly code: number,
  ) {
    super(`tests of ${service} failed with exit code ${code}`);
  }
}

async function writeReport(root: string, report: TestTierReport): Promise<string> {
  const file = join(root, testRunReportPath(report.id));
  await atomicWrite(file, renderTestRunReport(report));
  return file;
}

/** Lists containers, networks and volumes carrying every given label. */
export async function listByLabels(
  root: string,
  labels: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CleanResult> {
  const list = async (kind: docker.ResourceKind) =>
    docker.parseIdList((await runHost(docker.listByLabel(kind, labels), { root, env })).stdout);
  // Three independent reads: asked at once.
  const [containers, networks, volumes] = await Promise.all([
    list("container"),
    list("network"),
    list("volume"),
  ]);
  return { containers, networks, volumes };
}

/** Removes containers first (they hold networks and volumes), then networks and volumes. */
export async function removeByLabels(
  root: string,
  labels: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
  /** `reject: false`: a failed removal is not thrown (the caller lists again to see what is left). */
  options: { reject?: boolean } = {},
): Promise<CleanResult> {
  const found = await listByLabels(root, labels, env);
  const remove = (kind: docker.ResourceKind, names: string[]) =>
    names.length ? runHost(docker.remove(kind, names), { root, env, ...options }) : undefined;
  await remove("container", found.containers);
  // Once the containers are gone nothing holds the networks or the volumes: both go at once.
  await Promise.all([remove("network", found.networks), remove("volume", found.volumes)]);
  return found;
}

/**
 * What `owner` (`<host>:<pid>`) says about the tiers process that started a run: alive or gone
 * on this host, on another host (a Docker engine shared by several machines or containers, where
 * no pid here can tell), or unknown (not started by tiers: the label's default).
 */
export function ownerState(
  owner: string,
  host: string = hostname(),
): "alive" | "gone" | "elsewhere" | "unknown" {
  const match = /^(.*):(\d+)$/.exec(owner);
  if (!match) return "unknown";
  if (match[1] !== host) return "elsewhere";
  try {
    process.kill(Number(match[2]), 0);
    return "alive";
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM" ? "alive" : "gone";
  }
}

/**
 * `tiers env test clean`: removes what test runs left behind, found by the
 * `<project>.tier=test` label. A run whose owning tiers process is still alive on this host, or
 * that another host started, is left alone (it tears itself down) unless named with `runId`.
 */
export async function cleanTestTier(options: {
  root: string;
  tier?: string;
  reporter: Reporter;
  runId?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<CleanResult> {
  const tier = await ephemeralTierOf(options);
  const { root, reporter } = options;
  const env = options.env ?? process.env;
  const settings = await buildSettings(root, env);
  const labels = projectLabel(settings.project);
  const removed: CleanResult = { containers: [], networks: [], volumes: [] };
  const collect = (found: CleanResult) => {
    removed.containers.push(...found.containers);
    removed.networks.push(...found.networks);
    removed.volumes.push(...found.volumes);
  };
  if (options.runId) {
    collect(await removeByLabels(root, { [labels.tier]: tier, [labels.run]: options.runId }, env));
  } else {
    const owners = new Map<string, string>();
    const kept = new Set<string>();
    for (const kind of ["container", "network"] as const) {
      const listed = await runHost(
        docker.labelValues(kind, { [labels.tier]: tier }, [labels.run, labels.owner, labels.kept]),
        { root, env },
      );
      for (const line of docker.parseIdList(listed.stdout)) {
        const [run = "", owner = "", keptFor = ""] = line.split("\t");
        if (run) owners.set(run, owner);
        if (run && keptFor === "true") kept.add(run);
      }
    }
    for (const [run, owner] of owners) {
      // A run kept on request is not debris: it goes when named (the command it printed).
      if (kept.has(run)) {
        reporter.info(
          tier,
          `left run ${run} alone: it was kept for debugging (--run ${run} removes it)`,
        );
        continue;
      }
      const state = ownerState(owner);
      if (state === "alive" || state === "elsewhere") {
        reporter.info(
          tier,
          state === "alive"
            ? `left run ${run} alone: its tiers process ${owner} is still running (--run ${run} removes it anyway)`
            : `left run ${run} alone: it was started on another host (${owner}), where it may still run (--run ${run} removes it anyway)`,
        );
        continue;
      }
      collect(await removeByLabels(root, { [labels.tier]: tier, [labels.run]: run }, env));
    }
  }
  const total = removed.containers.length + removed.networks.length + removed.volumes.length;
  if (total === 0) {
    reporter.info(tier, "nothing to clean: no test-tier containers, networks or volumes");
  } else {
    for (const [kind, ids] of Object.entries(removed)) {
      for (const resource of ids as string[]) {
        reporter.info(tier, `removed ${kind.replace(/s$/, "")} ${resource}`);
      }
    }
    reporter.info(
      tier,
      `removed ${removed.containers.length} container(s), ${removed.networks.length} network(s), ${removed.volumes.length} volume(s)`,
    );
  }
  return removed;
}
