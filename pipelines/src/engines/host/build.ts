/**
 * Host engine for `tiers build`: builds each service's image once per commit on the local
 * Docker engine (BuildKit), tagged and labelled from core/artefact.ts, with the services and
 * their Dockerfiles taken from the compose files (core/topology.ts). A build whose tag already
 * exists with the same revision is skipped, so building again without a change builds nothing.
 */
import { availableParallelism } from "node:os";
import {
  type BuildTarget,
  imageBuildArgs,
  imageLabels,
  imageRepository,
  imageTag,
  ociLabel,
  projectLabel,
  type Revision,
} from "../../core/artefact.ts";
import { runtimeEnvironment, tierOfRuntime } from "../../core/environment/index.ts";
import { TiersError, UsageError } from "../../core/errors.ts";
import { timeoutFor } from "../../core/limits.ts";
import type { Reporter } from "../../core/log.ts";
import { builtServices, loadTopology, type ServiceTopology } from "../../core/topology.ts";
import * as docker from "../../tools/docker.ts";
import { ToolError } from "../../tools/errors.ts";
import type { Invocation } from "../../tools/invocation.ts";
import { engineImage } from "./docker-api.ts";
import { type DockerEndpoint, dockerEndpoint } from "./docker-config.ts";
import { loadMachineSettings, type MachineSettings } from "./machine.ts";
import { loadModelCached } from "./model-cache.ts";
import { runHost } from "./run.ts";

/** What a build needs to know about this machine and project, resolved once. */
export interface BuildSettings {
  /** Project name: image title prefix and label-key prefix. */
  project: string;
  /** Registry host images are tagged for (and pushed to by `tiers publish`). */
  registry: string;
  namespace: string;
  /** Base image handed to every Dockerfile as `BASE_IMAGE`. */
  baseImage: string;
  /** Image of the PostgreSQL container in the dev and test tiers. */
  postgresImage: string;
  /** Extra CA bundle path, passed as the BuildKit secret `ca`; undefined when none. */
  caBundle: string | undefined;
}

/**
 * Settings for builds and compose runs. Machine settings (contract 2: process env >
 * .tiers/machine.env) win; where the machine has only a public default, the project's
 * environments/ value applies (registry host, base image, PostgreSQL image, CA bundle).
 */
