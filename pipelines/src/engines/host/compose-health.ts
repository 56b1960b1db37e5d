/**
 * When a compose stack's services count as up: each named service's container healthy (or
 * running, when it has no probe), failing fast on one that turns unhealthy or exits and naming it
 * with its last log lines. Shared by the dev tier (`up`) and the test tier (PostgreSQL before
 * the suites).
 */
import { TiersError } from "../../core/errors.ts";
import * as compose from "../../tools/compose.ts";
import * as docker from "../../tools/docker.ts";
import type { Invocation } from "../../tools/invocation.ts";
import { runHost } from "./run.ts";

/**
 * Waits until every named service's container reports healthy. Fails fast when one turns
 * unhealthy or exits, and on timeout, naming the service and showing its last log lines.
 */
export async function waitHealthy(
  root: string,
  project: compose.ComposeProject,
  serviceNames: readonly string[],
  timeoutSeconds: number,
  run: (invocation: Invocation) => Promise<{ stdout: string }> = (invocation) =>
    runHost(invocation, { root }),
  signal?: AbortSignal,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const pending = new Set(serviceNames);
  let last = new Map<string, docker.ContainerState>();
  while (pending.size > 0) {
    signal?.throwIfAborted();
    last = await serviceStates(root, project, [...pending], run);
    const passed = options.probe ? await ownProbesPassed(last, pending, options.probe) : new Set();
    for (const name of [...pending]) {
      const state = last.get(name);
      if (
        state?.health === "healthy" ||
        (state?.health === "none" && state.status === "running") ||
        passed.has(name)
      ) {
        pending.delete(name);
      } else if (
        state &&
        (state.health === "unhealthy" || state.status === "exited" || state.status === "dead")
      ) {
        throw await unhealthyError(
          project,
          name,
          `is ${state.health === "unhealthy" ? "unhealthy" : `${state.status} (exit code ${state.exitCode})`}`,
          run,
        );
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      const name = [...pending][0]!;
      const state = last.get(name);
      throw await unhealthyError(
        project,
        name,
        `is not healthy after ${timeoutSeconds}s (${state ? `${state.status}, health ${state.health}` : "no container"})`,
        run,
      );
    }
    // Docker's health changes only when its probe runs (every 0.5–1 s, compose/compose.yaml):
    // a quarter second between looks adds little to that wait, and each look is two docker CLI
    // calls. Running the probes ourselves, the wait ends soon after the service is ready.
    await new Promise((resolve) => setTimeout(resolve, options.probe ? probePollMs : healthPollMs));
  }
}

/** Between two looks at the containers' health while waiting for it. */
const healthPollMs = 250;
/** Between two runs of the services' own probes (each run is a `docker exec` of its own). */
const probePollMs = 100;

export interface WaitOptions {
  /**
   * Also run each starting service's own health probe (the container's `Healthcheck.Test`,
   * through `docker exec`, as the engine runs it) at every look, and count a pass as healthy.
   * The engine runs the first probe only one `interval` after the start (moby daemon/health.go
   * `monitor`: `time.After(probeInterval)` before each probe), and the engines and compose
   * this project supports (Docker 20.10, docker-compose 1.29) have no `start_interval` (Engine
   * API 1.44, Docker 25), so a service ready after 1.1 s is seen healthy only at 1.5 s. For a
   * caller that needs the service ready, not its Docker status: the test tier's PostgreSQL,
   * which nothing gates on through compose (the suites run with `--no-deps`).
   */
  probe?: (invocation: Invocation) => Promise<{ exitCode: number }>;
}

/** The pending services still starting whose own probe passes now (all probed at once). */
async function ownProbesPassed(
  states: ReadonlyMap<string, docker.ContainerState>,
  pending: ReadonlySet<string>,
  probe: NonNullable<WaitOptions["probe"]>,
): Promise<Set<string>> {
  const runs = [...pending].map(async (name) => {
    const state = states.get(name);
    const invocation =
      state?.status === "running" && state.health === "starting"
        ? docker.execHealthProbe(state)
        : undefined;
    return invocation && (await probe(invocation)).exitCode === 0 ? [name] : [];
  });
  return new Set((await Promise.all(runs)).flat());
}
/** The label compose puts on every container of a project (docker/compose compose/const.py). */
const composeProjectLabel = "com.docker.compose.project";

/**
 * After compose itself gave up (a dependency never became healthy), finds the first service,
 * in topology order, whose container exited or is unhealthy, as an error naming it and
 * showing its last log lines; undefined when every container looks fine.
 */
export async function diagnoseServices(
  root: string,
  project: compose.ComposeProject,
  serviceNames: readonly string[],
  run: (invocation: Invocation) => Promise<{ stdout: string }> = (invocation) =>
    runHost(invocation, { root }),
): Promise<TiersError | undefined> {
  const states = await serviceStates(root, project, serviceNames, run);
  for (const name of serviceNames) {
    const state = states.get(name);
    if (!state) continue;
    if (state.health === "unhealthy") {
      return unhealthyError(project, name, "is unhealthy", run);
    }
    if (state.status === "exited" || state.status === "dead") {
      return unhealthyError(project, name, `${state.status} (exit code ${state.exitCode})`, run);
    }
  }
  return undefined;
}

/**
 * Container state of each service of a compose project (first container per service).
 *
 * The containers are found the way compose itself finds them, by the label it puts on each
 * (`com.docker.compose.project=<name>`; docker/compose v1 compose/const.py LABEL_PROJECT, and
 * Project.containers in compose/project.py filters on it), through the docker CLI: a Go
 * process of a few tens of milliseconds instead of a `docker-compose ps` Python start of half a
 * second, since health waits ask several times a second. The name needs no normalising: the
 * schema allows lower-case letters, digits and '-' only, which compose keeps as they are.
 */
export async function serviceStates(
  root: string,
  project: compose.ComposeProject,
  serviceNames: readonly string[],
  run: (invocation: Invocation) => Promise<{ stdout: string }> = (invocation) =>
    runHost(invocation, { root }),
): Promise<Map<string, docker.ContainerState>> {
  const ids = docker.parseIdList(
    (await run(docker.listByLabel("container", { [composeProjectLabel]: project.name }))).stdout,
  );
  const states = new Map<string, docker.ContainerState>();
  if (ids.length === 0) return states;
  const inspected = docker.parseContainerInspect(
    (await runHost(docker.inspectContainers(ids), { root })).stdout,
  );
  for (const state of inspected) {
    const service = state.labels["com.docker.compose.service"];
    const oneOff = state.labels["com.docker.compose.oneoff"] === "True";
    if (service && serviceNames.includes(service) && !oneOff && !states.has(service)) {
      states.set(service, state);
    }
  }
  return states;
}

async function unhealthyError(
  project: compose.ComposeProject,
  service: string,
  what: string,
  run: (invocation: Invocation) => Promise<{ stdout: string }>,
): Promise<TiersError> {
  let tail = "";
  try {
    tail = (await run(compose.logs(project, { tail: 15, services: [service] }))).stdout;
  } catch {
    tail = "(logs unavailable)";
  }
  return new TiersError(
    `service ${service} ${what}\n  last log lines:\n    ${tail.trim().split("\n").slice(-15).join("\n    ")}`,
    {
      where: `${project.name}/${service}`,
      hint: `inspect it with: docker-compose -p ${project.name} ${project.files.map((f) => `-f ${f}`).join(" ")} logs ${service}`,
    },
  );
}
