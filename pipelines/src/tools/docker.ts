/**
 * The docker CLI: typed options in, argument vectors out; output parsed into typed values.
 * Builds always go through BuildKit (the host runner uses /usr/bin/docker with
 * DOCKER_BUILDKIT=1) because the Dockerfiles use `RUN --mount=type=cache|secret`.
 */
import { ToolError } from "./errors.ts";
import type { Invocation, ToolResult } from "./invocation.ts";
import { classifyFailure as classifyRegistryOutput } from "./registry.ts";

/** Typed failures callers branch on. */
export type DockerErrorKind =
  | "no-such-image"
  | "registry-unreachable"
  | "registry-denied"
  | "daemon-unreachable";

export interface BuildOptions {
  /** Build context directory (relative to the repository root unless absolute). */
  context: string;
  /** Dockerfile path (relative to the repository root unless absolute). */
  dockerfile: string;
  /** Multi-stage target: production, development or test. */
  target: string;
  /** Every tag to apply; the first is the canonical one. */
  tags: readonly string[];
  labels: Readonly<Record<string, string>>;
  buildArgs?: Readonly<Record<string, string>>;
  /**
   * Host path of an extra CA bundle, given to the build as the BuildKit secret `ca` (never a
   * layer): `RUN --mount=type=secret,id=ca NODE_EXTRA_CA_CERTS=/run/secrets/ca npm ci`.
   */
  caBundle?: string;
  /** Write the built image ID here (`--iidfile`). */
  iidFile?: string;
  /** Plain progress so log lines stream readably instead of a TTY animation. */
  progress?: "plain" | "auto" | "tty";
  /** Ignore the layer cache (a truly cold build, for benchmarks and suspected cache rot). */
  noCache?: boolean;
}

/** `docker build` with BuildKit: one --label per label, --target, build args, optional CA. */
export function build(options: BuildOptions): Invocation {
  const args: string[] = ["build", "--progress", options.progress ?? "plain"];
  args.push("--file", options.dockerfile, "--target", options.target);
  for (const tag of options.tags) args.push("--tag", tag);
  for (const [key, value] of Object.entries(options.labels).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    args.push("--label", `${key}=${value}`);
  }
  for (const [key, value] of Object.entries(options.buildArgs ?? {})) {
    args.push("--build-arg", `${key}=${value}`);
  }
  if (options.caBundle) args.push("--secret", `id=ca,src=${options.caBundle}`);
  if (options.iidFile) args.push("--iidfile", options.iidFile);
  if (options.noCache) args.push("--no-cache");
  args.push(options.context);
  return { tool: "docker", args, env: { DOCKER_BUILDKIT: "1" } };
}

/** What the pipeline needs to know about a local image. */
export interface LocalImage {
  id: string;
  labels: Record<string, string>;
  repoTags: string[];
  /** `repo@sha256:...` entries, filled once the image has been pushed or pulled. */
  repoDigests: string[];
  created: string;
}

/** `docker image inspect` of one reference. */
export function inspectImage(ref: string): Invocation {
  return { tool: "docker", args: ["image", "inspect", "--format", "{{json .}}", ref] };
}

/** Parses `docker image inspect --format '{{json .}}'`. */
export function parseImageInspect(stdout: string): LocalImage {
  const raw = JSON.parse(stdout.trim().split("\n")[0] ?? "{}") as {
    Id?: string;
    RepoTags?: string[] | null;
    RepoDigests?: string[] | null;
    Created?: string;
    Config?: { Labels?: Record<string, string> | null };
  };
  return {
    id: raw.Id ?? "",
    labels: raw.Config?.Labels ?? {},
    repoTags: raw.RepoTags ?? [],
    repoDigests: raw.RepoDigests ?? [],
    created: raw.Created ?? "",
  };
}

/** True when a failed docker call means "that image does not exist locally". */
export function isNoSuchImage(result: Pick<ToolResult, "stderr" | "exitCode">): boolean {
  return result.exitCode !== 0 && /no such (image|object)/i.test(result.stderr);
}

/** `docker tag`. */
export function tag(source: string, target: string): Invocation {
  return { tool: "docker", args: ["tag", source, target] };
}

/** `docker push` of one tag. */
export function push(ref: string): Invocation {
  return { tool: "docker", args: ["push", ref] };
}