export async function buildSettings(
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BuildSettings> {
  const model = await loadModelCached(root);
  const first = model.tiers[model.order[0]!]!;
  const machine = await loadMachineSettings(root, env);
  const explicit = (name: keyof MachineSettings["source"]) => machine.source[name] !== "default";
  const postgres = first.dependencies.postgres as { image?: string | null } | undefined;
  return {
    project: model.project,
    registry: explicit("registry") ? machine.registry : first.registry.host,
    namespace: first.registry.namespace,
    baseImage: explicit("baseImage") ? machine.baseImage : first.build.base_image,
    postgresImage: explicit("postgresImage")
      ? machine.postgresImage
      : (postgres?.image ?? machine.postgresImage),
    caBundle: explicit("extraCaBundle")
      ? machine.extraCaBundle
      : (first.build.extra_ca_bundle ?? undefined),
  };
}

/** The commit the working tree is at, its timestamp, whether it is dirty, and its source URL. */
export async function readRevision(root: string): Promise<Revision> {
  const git = async (args: string[]) =>
    (await runHost({ tool: "git", args }, { root })).stdout.trim();
  // The three reads are independent of each other: run them at once (one git start each).
  // HEAD's commit and its committer time come from one `git show` (%H and %ct, git-show(1)
  // PRETTY FORMATS).
  const head = (async () => {
    let shown: string;
    try {
      shown = await git(["show", "-s", "--format=%H%n%ct", "HEAD"]);
    } catch (error) {
      throw new TiersError("cannot read the current commit", {
        where: root,
        hint: "run tiers inside a git repository with at least one commit",
        cause: error,
      });
    }
    const [commit = "", seconds = ""] = shown.split("\n");
    if (!/^[0-9a-f]{40,64}$/.test(commit) || !/^\d+$/.test(seconds)) {
      throw new TiersError(`git show printed no commit and time for HEAD: ${shown}`, {
        where: root,
      });
    }
    return { commit, committedAt: new Date(Number(seconds) * 1000).toISOString() };
  })();
  // Settled, then checked in order: outside a repository the error is "cannot read the
  // current commit", whichever read failed first.
  const reads = [
    head,
    git(["status", "--porcelain", "--untracked-files=normal"]),
    runHost({ tool: "git", args: ["remote", "get-url", "origin"] }, { root, reject: false }),
  ] as const;
  for (const read of await Promise.allSettled(reads)) {
    if (read.status === "rejected") throw read.reason;
  }
  const [{ commit, committedAt }, status, origin] = await Promise.all(reads);
  return { commit, committedAt, dirty: status.length > 0, source: sourceUrl(root, origin) };
}

/** Where the source lives: `git remote get-url origin`'s answer, else the checkout's file URL. */
export function sourceUrl(root: string, origin: { exitCode: number; stdout: string }): string {
  return origin.exitCode === 0 && origin.stdout.trim() ? origin.stdout.trim() : `file://${root}`;
}

/** One service image, built now or found already built. */
export interface BuiltImage {
  service: string;
  target: BuildTarget;
  /** `<registry>/<namespace>/<service>` */
  repository: string;
  tag: string;
  /** `<repository>:<tag>` */
  ref: string;
  imageId: string;
  /** True when an image with this tag and revision existed, so nothing was built. */
  reused: boolean;
}

export interface BuildRequest {
  root: string;
  reporter: Reporter;
  /** Only these services (default: every service compose builds). */
  services?: readonly string[];
  target: BuildTarget;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Marker of the tier the build is for (🜂 for dev images, 🜁 for test images). */
  tier?: string;
  /** Stream docker's build output (otherwise only its tail is shown on failure). */
  onLine?: (line: string) => void;
  /** Build even when an image with this tag and revision exists. */
  force?: boolean;
  /** Ignore the layer cache too (implies force). */
  noCache?: boolean;
  /** The working tree's revision, when the caller has read it already. */
  revision?: Revision;
}

/** Which compose services are built here, restricted to `wanted` (an unknown name is a usage error). */
export async function servicesToBuild(
  root: string,
  wanted: readonly string[] | undefined,
): Promise<ServiceTopology[]> {
  // The compose tier's topology lists what is built here (core/environment/roles.ts).
  const composeTier = tierOfRuntime(await loadModelCached(root), "compose");
  const all = builtServices(await loadTopology(root, composeTier, {}));
  if (!wanted?.length) return all;
  const unknown = wanted.filter((name) => !all.some((s) => s.name === name));
  if (unknown.length) {
    throw new UsageError(`unknown service ${unknown.join(", ")}`, {
      where: "compose/compose.yaml",
      hint: `services built here: ${all.map((s) => s.name).join(", ")}`,
    });
  }
  return all.filter((s) => wanted.includes(s.name));
}

/** Builds (or reuses) the image of each service for `target`. */
export async function buildImages(request: BuildRequest): Promise<BuiltImage[]> {
  const { root, reporter, target } = request;
  const env = request.env ?? process.env;
  const [settings, revision, services] = await Promise.all([
    buildSettings(root, env),
    request.revision ?? readRevision(root),
    servicesToBuild(root, request.services),
  ]);
  if (revision.dirty) {
    reporter.warn(
      request.tier,
      `working tree has uncommitted changes: images are tagged ${revision.commit.slice(0, 12)}…-dirty, rebuilt every time and never published`,
    );
  }
  const refs = services.map((service) => {
    const repository = imageRepository(settings.registry, settings.namespace, service.name);
    const tag = imageTag(revision.commit, target, revision.dirty);
    return { repository, tag, ref: `${repository}:${tag}` };
  });
  // What the engine already has, asked for every service at once (a no-change build is just
  // these reads).
  const engine = dockerEndpoint(env);
  const found = await Promise.all(refs.map(({ ref }) => findImage(root, ref, env, engine)));
  const buildOne = async (service: ServiceTopology, index: number): Promise<BuiltImage> => {
    const { repository, tag, ref } = refs[index]!;
    const existing = found[index];
    const labels = imageLabels({
      project: settings.project,
      service: service.name,
      target,
      revision,
    });
    const reused =
      existing !== undefined &&
      !revision.dirty &&
      !request.force &&
      !request.noCache &&
      existing.labels[ociLabel.revision] === revision.commit &&
      existing.labels[projectLabel(settings.project).target] === target;
    if (reused) {
      reporter.skipped(request.tier, `build ${service.name} (${target})`, `${ref} already built`);
    } else {
      await reporter.step(request.tier, `build ${service.name} (${target}) → ${ref}`, async () => {
        const image = { target, ref, labels, revision };
        const invocation = serviceBuild(settings, service, image, request.noCache === true);
        await runHost(invocation, {
          root,
          env,
          ...(request.signal ? { signal: request.signal } : {}),
          // Several builds may stream at once: each line says whose it is.
          ...(request.onLine
            ? { onLine: (line: string) => request.onLine!(`${service.name} │ ${line}`) }
            : {}),
        });
      });
    }
    const image = reused ? existing : await findImage(root, ref, env, engine);
    if (!image) throw new TiersError(`docker build finished but ${ref} is missing`, { where: ref });
    return { service: service.name, target, repository, tag, ref, imageId: image.id, reused };
  };
  // The services' builds are independent (each its own Dockerfile and tag), so they run side
  // by side, at most `buildConcurrency` at once: one build alone leaves cores idle while it
  // sends its context, resolves its cache and exports its layers.
  const outcomes = await settleBounded(services, buildConcurrency(env), buildOne);
  const failed = outcomes.flatMap((outcome, index) =>
    outcome.status === "rejected" ? [{ service: services[index]!, reason: outcome.reason }] : [],
  );
  if (failed.length === 0) {
    return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<BuiltImage>).value);
  }
  // A failed build fails the whole build, after the others finished (a finished image is
  // complete and reused next time; nothing is pushed here, so nothing is half-published).
  request.signal?.throwIfAborted();
  const [first] = failed;
  const built = services.filter((s) => !failed.some((f) => f.service === s));
  const message = first!.reason instanceof Error ? first!.reason.message : String(first!.reason);
  throw new TiersError(
    `build of ${failed.map((f) => f.service.name).join(", ")} (${target}) failed: ${message}`,
    {
      where: first!.service.build?.dockerfile ?? first!.service.name,
      hint: built.length
        ? `${built.map((s) => s.name).join(", ")} built fine; fix the failing build and run it again (finished images are reused)`
        : "fix the failing build and run it again",
      cause: first!.reason,
    },
  );
}

