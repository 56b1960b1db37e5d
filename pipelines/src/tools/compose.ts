/**
 * Docker Compose: typed options in, argument vectors out. The compose files are Compose-spec
 * files that both the v1 CLI (`docker-compose` 1.29, Debian 12) and the v2 plugin
 * (`docker compose`) accept, so every invocation can be produced for either flavour.
 */
import { timeoutFor } from "../core/limits.ts";
import type { Invocation } from "./invocation.ts";

/** `v1` = the standalone `docker-compose` (1.29); `v2` = the `docker compose` plugin. */
export type ComposeFlavour = "v1" | "v2";

/** Which stack a command addresses. */
export interface ComposeProject {
  /** Compose project name: every container, network and volume is prefixed with it. */
  name: string;
  /** Compose files, base first then overrides (paths relative to the repository root). */
  files: readonly string[];
  /** Variables the compose files interpolate (image tags, run id, host ports). */
  env?: Readonly<Record<string, string>>;
  flavour?: ComposeFlavour;
}

/** Builds the invocation for one compose subcommand. */
export function compose(project: ComposeProject, subcommand: readonly string[]): Invocation {
  const global = ["--project-name", project.name];
  for (const file of project.files) global.push("--file", file);
  const env = { ...(project.env ?? {}) };
  if (project.flavour === "v2") {
    // The plugin runs as `docker`, but its limit is compose's (core/limits.ts), not a build's.
    return {
      tool: "docker",
      args: ["compose", ...global, ...subcommand],
      env,
      deadlineMs: timeoutFor("docker-compose").ms,
    };
  }
  // v1 prints a deprecation notice per run without this; v2 ignores it.
  env.COMPOSE_INTERACTIVE_NO_CLI ??= "1";
  return { tool: "docker-compose", args: [...global, ...subcommand], env };
}

export interface UpOptions {
  services?: readonly string[];
  /** Never build: the pipeline builds images itself (BuildKit, labels, CA secret). */
  noBuild?: boolean;
  detach?: boolean;
  removeOrphans?: boolean;
  /** Start only the named services, not what they depend on (a kept test-tier service). */
  noDeps?: boolean;
}

/** `up`: start services in the background without building. */
export function up(project: ComposeProject, options: UpOptions = {}): Invocation {
  const args = ["up"];
  if (options.detach ?? true) args.push("--detach");
  if (options.noBuild ?? true) args.push("--no-build");
  if (options.removeOrphans) args.push("--remove-orphans");
  if (options.noDeps) args.push("--no-deps");
  args.push(...(options.services ?? []));
  return compose(project, args);
}

export interface DownOptions {
  /** Also remove named volumes (data); without it dev data survives `down`. */
  volumes?: boolean;
  removeOrphans?: boolean;
  /** Seconds to wait for graceful stop. */
  timeout?: number;
}

/** `down`: remove containers and networks (and volumes when asked). */
export function down(project: ComposeProject, options: DownOptions = {}): Invocation {
  const args = ["down"];
  if (options.volumes) args.push("--volumes");
  if (options.removeOrphans ?? true) args.push("--remove-orphans");
  if (options.timeout !== undefined) args.push("--timeout", String(options.timeout));
  return compose(project, args);
}

export interface RunOptions {
  service: string;
  /** Do not start linked services (the caller started and checked them). */
  noDeps?: boolean;
  /** Remove the one-off container when it exits. */
  rm?: boolean;
  /** Override the service's command. */
  command?: readonly string[];
  /** Extra labels on the one-off container. */
  labels?: Readonly<Record<string, string>>;
  /** Give the container a name (so a crashed run can still be found). */
  name?: string;
  /** Start it in the background (`-d`); the caller removes it. */
  detach?: boolean;
  /** `-e NAME=value` entries (plain values: they are on the command line). */
  environment?: Readonly<Record<string, string>>;
  /** `--publish` entries, e.g. `127.0.0.1::8080` (loopback, a port Docker picks). */
  publish?: readonly string[];
}

/** `run`: a one-off container of a service; no TTY so its output streams line by line. */
export function run(project: ComposeProject, options: RunOptions): Invocation {
  const args = ["run", "-T"];
  if (options.detach) args.push("--detach");
  if (options.rm ?? true) args.push("--rm");
  for (const entry of options.publish ?? []) args.push("--publish", entry);
  for (const [key, value] of Object.entries(options.environment ?? {})) {
    args.push("-e", `${key}=${value}`);
  }
  if (options.noDeps) args.push("--no-deps");
  if (options.name) args.push("--name", options.name);
  for (const [key, value] of Object.entries(options.labels ?? {})) {
    args.push("--label", `${key}=${value}`);
  }
  args.push(options.service, ...(options.command ?? []));
  return compose(project, args);
}

export interface LogsOptions {
  follow?: boolean;
  tail?: number;
  services?: readonly string[];
}

/** `logs`: without colour, with service-name prefixes. */
export function logs(project: ComposeProject, options: LogsOptions = {}): Invocation {
  const args = ["logs", "--no-color"];
  if (options.follow) args.push("--follow");
  if (options.tail !== undefined) args.push("--tail", String(options.tail));
  args.push(...(options.services ?? []));
  return compose(project, args);
}

/** `exec`: an interactive command in a running service (a shell, for `tiers env dev shell`). */
export function exec(
  project: ComposeProject,
  service: string,
  command: readonly string[],
  options: { tty?: boolean } = {},
): Invocation {
  const args = ["exec"];
  if (options.tty === false) args.push("-T");
  args.push(service, ...command);
  return compose(project, args);
}

/** `config`: the merged, interpolated configuration (used to check the files parse). */
export function config(project: ComposeProject): Invocation {
  return compose(project, ["config"]);
}
