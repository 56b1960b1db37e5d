/**
 * 🜂 The dev tier on the host engine: the Compose stack with the dev override (sources mounted
 * for hot reload, debugger ports on 127.0.0.1, data in named volumes that survive `down`).
 * Project name `<project>-dev`. `up` builds the development images it needs (once per commit),
 * starts the stack, waits until every service is healthy and prints the URLs.
 */
import { developmentTarget, imageTag, type Revision } from "../../core/artefact.ts";
import { tierOfRuntime } from "../../core/environment/index.ts";
import { TiersError, UsageError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import { composeFilesFor, loadTopology, type Topology } from "../../core/topology.ts";
import * as compose from "../../tools/compose.ts";
import * as docker from "../../tools/docker.ts";
import { ToolError } from "../../tools/errors.ts";
import {
  buildImages,
  buildSettings,
  composeVariables,
  readRevision,
  tierVariables,
} from "./build.ts";
import { diagnoseServices, serviceStates, waitHealthy } from "./compose-health.ts";
import { loadModelCached } from "./model-cache.ts";
import { runHost } from "./run.ts";
import { openShell } from "./shell.ts";

export interface DevRequest {
  root: string;
  /** The compose tier to act on; default: the model's compose tier (core/environment/roles.ts). */
  tier?: string;
  reporter: Reporter;
  env?: NodeJS.ProcessEnv;
  /** Compose project name (default TIERS_DEV_PROJECT, else `<project>-dev`); tests pass a unique one. */
  projectName?: string;
  signal?: AbortSignal;
}

/** The compose tier a request acts on: the one it names, else the model's compose tier. */
export async function composeTierOf(request: { root: string; tier?: string }): Promise<string> {
  return request.tier ?? tierOfRuntime(await loadModelCached(request.root), "compose");
}

/** The compose project of the dev stack, with the variables that select the built images. */
export async function devProject(
  request: DevRequest,
  /** What `up` just built, and from which revision; otherwise derived from the current commit. */
  built?: { tag: string | undefined; revision: Revision },
): Promise<{ project: compose.ComposeProject; topology: Topology }> {
  const tier = await composeTierOf(request);
  const env = request.env ?? process.env;
  const settings = await buildSettings(request.root, env);
  const revision = built?.revision ?? (await readRevision(request.root));
  const name = request.projectName ?? env.TIERS_DEV_PROJECT ?? `${settings.project}-${tier}`;
  const tag = built?.tag ?? imageTag(revision.commit, developmentTarget, revision.dirty);
  const variables = composeVariables(
    settings,
    [],
    {
      ...(await tierVariables(request.root, tier)),
      TIERS_IMAGE_TAG: tag,
      TIERS_GIT_SHA: revision.commit,
    },
    env,
  );
  const project = { name, files: composeFilesFor(tier), env: variables };
  return { project, topology: await loadTopology(request.root, tier, { ...env, ...variables }) };
}

/** A published endpoint of a dev service. */
export interface DevUrl {
  service: string;
  containerPort: number;
  url: string;
}

/** `tiers env dev up`: build what is missing, start, wait for health, return the URLs. */
export async function devUp(request: DevRequest & { timeoutSeconds?: number }): Promise<DevUrl[]> {
  const tier = await composeTierOf(request);
  const { root, reporter } = request;
  const env = request.env ?? process.env;
  // Read once: the images and the stack's TIERS_GIT_SHA name the same commit.
  const revision = await readRevision(root);
  const images = await buildImages({
    root,
    reporter,
    target: developmentTarget,
    tier,
    env,
    revision,
    ...(request.signal ? { signal: request.signal } : {}),
  });
  // The tag just built, not one recomputed later: HEAD may move while the stack starts.
  const { project, topology } = await devProject(request, { tag: images[0]?.tag, revision });
  const names = Object.keys(topology.services);
  await reporter.step(tier, `start ${project.name}`, async () => {
    try {
      await runHost(compose.up(project, { removeOrphans: true }), {
        root,
        env,
        ...(request.signal ? { signal: request.signal } : {}),
      });
    } catch (error) {
      // Compose stops at a dependency that never turned healthy and names a container ID;
      // say which service it was and show why.
      if (!(error instanceof ToolError)) throw error;
      throw (
        (await diagnoseServices(root, project, names, (invocation) =>
          runHost(invocation, { root, env }),
        )) ?? error
      );
    }
  });
  await reporter.step(tier, `wait until ${names.join(", ")} are healthy`, () =>
    waitHealthy(
      root,
      project,
      names,
      request.timeoutSeconds ?? 120,
      (invocation) => runHost(invocation, { root, env }),
      request.signal,
    ),
  );
  const urls = await devUrls(root, project, topology, env);
  for (const url of urls) reporter.info(tier, `${url.service.padEnd(10)} ${url.url}`);
  return urls;
}

/**
 * Where each published port of the running stack can be reached: one inspect of the stack's
 * containers (compose-health.ts serviceStates) instead of a `docker-compose port` start (half a
 * second each) per port; the address is the one that command prints (docker.localAddress).
 */
export async function devUrls(
  root: string,
  project: compose.ComposeProject,
  topology: Topology,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DevUrl[]> {
  const states = await serviceStates(root, project, Object.keys(topology.services), (invocation) =>
    runHost(invocation, { root, env }),
  );
  const urls: DevUrl[] = [];
  for (const service of Object.values(topology.services)) {
    for (const published of service.published) {
      const state = states.get(service.name);
      const address = state && docker.localAddress(state, published.containerPort);
      if (!address) continue;
      const http =
        service.health?.kind === "http" && service.health.port === published.containerPort;
      const scheme = http
        ? "http"
        : published.containerPort >= 9229 && published.containerPort <= 9239
          ? "inspector"
          : "tcp";
      const base = `${address.host}:${address.port}`;
      urls.push({
        service: service.name,
        containerPort: published.containerPort,
        url:
          scheme === "http"
            ? `http://${base}/`
            : scheme === "inspector"
              ? `debugger ${base} (node --inspect)`
              : `tcp://${base}`,
      });
    }
  }
  return urls;
}

/** `tiers env dev down [--volumes]`: stop and remove the stack; data survives without --volumes. */
export async function devDown(request: DevRequest & { volumes?: boolean }): Promise<void> {
  const tier = await composeTierOf(request);
  const { project } = await devProject(request);
  await request.reporter.step(
    tier,
    `remove ${project.name}${request.volumes ? " and its volumes" : " (volumes kept)"}`,
    async () => {
      await runHost(
        compose.down(project, { volumes: Boolean(request.volumes), removeOrphans: true }),
        {
          root: request.root,
          env: request.env ?? process.env,
        },
      );
    },
  );
}

/** Health per service of the dev stack. */
export interface DevServiceStatus {
  service: string;
  state: string;
  health: string;
}

/** `tiers env dev status`: one line per service from the topology, running or not. */
export async function devStatus(request: DevRequest): Promise<DevServiceStatus[]> {
  const { project, topology } = await devProject(request);
  const names = Object.keys(topology.services);
  const states = await serviceStates(request.root, project, names, (invocation) =>
    runHost(invocation, { root: request.root, env: request.env ?? process.env }),
  );
  return names.map((service) => {
    const state = states.get(service);
    return {
      service,
      state: state?.status ?? "not created",
      health: state ? state.health : "-",
    };
  });
}

/** `tiers env dev logs [-f] [service]`: streams the stack's logs with the dev marker. */
export async function devLogs(
  request: DevRequest & { follow?: boolean; service?: string; tail?: number },
): Promise<void> {
  const tier = await composeTierOf(request);
  const { project, topology } = await devProject(request);
  if (request.service && !topology.services[request.service]) {
    throw new UsageError(`no service "${request.service}" in the dev stack`, {
      where: project.files.join(" + "),
      hint: `services: ${Object.keys(topology.services).join(", ")}`,
    });
  }
  await runHost(
    compose.logs(project, {
      follow: Boolean(request.follow),
      ...(request.tail !== undefined ? { tail: request.tail } : {}),
      ...(request.service ? { services: [request.service] } : {}),
    }),
    {
      root: request.root,
      env: request.env ?? process.env,
      onLine: (line) => request.reporter.info(tier, line),
      ...(request.signal ? { signal: request.signal } : {}),
    },
  ).catch((error: unknown) => {
    // Ctrl-C ends `logs -f`: that is the normal way out, not a failure.
    if (request.signal?.aborted) return;
    throw error;
  });
}

/**
 * `tiers env dev shell <service> [command...]`: an interactive shell inside a running service.
 * Runs with the terminal attached (stdio inherited), so it bypasses the captured host runner.
 */
export async function devShell(
  request: DevRequest & { service: string; command?: readonly string[] },
): Promise<number> {
  const { project, topology } = await devProject(request);
  if (!topology.services[request.service]) {
    throw new UsageError(`no service "${request.service}" in the dev stack`, {
      where: project.files.join(" + "),
      hint: `services: ${Object.keys(topology.services).join(", ")}`,
    });
  }
  const states = await serviceStates(request.root, project, [request.service]);
  if (states.get(request.service)?.status !== "running") {
    throw new TiersError(`service ${request.service} is not running`, {
      where: `${project.name}/${request.service}`,
      hint: "start the stack with `tiers env dev up`",
    });
  }
  return openShell(request.root, project, request.service, request.command);
}