/** The digest docker prints when a push finishes: `<tag>: digest: sha256:... size: N`. */
export function parsePushDigest(stdout: string): string | undefined {
  return /digest: (sha256:[0-9a-f]{64})/.exec(stdout)?.[1];
}

/**
 * Classifies a failed push or pull so the user is told "the registry is down" or "the registry
 * refused" rather than shown raw daemon output.
 */
export function classifyRegistryFailure(output: string): DockerErrorKind | undefined {
  if (/Cannot connect to the Docker daemon/i.test(output)) return "daemon-unreachable";
  // The registry speaks the same way to docker as to skopeo: one classifier for both.
  const kind = classifyRegistryOutput(output);
  if (kind === "registry-timeout") return "registry-unreachable";
  return kind === "manifest-unknown" ? undefined : kind;
}

/** Resource kinds the pipeline creates and later removes by label. */
export type ResourceKind = "container" | "network" | "volume";

/** Lists the names of resources carrying every given label (names read well in reports). */
export function listByLabel(kind: ResourceKind, labels: Readonly<Record<string, string>>) {
  const filters = Object.entries(labels).flatMap(([key, value]) => [
    "--filter",
    value === "" ? `label=${key}` : `label=${key}=${value}`,
  ]);
  const args =
    kind === "container"
      ? ["ps", "--all", ...filters, "--format", "{{.Names}}"]
      : kind === "network"
        ? ["network", "ls", ...filters, "--format", "{{.Name}}"]
        : ["volume", "ls", ...filters, "--format", "{{.Name}}"];
  return { tool: "docker", args } satisfies Invocation;
}

/** Values of one label on every container and network carrying the selector labels. */
export function labelValues(
  kind: Exclude<ResourceKind, "volume">,
  selector: Readonly<Record<string, string>>,
  keys: readonly string[],
): Invocation {
  const filters = Object.entries(selector).flatMap(([key, value]) => [
    "--filter",
    `label=${key}=${value}`,
  ]);
  const format = keys.map((key) => `{{.Label ${JSON.stringify(key)}}}`).join("\t");
  const args =
    kind === "container"
      ? ["ps", "--all", ...filters, "--format", format]
      : ["network", "ls", ...filters, "--format", format];
  return { tool: "docker", args };
}

/** `logs --tail <n> <container>`: a container's last lines (stdout and stderr). */
export function logs(container: string, tail: number): Invocation {
  return { tool: "docker", args: ["logs", "--tail", String(tail), container] };
}

/** `port <container> <port>/tcp`: the host addresses a published container port is bound to. */
export function port(container: string, containerPort: number): Invocation {
  return { tool: "docker", args: ["port", container, `${containerPort}/tcp`] };
}

/**
 * The loopback host port of `docker port` output (`127.0.0.1:49153`, one binding a line);
 * undefined when the port is not published on 127.0.0.1.
 */
