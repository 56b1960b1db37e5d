/**
 * The Dagger runner: the twin of engines/host/run.ts. It runs one tool `Invocation` in the
 * tool's pinned image, with the repository mounted, secrets bound by name as Dagger secrets
 * (`withSecretVariable` / `withMountedSecret`) and services bound by alias. It holds no
 * pipeline logic: the argument vector comes untouched from the tool module.
 *
 * `invocationContainer` only builds the query (Dagger evaluates lazily), so tests can read the
 * exact operations without an engine; `runDagger` evaluates it and returns a ToolResult, so core
 * code written against a runner function works the same on both engines.
 */
import {
  type Container,
  type Directory,
  dag,
  ReturnType,
  type Secret,
  type Service,
} from "@dagger.io/dagger";
import { ToolError } from "../../tools/errors.ts";
import { toolImageRef, toolImages } from "../../tools/images.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import { type DaggerSecrets, requireSecret } from "./secrets.ts";

/** Where the repository is mounted in every tool container; relative `cwd`s resolve under it. */
export const repoMount = "/repo";

export interface DaggerRunOptions {
  /** The repository (already filtered by the module's ignore list), mounted at /repo. */
  source?: Directory;
  /** Secrets by logical name; a name the invocation needs but the map lacks is an error. */
  secrets?: DaggerSecrets;
  /** Services reachable from the tool by alias (hostname), e.g. `{ postgres: db }`. */
  services?: Readonly<Record<string, Service>>;
  /**
   * A value unique to this call. Steps with side effects (push, sign, apply) set it so the
   * engine never answers them from its exec cache: an uncached function alone does not stop
   * BuildKit from reusing an identical earlier exec.
   */
  runId?: string;
  /** Run in this container instead of the tool's pinned image (the program must be on PATH). */
  base?: Container;
  /**
   * Registry credentials as a Docker config file (see `registryAuth`), for tools that talk to
   * a registry themselves (cosign, skopeo). Mounted as a secret file, never an argument.
   */
  registryAuth?: Secret;
}

/** Where the registry credentials file is mounted; DOCKER_CONFIG and REGISTRY_AUTH_FILE point at it. */
export const registryAuthDir = "/tiers/docker";

/** Builds (without running) the container that executes `invocation`. */
export function invocationContainer(
  invocation: Invocation,
  options: DaggerRunOptions = {},
): Container {
  const neededBy = `${invocation.tool} ${invocation.args[0] ?? ""}`.trim();
  let container = options.base ?? dag.container().from(toolImageRef(invocation.tool));
  if (options.source) container = container.withMountedDirectory(repoMount, options.source);
  const cwd = invocation.cwd
    ? invocation.cwd.startsWith("/")
      ? invocation.cwd
      : `${repoMount}/${invocation.cwd}`
    : repoMount;
  container = container.withWorkdir(cwd);
  for (const [name, value] of Object.entries(invocation.env ?? {})) {
    container = container.withEnvVariable(name, value);
  }
  for (const [name, secretName] of Object.entries(invocation.secretEnv ?? {})) {
    container = container.withSecretVariable(
      name,
      requireSecret(options.secrets ?? {}, secretName, neededBy),
    );
  }
  for (const file of invocation.secretFiles ?? []) {
    container = container.withMountedSecret(
      file.path,
      requireSecret(options.secrets ?? {}, file.secret, neededBy),
    );
  }
  if (options.registryAuth) {
    container = container
      .withMountedSecret(`${registryAuthDir}/config.json`, options.registryAuth)
      .withEnvVariable("DOCKER_CONFIG", registryAuthDir)
      .withEnvVariable("REGISTRY_AUTH_FILE", `${registryAuthDir}/config.json`);
  }
  for (const [alias, service] of Object.entries(options.services ?? {})) {
    container = container.withServiceBinding(alias, service);
  }
  if (options.runId) container = container.withEnvVariable("TIERS_RUN_ID", options.runId);
  const argv = [toolImages[invocation.tool].program, ...invocation.args];
  return container.withExec(
    argv,
    invocation.stdin === undefined
      ? { expect: ReturnType.Any }
      : { expect: ReturnType.Any, stdin: invocation.stdin },
  );
}

/**
 * Runs `invocation` on the Dagger engine and returns its output. A non-zero exit becomes a
 * ToolError carrying the command (secrets only as names) and the output, exactly like the host
 * runner, unless `reject: false`. Dagger scrubs secret values from output itself.
 */
export async function runDagger(
  invocation: Invocation,
  options: DaggerRunOptions & { reject?: boolean } = {},
): Promise<ToolResult> {
  const done = invocationContainer(invocation, options);
  const [exitCode, stdout, stderr] = await Promise.all([
    done.exitCode(),
    done.stdout(),
    done.stderr(),
  ]);
  if (exitCode !== 0 && options.reject !== false) {
    throw new ToolError(invocation, { exitCode, stdout, stderr });
  }
  return { exitCode, stdout: stdout.trimEnd(), stderr: stderr.trimEnd() };
}

/** A runner function with the host runner's shape, for core code that takes one. */
export function daggerRunner(options: DaggerRunOptions) {
  return (invocation: Invocation, extra: { reject?: boolean } = {}) =>
    runDagger(invocation, { ...options, ...extra });
}

/** A fresh value for `runId`: time plus randomness, so two calls in one second still differ. */
export function freshRunId(now: Date = new Date()): string {
  return `${now.toISOString()}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * A Docker config file holding one registry login, as a Dagger secret. cosign and skopeo read
 * credentials only from such a file; the password is read inside the engine session and
 * re-registered as a secret, so it never reaches an argument, a layer or a log.
 */
export async function registryAuth(
  host: string,
  username: string,
  password: Secret,
): Promise<Secret> {
  return dag.setSecret("registry-auth", dockerConfig(host, username, await password.plaintext()));
}

/** The Docker config file text for one registry login (what `docker login` would write). */
export function dockerConfig(host: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return `${JSON.stringify({ auths: { [host]: { auth } } }, null, 2)}\n`;
}