/**
 * How many service images are built at once: TIERS_BUILD_CONCURRENCY, else one per core
 * (BuildKit runs each build's own steps in parallel too, so more would only contend).
 */
export function buildConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.TIERS_BUILD_CONCURRENCY;
  if (text === undefined || text === "") return Math.max(1, availableParallelism());
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`TIERS_BUILD_CONCURRENCY must be a whole number ≥ 1, not "${text}"`, {
      where: "TIERS_BUILD_CONCURRENCY",
      hint: "unset it to build one image per core at once, or set 1 to build one after another",
    });
  }
  return value;
}

/**
 * Runs `work` on every item, at most `limit` at a time, and settles them all: a failure does
 * not stop the others (each result stays where its item was).
 */
export async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { status: "fulfilled", value: await work(items[index]!, index) };
      } catch (reason) {
        results[index] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** What one service image is built as, decided by core/artefact.ts. */
export interface ServiceImage {
  target: BuildTarget;
  /** `<repository>:<tag>` */
  ref: string;
  labels: Readonly<Record<string, string>>;
  revision: Revision;
}

/** The `docker build` of one service: its Dockerfile target, tag, labels and build arguments. */
export function serviceBuild(
  settings: BuildSettings,
  service: ServiceTopology,
  image: ServiceImage,
  /** Ignore the layer cache. */
  noCache = false,
): Invocation {
  return docker.build({
    context: service.build!.context,
    dockerfile: service.build!.dockerfile,
    target: image.target,
    tags: [image.ref],
    labels: image.labels,
    buildArgs: imageBuildArgs({ baseImage: settings.baseImage, revision: image.revision }),
    ...(settings.caBundle ? { caBundle: settings.caBundle } : {}),
    ...(noCache ? { noCache: true } : {}),
  });
}

/** The local image `ref`, or undefined when the engine has none. */
export async function findImage(
  root: string,
  ref: string,
  env: NodeJS.ProcessEnv = process.env,
  /** Where the engine is (docker-config.ts); one resolution can serve several questions. */
  engine: Promise<DockerEndpoint> = dockerEndpoint(env),
): Promise<docker.LocalImage | undefined> {
  // Over the engine's socket where the CLI would use one: a no-change build is these reads,
  // and a docker CLI process per image costs more than the rest of the build's own work.
  const endpoint = await engine;
  if ("socket" in endpoint) {
    const image = await engineImage(endpoint.socket, ref, timeoutFor("docker-engine", env).ms);
    if ("found" in image) return image.found;
    if ("absent" in image) return undefined;
    // Unknown (no engine, no answer): the CLI below says what is wrong, in its own words.
  }
  const invocation = docker.inspectImage(ref);
  const result = await runHost(invocation, { root, env, reject: false });
  if (result.exitCode === 0) return docker.parseImageInspect(result.stdout);
  if (docker.isNoSuchImage(result)) return undefined;
  throw new ToolError(invocation, result);
}

/**
 * The variables the compose files interpolate, so compose runs exactly the images the pipeline
 * built: `${TIERS_IMAGE_PREFIX}/<service>:${TIERS_IMAGE_TAG}`, the PostgreSQL image, and the
 * label-key prefix (the project name). Host-port overrides (TIERS_*_PORT) pass through.
 */
export function composeVariables(
  settings: BuildSettings,
  images: readonly BuiltImage[],
  extra: Record<string, string> = {},
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const tags = [...new Set(images.map((image) => image.tag))];
  const passthrough = Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        /^TIERS_[A-Z0-9_]+_PORT$/.test(entry[0]) && entry[1] !== undefined,
    ),
  );
  return {
    ...passthrough,
    TIERS_IMAGE_PREFIX: `${settings.registry}/${settings.namespace}`,
    ...(tags.length === 1 ? { TIERS_IMAGE_TAG: tags[0]! } : {}),
    TIERS_POSTGRES_IMAGE: settings.postgresImage,
    TIERS_BASE_IMAGE: settings.baseImage,
    TIERS_LABEL_PREFIX: settings.project,
    ...extra,
  };
}

/**
 * The runtime variables of a tier (TIERS_TIER, TIERS_LOG_LEVEL, ...) from the environment
 * model, for compose to hand to the services. NODE_ENV stays with each Dockerfile target.
 */
export async function tierVariables(root: string, tier: string): Promise<Record<string, string>> {
  const { NODE_ENV: _nodeEnv, ...variables } = runtimeEnvironment(
    await loadModelCached(root),
    tier,
  );
  return variables;
}
