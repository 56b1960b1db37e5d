/**
 * 🜁 The test tier's load test on the host engine (issue 15): once every suite passed, the
 * service `tests.performance` names is started from its test image with the command the tier
 * gives, its HTTP port published on 127.0.0.1 only (a port Docker picks, so parallel runs never
 * collide), and autocannon's programmatic API drives it from this process for a fixed duration
 * at fixed concurrency. Every wait is bounded: the start by `startup_timeout_seconds`, the load
 * by `duration_seconds` plus one request `timeout_seconds` plus a margin, after which the load
 * is stopped and the test fails.
 *
 * Why from the host rather than a container on the stack's network: the programmatic API hands
 * over every response time (autocannon's own percentiles have no p95) with no output format to
 * parse, and no load-generator image has to be built or pulled on a machine that may be offline.
 * Loopback keeps the stack unreachable from the network; the container is removed right after.
 */
import type { Instance, Options, Result } from "autocannon";
import { loadModel, tierOf } from "../../core/environment/index.ts";
import type { LoadTestSettings } from "../../core/environment/performance-schema.ts";
import { TiersError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import {
  autocannonOptions,
  type LoadTest,
  loadFigures,
  loadLimitMs,
  loadTestOf,
  requestLabel,
} from "../../core/promotion/load-test.ts";
import { describeFigures, type PerformanceFigures } from "../../core/promotion/performance.ts";
import * as compose from "../../tools/compose.ts";
import * as docker from "../../tools/docker.ts";
import type { Invocation } from "../../tools/invocation.ts";

/** Default for `startup_timeout_seconds`. */
const defaultStartupSeconds = 60;

/** What a load test needs from the test run that hosts it. */
export interface LoadTestContext {
  root: string;
  tier: string;
  project: compose.ComposeProject;
  /** The test run's labels, so `tiers env test clean` finds a container a killed run left. */
  labels: Readonly<Record<string, string>>;
  reporter: Reporter;
  /** Runs an invocation the way the test run does (its secrets and environment). */
  /** The services whose images this run built and whose suites passed. */
  services: readonly string[];
  run: (
    invocation: Invocation,
    options?: { reject?: boolean; abortable?: boolean },
  ) => Promise<{ stdout: string }>;
  signal?: AbortSignal;
}

/**
 * The load test of a test run whose suites passed, as the report keeps it: the figures, or why
 * it could not measure (the performance gate then fails closed). Undefined when the tier
 * declares none. An aborted run is not a load-test failure: the abort propagates.
 */
export async function measurePerformance(
  context: LoadTestContext,
): Promise<PerformanceFigures | { error: string } | undefined> {
  const test = loadTestOf(tierOf(await loadModel(context.root), context.tier));
  if (!test) return undefined;
  if (!context.services.includes(test.settings.service)) {
    // A run limited to other services (--service) has no tested image of it to measure.
    context.reporter.info(
      context.tier,
      `no load test: this run did not test ${test.settings.service}, the service tests.performance loads`,
    );
    return undefined;
  }
  try {
    const figures = await context.reporter.step(
      context.tier,
      `load test of ${test.settings.service}`,
      () => runLoadTest(context, test),
    );
    context.reporter.info(
      context.tier,
      `load test of ${figures.service}: ${describeFigures(figures)}`,
    );
    return figures;
  } catch (error) {
    context.signal?.throwIfAborted();
    const why = error instanceof TiersError ? error.describe() : String(error);
    // The suites' verdict stands; the record gets no figures, which the performance gate refuses.
    context.reporter.error(
      context.tier,
      `load test of ${test.settings.service} could not measure: ${why}`,
    );
    return { error: why };
  }
}

/** Starts the service, loads it, removes it; resolves to the figures. */
export async function runLoadTest(
  context: LoadTestContext,
  test: LoadTest,
): Promise<PerformanceFigures> {
  const { settings } = test;
  const { project, reporter, tier, run } = context;
  const name = `${project.name}-load-${settings.service}`;
  try {
    await run(
      compose.run(project, {
        service: settings.service,
        noDeps: true,
        detach: true,
        rm: false,
        name,
        labels: context.labels,
        publish: [`127.0.0.1::${test.containerPort}`],
        command: settings.command,
        ...(settings.environment ? { environment: settings.environment } : {}),
      }),
    );
    const port = docker.parseLoopbackPort(
      (await run(docker.port(name, test.containerPort))).stdout,
    );
    if (port === undefined) {
      throw new TiersError(
        `${settings.service}'s port ${test.containerPort} is not published on 127.0.0.1`,
        {
          where: name,
        },
      );
    }
    const base = `http://127.0.0.1:${port}`;
    await waitLive(
      context,
      name,
      `${base}${test.liveness}`,
      settings.startup_timeout_seconds ?? defaultStartupSeconds,
    );
    reporter.info(
      tier,
      `load test of ${settings.service}: ${settings.connections} connections for ${settings.duration_seconds}s on ${settings.requests.map(requestLabel).join(", ")}`,
    );
    return await load(context, settings, base);
  } finally {
    // Not abortable and never rejecting: a failed start must still leave nothing behind.
    await run(docker.remove("container", [name]), { reject: false, abortable: false });
  }
}

/** Polls the liveness path until it answers 2xx; fails with the container's last log lines. */
async function waitLive(
  context: LoadTestContext,
  container: string,
  url: string,
  timeoutSeconds: number,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    context.signal?.throwIfAborted();
    // A referenced timer, not AbortSignal.timeout (whose timer is unref'd): while a fetch waits
    // on a half-started server nothing else may hold the event loop, and Node would exit
    // mid-wait (code 13, unsettled top-level await) leaving the stack behind.
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(new Error("no answer within 2s")), 2000);
    try {
      const response = await fetch(url, { signal: attempt.signal });
      await response.body?.cancel();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    } finally {
      clearTimeout(timer);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const logs = await context.run(docker.logs(container, 15), { reject: false }).then(
    (r) => r.stdout.trim(),
    () => "(logs unavailable)",
  );
  throw new TiersError(
    `the load test's ${container} did not answer ${url} within ${timeoutSeconds}s (${last})\n  last log lines:\n    ${logs.split("\n").join("\n    ")}`,
    {
      where: container,
      hint: "raise tests.performance.startup_timeout_seconds, or check tests.performance.command",
    },
  );
}

/** One autocannon run, stopped when it overruns its bound or the run is aborted. */
async function load(
  context: LoadTestContext,
  settings: LoadTestSettings,
  base: string,
): Promise<PerformanceFigures> {
  // Loaded on first use: only a test run with a load test needs it (and the CLI bundle keeps it
  // external, see bin/build-cli.js).
  const { default: autocannon } = await import("autocannon");
  const times: number[] = [];
  const limitMs = loadLimitMs(settings);
  let instance: Instance | undefined;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => instance?.stop();
  context.signal?.addEventListener("abort", stop, { once: true });
  try {
    const result = await new Promise<Result>((resolve, reject) => {
      timer = setTimeout(() => {
        instance?.stop();
        reject(
          new TiersError(`the load test did not finish within ${limitMs / 1000}s`, { where: base }),
        );
      }, limitMs);
      instance = autocannon(autocannonOptions(settings, base) as Options, (error, result) =>
        error ? reject(error) : resolve(result),
      );
      // autocannon's `response` event: (client, statusCode, resBytes, responseTime in ms).
      instance.on("response", (_client, _status, _bytes, responseTime) => times.push(responseTime));
    });
    context.signal?.throwIfAborted();
    return loadFigures(settings, result, times);
  } finally {
    clearTimeout(timer);
    context.signal?.removeEventListener("abort", stop);
  }
}