export function parseLoopbackPort(stdout: string): number | undefined {
  for (const line of parseIdList(stdout)) {
    const match = /^127\.0\.0\.1:(\d+)$/.exec(line);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Parses one-ID-per-line output (ps -q, network ls -q, volume ls -q). */
export function parseIdList(stdout: string): string[] {
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Removes resources: containers forcibly (with their anonymous volumes). */
export function remove(kind: ResourceKind, ids: readonly string[]): Invocation {
  const args =
    kind === "container"
      ? ["rm", "--force", "--volumes", ...ids]
      : kind === "network"
        ? ["network", "rm", ...ids]
        : ["volume", "rm", "--force", ...ids];
  return { tool: "docker", args };
}

/** Container state and health, as `docker inspect` reports them. */
export interface ContainerState {
  id: string;
  name: string;
  /** `running`, `exited`, ... */
  status: string;
  /** `healthy`, `unhealthy`, `starting`, or `none` when the container has no healthcheck. */
  health: "healthy" | "unhealthy" | "starting" | "none";
  exitCode: number;
  labels: Record<string, string>;
  /**
   * Host bindings of each published container port (TCP), as `NetworkSettings.Ports` holds
   * them: what `docker port` and `docker-compose port` print, read in the same inspect.
   */
  published: Record<number, Array<{ hostIp: string; hostPort: number }>>;
  /** The health probe Docker runs (`Config.Healthcheck.Test`: `CMD`/`CMD-SHELL` then words). */
  healthTest: string[];
  /** How long one run of that probe may take (`Config.Healthcheck.Timeout`); 0 when unset. */
  healthTimeoutMs: number;
}

/** `docker inspect` of containers. */
export function inspectContainers(ids: readonly string[]): Invocation {
  return { tool: "docker", args: ["container", "inspect", ...ids] };
}

/** Parses `docker container inspect` (a JSON array). */
export function parseContainerInspect(stdout: string): ContainerState[] {
  const raw = JSON.parse(stdout) as Array<{
    Id: string;
    Name: string;
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
    Config: {
      Labels?: Record<string, string> | null;
      Healthcheck?: { Test?: string[] | null; Timeout?: number };
    };
    NetworkSettings?: {
      Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> | null;
    };
  }>;
  return raw.map((c) => ({
    id: c.Id,
    name: c.Name.replace(/^\//, ""),
    status: c.State.Status,
    health: (c.State.Health?.Status as ContainerState["health"] | undefined) ?? "none",
    exitCode: c.State.ExitCode,
    labels: c.Config.Labels ?? {},
    published: publishedPorts(c.NetworkSettings?.Ports ?? {}),
    healthTest: c.Config.Healthcheck?.Test ?? [],
    // Docker keeps durations in nanoseconds.
    healthTimeoutMs: Math.round((c.Config.Healthcheck?.Timeout ?? 0) / 1e6),
  }));
}

/**
 * Where this host reaches a container's published port: the address `docker-compose port`
 * prints, i.e. the port's first binding (docker/compose v1 compose/container.py
 * get_local_port), with a wildcard bind address read as loopback. Undefined when unpublished.
 */
export function localAddress(
  state: Pick<ContainerState, "published">,
  containerPort: number,
): { host: string; port: number } | undefined {
  const binding = state.published[containerPort]?.[0];
  if (!binding?.hostPort) return undefined;
  const wildcard = binding.hostIp === "" || binding.hostIp === "0.0.0.0";
  return { host: wildcard ? "127.0.0.1" : binding.hostIp, port: binding.hostPort };
}

/** `{"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}]}` → `{8080: [...]}`; exposed-only ports (null) are left out. */
function publishedPorts(
  ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null>,
): ContainerState["published"] {
  const out: ContainerState["published"] = {};
  for (const [key, bindings] of Object.entries(ports)) {
    const match = /^(\d+)\/tcp$/.exec(key);
    if (!match || !bindings?.length) continue;
    out[Number(match[1])] = bindings.map((b) => ({
      hostIp: b.HostIp,
      hostPort: Number(b.HostPort),
    }));
  }
  return out;
}

/**
 * `docker exec` of a container's own health probe, run the way the engine runs it: `CMD` words
 * as the argument vector, `CMD-SHELL` through `/bin/sh -c` (moby daemon/health.go, cmdProbe
 * with `shell` set for CMD-SHELL). Undefined for no probe (`NONE`, or none set).
 */
export function execHealthProbe(
  state: Pick<ContainerState, "id" | "healthTest" | "healthTimeoutMs">,
): Invocation | undefined {
  const [kind, ...words] = state.healthTest;
  const command =
    kind === "CMD" && words.length
      ? words
      : kind === "CMD-SHELL" && words.length
        ? ["/bin/sh", "-c", words.join(" ")]
        : undefined;
  if (!command) return undefined;
  // Bounded like the engine bounds it: the probe's timeout, else Docker's default of 30 s
  // (moby daemon/health.go defaultProbeTimeout), plus a second for the CLI itself.
  const deadlineMs = (state.healthTimeoutMs || 30_000) + 1000;
  return { tool: "docker", args: ["exec", state.id, ...command], deadlineMs };
}

/** Raises a typed ToolError for a failed push, naming the registry. */
export function pushError(
  invocation: Invocation,
  result: ToolResult,
  registry: string,
): ToolError<DockerErrorKind> {
  const output = `${result.stderr}\n${result.stdout}`;
  const kind = classifyRegistryFailure(output) ?? "failed";
  const message =
    kind === "registry-unreachable"
      ? `registry ${registry} is unreachable`
      : kind === "registry-denied"
        ? `registry ${registry} refused the push`
        : `push to registry ${registry} failed`;
  return new ToolError<DockerErrorKind>(invocation, {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    kind,
    message,
    hint:
      kind === "registry-unreachable"
        ? `start the registry (bash scripts/provision.sh starts one on 127.0.0.1:5000) or set registry.host in environments/ / TIERS_REGISTRY; nothing was recorded`
        : "check the registry's credentials and permissions; nothing was recorded",
  });
}
