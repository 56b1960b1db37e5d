/**
 * Tool detection for `tiers doctor`: asks this machine which programs exist, what versions
 * they report and whether the Docker engine and registry answer. It only gathers facts; the
 * judgement (usable or not, what a gap disables) is core/doctor.ts. Every child process has a
 * timeout, so a hung daemon makes doctor slow by seconds, never stuck.
 */

import { constants } from "node:fs";
import { access, readdir, realpath, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type {
  DockerClientProbe,
  ImageProbe,
  MachineProbe,
  ProgramProbe,
} from "../../core/doctor.ts";
import { timeoutFor } from "../../core/limits.ts";
import { toolImages } from "../../tools/images.ts";
import { engineGet, engineImage, engineMessage } from "./docker-api.ts";
import {
  type DockerEndpoint,
  dockerEndpoint,
  hasPluginCandidate,
  readDockerConfig,
} from "./docker-config.ts";
import { httpGet } from "./http-get.ts";
import type { MachineSettings } from "./machine.ts";
import { programFor } from "./programs.ts";
import type { VersionCache } from "./version-cache.ts";

export interface ProbeOptions {
  /** Resolved machine settings: the registry address and image references to check. */
  settings: MachineSettings;
  env?: NodeJS.ProcessEnv;
  /** Per-command timeout in milliseconds (default 8000). */
  timeoutMs?: number;
  /**
   * Remembered version answers of unchanged binaries (engines/host/version-cache.ts). Only the
   * plain `--version` questions use it; the engine, the registry, images and anything that
   * depends on more than one file (docker plugins) are asked every time.
   */
  versionCache?: VersionCache;
}

interface Answer {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program for its output; never throws (a failure is an answer too). execa is loaded on
 * the first question, not with doctor: with every version remembered (version-cache.ts) and the
 * engine asked over its socket, doctor starts no program and need not load it.
 */
async function ask(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Answer> {
  const { execa } = await import("execa");
  const result = await execa(file, args, {
    reject: false,
    timeout: timeoutMs,
    env: { ...env, DOCKER_BUILDKIT: "1" },
    extendEnv: false,
    stdin: "ignore",
    stripFinalNewline: true,
  });
  const stderr = String(result.stderr ?? "");
  return {
    ok: !result.failed,
    stdout: String(result.stdout ?? ""),
    stderr: result.timedOut
      ? `no answer within ${timeoutMs / 1000}s`
      : stderr || (result.shortMessage ?? ""),
  };
}

/**
 * `ask`, answered from the version cache while the binary is unchanged; a fresh answer is
 * remembered only when `answered` says it holds a version (a failure may be fixed later).
 */
async function askRemembering(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  cache: VersionCache | undefined,
  answered: (answer: Answer) => boolean,
): Promise<Answer> {
  const remembered = await cache?.get(file, args);
  if (remembered !== undefined) return { ok: true, stdout: remembered, stderr: "" };
  const answer = await ask(file, args, env, timeoutMs);
  if (answered(answer)) await cache?.set(file, args, answer.stdout);
  return answer;
}

/** First line of an error output, short enough for one report line. */
function firstLine(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.trim().slice(0, 160);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isReadableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Where `program` resolves: itself when it is a path, else the first match on PATH. */
export async function locate(program: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (program.includes("/")) return (await isExecutable(program)) ? program : undefined;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Finds a program and asks it for its version; `parse` pulls the version out of stdout. */
async function probeProgram(
  program: string,
  args: readonly string[],
  parse: (stdout: string) => string | undefined,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  cache?: VersionCache,
): Promise<ProgramProbe> {
  const path = await locate(program, env);
  if (!path) return {};
  const answer = await askRemembering(path, args, env, timeoutMs, cache, (a) =>
    Boolean(a.ok && parse(a.stdout)),
  );
  const version = answer.ok ? parse(answer.stdout) : undefined;
  if (version) return { path, version };
  return { path, problem: firstLine(answer.stderr) || "did not report a version" };
}

/** The first dotted version number in a text, without a leading "v". */
export function versionIn(text: string): string | undefined {
  return /v?(\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?)/.exec(text)?.[1];
}

/** Parses JSON output, or undefined when it is not JSON. */
function json<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** A docker client's version and whether `DOCKER_BUILDKIT=1 docker build` works with it. */
async function probeDockerClient(
  path: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  buildxCandidate: boolean,
  cache?: VersionCache,
): Promise<DockerClientProbe> {
  // `docker version` exits 1 when the server is down but still prints the client part first.
  const answer = await askRemembering(
    path,
    ["version", "--format", "{{.Client.Version}}"],
    env,
    timeoutMs,
    cache,
    (a) => versionIn(a.stdout) !== undefined,
  );
  const version = versionIn(answer.stdout);
  if (!version) {
    return {
      path,
      buildkit: false,
      problem: firstLine(answer.stderr) || "did not report a version",
    };
  }
  const major = Number(version.split(".")[0]);
  if (major < 23) {
    // Before 23.0 the classic CLI carries its own BuildKit client: DOCKER_BUILDKIT=1 is enough.
    return { path, version, buildkit: true, buildkitDetail: `built into client ${version}` };
  }
  // From 23.0 on, DOCKER_BUILDKIT=1 builds go through the buildx plugin, which may be absent;
  // with no plugin file where the CLI looks (docker-config.ts), asking the CLI would only say so.
  if (!buildxCandidate)
    return { path, version, buildkit: false, buildkitDetail: "no buildx plugin" };
  const buildx = await ask(path, ["buildx", "version"], env, timeoutMs);
  return buildx.ok
    ? {
        path,
        version,
        buildkit: true,
        buildkitDetail: `buildx ${versionIn(buildx.stdout) ?? "present"}`,
      }
    : { path, version, buildkit: false, buildkitDetail: "no buildx plugin" };
}

/**
 * Whether the engine answers and its version: over the Engine API when the docker CLI would
 * reach it on a unix socket (GET /version, docs.docker.com/reference/api/engine: SystemVersion),
 * else by asking the CLI, which knows every other kind of endpoint.
 */
async function probeEngine(
  endpoint: DockerEndpoint,
  client: string | undefined,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<MachineProbe["engine"]> {
  if ("socket" in endpoint) {
    const answer = await engineGet(endpoint.socket, "/version", timeoutMs);
    if ("error" in answer) return { answers: false, problem: answer.error };
    if (answer.status !== 200) {
      return {
        answers: false,
        problem: `GET /version: HTTP ${answer.status} ${firstLine(engineMessage(answer.body))}`,
      };
    }
    const version = json<{ Version?: unknown }>(answer.body)?.Version;
    const serverVersion = typeof version === "string" ? versionIn(version) : undefined;
    return serverVersion
      ? { answers: true, serverVersion }
      : { answers: false, problem: "GET /version answered without a server version" };
  }
  if (!client) return { answers: false, problem: "no docker client to ask" };
  const answer = await ask(client, ["version", "--format", "{{.Server.Version}}"], env, timeoutMs);
  const serverVersion = answer.ok ? versionIn(answer.stdout) : undefined;
  if (serverVersion) return { answers: true, serverVersion };
  return { answers: false, problem: firstLine(answer.stderr) || "no server version" };
}

async function probeRegistry(
  address: string,
  timeoutMs: number,
): Promise<MachineProbe["registry"]> {
  const limit = Math.min(timeoutMs, timeoutFor("registry-ping").ms);
  const answer = await httpGet({ host: address }, "/v2/", limit);
  if ("failed" in answer) {
    // The socket's error code (ECONNREFUSED, ENOTFOUND), or that it did not answer in time.
    const detail = answer.failed === "timeout" ? "TimeoutError" : answer.failed;
    return { address, status: "unreachable", detail };
  }
  if (answer.status === 200) return { address, status: "ok" };
  if (answer.status === 401) return { address, status: "auth-required" };
  return { address, status: "unexpected", detail: `HTTP ${answer.status}` };
}

/** PostgreSQL server binaries where the services' tests look for them. */
async function probeHostPostgres(
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  cache?: VersionCache,
): Promise<ProgramProbe> {
  const dirs = ["/usr/local/bin"];
  try {
    const versions = await readdir("/usr/lib/postgresql");
    versions.sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // No Debian PostgreSQL packages; PATH is still searched below.
  }
  let postgres: string | undefined;
  for (const dir of dirs) {
    if ((await isExecutable(join(dir, "postgres"))) && (await isExecutable(join(dir, "initdb")))) {
      postgres = join(dir, "postgres");
      break;
    }
  }
  postgres ??= (await locate("initdb", env)) ? await locate("postgres", env) : undefined;
  if (!postgres) return {};
  return probeProgram(postgres, ["--version"], versionIn, env, timeoutMs, cache);
}

/**
 * Whether an image is in the local engine, and its `tiers.recipe` label: over the Engine API
 * (docker-api.ts engineImage) where the CLI would use a socket. Any failure leaves presence
 * unknown, never "absent".
 */
async function probeImage(
  endpoint: DockerEndpoint,
  client: string,
  role: ImageProbe["role"],
  ref: string,
  source: ImageProbe["source"],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<ImageProbe> {
  let labels: Record<string, string> | null | undefined;
  if ("socket" in endpoint) {
    const image = await engineImage(endpoint.socket, ref, timeoutMs);
    if ("absent" in image) return { role, ref, source, present: false };
    if ("unknown" in image) return { role, ref, source };
    labels = image.found.labels;
  } else {
    const answer = await ask(
      client,
      ["image", "inspect", "--format", "{{json .Config.Labels}}", ref],
      env,
      timeoutMs,
    );
    if (!answer.ok) {
      // "No such image" is the common answer; anything else leaves presence unknown.
      return /no such image/i.test(answer.stderr)
        ? { role, ref, source, present: false }
        : { role, ref, source };
    }
    labels = json<Record<string, string> | null>(answer.stdout);
  }
  const recipe = labels?.["tiers.recipe"];
  return recipe
    ? { role, ref, source, present: true, recipe }
    : { role, ref, source, present: true };
}

/** Gathers every fact `tiers doctor` reports, concurrently. */
export async function probeMachine(options: ProbeOptions): Promise<MachineProbe> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 8000;
  const { settings, versionCache: cache } = options;
  // What does not depend on the Docker engine starts first, so the tools' versions and the
  // registry's answer arrive while the engine is asked.
  const independent = Promise.all([
    probeProgram(
      programFor("docker-compose", env),
      ["version", "--short"],
      versionIn,
      env,
      timeoutMs,
      cache,
    ),
    probeRegistry(settings.registry, timeoutMs),
    probeProgram(programFor("skopeo", env), ["--version"], versionIn, env, timeoutMs, cache),
    probeKubectl(env, timeoutMs, cache),
    probeProgram(
      programFor("terraform", env),
      ["version", "-json"],
      (out) => json<{ terraform_version?: string }>(out)?.terraform_version ?? versionIn(out),
      env,
      timeoutMs,
      cache,
    ),
    probeProgram(
      programFor("cosign", env),
      ["version", "--json"],
      (out) => versionIn(json<{ gitVersion?: string }>(out)?.gitVersion ?? out),
      env,
      timeoutMs,
      cache,
    ),
    probeProgram("dagger", ["version"], versionIn, env, timeoutMs, cache),
    probeProgram(programFor("git", env), ["--version"], versionIn, env, timeoutMs, cache),
    probeHostPostgres(env, timeoutMs, cache),
  ] as const);
  // Awaited below; a failure must not surface as unhandled while the engine is asked first.
  independent.catch(() => undefined);

  const [clientPath, pathClient, dockerConfig] = await Promise.all([
    locate(programFor("docker", env), env),
    locate("docker", env),
    readDockerConfig(env),
  ]);
  const differentPathClient =
    pathClient && clientPath && (await realpath(pathClient)) !== (await realpath(clientPath));
  const [endpoint, composePlugin, buildxPlugin] = await Promise.all([
    dockerEndpoint(env, dockerConfig),
    hasPluginCandidate("compose", dockerConfig),
    hasPluginCandidate("buildx", dockerConfig),
  ]);
  // Without a docker-compose plugin file where the CLI looks, `docker compose` is not a
  // command (docker-config.ts): no need to start the CLI to hear it say so.
  const pendingComposeV2 =
    clientPath && composePlugin !== false
      ? probeProgram(clientPath, ["compose", "version", "--short"], versionIn, env, timeoutMs).then(
          (probe): ProgramProbe => (probe.version ? probe : {}),
        )
      : Promise.resolve<ProgramProbe>({});
  pendingComposeV2.catch(() => undefined);
  // Undefined (the config cannot be read) means only asking the CLI tells.
  const buildxCandidate = buildxPlugin !== false;
  const [engine, dockerClient, pathDockerClient] = await Promise.all([
    probeEngine(endpoint, clientPath, env, timeoutMs),
    clientPath
      ? probeDockerClient(clientPath, env, timeoutMs, buildxCandidate, cache)
      : Promise.resolve<DockerClientProbe>({ buildkit: false }),
    differentPathClient
      ? probeDockerClient(pathClient, env, timeoutMs, buildxCandidate, cache)
      : Promise.resolve(undefined),
  ]);

  const images = (["base", "postgres", "busybox"] as const).map((role) => {
    const key = `${role}Image` as const;
    const ref = settings[key];
    const source = settings.source[key];
    if (!clientPath || !engine.answers) return Promise.resolve<ImageProbe>({ role, ref, source });
    return probeImage(endpoint, clientPath, role, ref, source, env, timeoutMs);
  });

  const [
    [composeV1, registry, skopeo, kubectl, terraform, cosign, dagger, git, hostPostgres],
    composeV2,
    imageProbes,
  ] = await Promise.all([independent, pendingComposeV2, Promise.all(images)]);

  const caBundle = settings.extraCaBundle
    ? { path: settings.extraCaBundle, readable: await isReadableFile(settings.extraCaBundle) }
    : undefined;

  return {
    ...(caBundle ? { caBundle } : {}),
    engine,
    dockerClient,
    ...(pathDockerClient ? { pathDockerClient } : {}),
    composeV1,
    composeV2,
    registry,
    skopeo,
    kubectl,
    terraform,
    // The release provision installs: the cosign image's tag (one pin, tools/images.ts).
    cosign: { ...cosign, pinned: toolImages.cosign.tag.replace(/^v/, "") },
    dagger,
    git,
    hostPostgres,
    images: imageProbes as ImageProbe[],
  } as MachineProbe;
}

async function probeKubectl(
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  cache?: VersionCache,
): Promise<MachineProbe["kubectl"]> {
  let kustomizeVersion: string | undefined;
  const probe = await probeProgram(
    programFor("kubectl", env),
    ["version", "--client", "-o", "json"],
    (out) => {
      const parsed = json<{ clientVersion?: { gitVersion?: string }; kustomizeVersion?: string }>(
        out,
      );
      kustomizeVersion = parsed?.kustomizeVersion ? versionIn(parsed.kustomizeVersion) : undefined;
      return versionIn(parsed?.clientVersion?.gitVersion ?? out);
    },
    env,
    timeoutMs,
    cache,
  );
  return kustomizeVersion ? { ...probe, kustomizeVersion } : probe;
}
