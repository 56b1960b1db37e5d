/**
 * What the docker CLI's own configuration decides, read the way docker/cli reads it, so tiers
 * can answer without starting the CLI and still hear what the CLI would say:
 *
 * Which engine endpoint (cli/command/cli.go `resolveContextName`, `getServerHost`; opts/hosts.go
 * `ParseHost`):
 *   1. DOCKER_HOST, when set, names the endpoint (and then the context is "default");
 *   2. else DOCKER_CONTEXT, else `currentContext` of `$DOCKER_CONFIG/config.json` (default
 *      `~/.docker/config.json`, cli/config/config.go `Dir`), names a context; none, or
 *      "default", means the default endpoint;
 *   3. the default endpoint is unix:///var/run/docker.sock (opts/hosts_unix.go `defaultHost`).
 * Only a unix socket is spoken by tiers. Anything else (tcp with TLS settings, ssh, fd, a named
 * context whose endpoint lives in the context store, a config file that cannot be read) is left
 * to the docker CLI, which knows all of it: the endpoint then says why.
 *
 * Whether `docker <name>` can be a CLI plugin at all (cli-plugins/manager/manager.go
 * `getPluginDirs`, `addPluginCandidatesFromDir`; manager_unix.go `defaultSystemPluginDirs`): the
 * CLI looks for `docker-<name>` only in the config's `cliPluginsExtraDirs`, then
 * `$DOCKER_CONFIG/cli-plugins`, then four system directories, keeping regular files and
 * symlinks that resolve. With no such file, `docker <name>` is "not a docker command".
 */
import { lstat, readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** The CLI's config.json as far as tiers needs it, or why it could not be read. */
export type DockerConfig =
  | { file: string; currentContext?: unknown; cliPluginsExtraDirs?: unknown }
  | { file: string; unreadable: string };

/** Reads `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`); absent is empty. */
export async function readDockerConfig(env: NodeJS.ProcessEnv): Promise<DockerConfig> {
  const dir = env.DOCKER_CONFIG || join(env.HOME || homedir(), ".docker");
  const file = join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? { file } : { file, unreadable: `cannot be read (${code})` };
  }
  try {
    const parsed = JSON.parse(text) as Record<string, unknown> | null;
    if (!parsed || typeof parsed !== "object") return { file, unreadable: "is not a JSON object" };
    return {
      file,
      currentContext: parsed.currentContext,
      cliPluginsExtraDirs: parsed.cliPluginsExtraDirs,
    };
  } catch {
    return { file, unreadable: "is not JSON" };
  }
}

/** Where the docker CLI would reach the engine: a unix socket, or a reason to ask the CLI. */
export type DockerEndpoint = { socket: string } | { cli: string };

/** opts/hosts_unix.go: `defaultUnixSocket`. */
export const defaultDockerSocket = "/var/run/docker.sock";

/** The engine endpoint the docker CLI would use with `env` (see the module comment). */
export async function dockerEndpoint(
  env: NodeJS.ProcessEnv,
  config?: DockerConfig,
): Promise<DockerEndpoint> {
  // ParseHost trims the value; an empty value means the default host.
  const host = env.DOCKER_HOST?.trim();
  if (host) {
    if (!host.startsWith("unix://")) return { cli: `DOCKER_HOST=${host} is not a unix socket` };
    const path = host.slice("unix://".length);
    return { socket: path === "" ? defaultDockerSocket : path };
  }
  if (env.DOCKER_CONTEXT) {
    return env.DOCKER_CONTEXT === "default"
      ? { socket: defaultDockerSocket }
      : { cli: `DOCKER_CONTEXT=${env.DOCKER_CONTEXT} names a context` };
  }
  const read = config ?? (await readDockerConfig(env));
  if ("unreadable" in read) return { cli: `${read.file} ${read.unreadable}` };
  const current = read.currentContext;
  if (current === undefined || current === "" || current === "default") {
    return { socket: defaultDockerSocket };
  }
  return { cli: `${read.file} selects context ${String(current)}` };
}

/** cli-plugins/manager/manager_unix.go `defaultSystemPluginDirs`. */
const systemPluginDirs = [
  "/usr/local/lib/docker/cli-plugins",
  "/usr/local/libexec/docker/cli-plugins",
  "/usr/lib/docker/cli-plugins",
  "/usr/libexec/docker/cli-plugins",
];

/**
 * Whether the docker CLI would find a `docker-<name>` plugin candidate: true, false, or
 * undefined when the config file that may add directories cannot be read (then only running
 * the CLI tells). A candidate is not yet a working plugin; only its absence is conclusive.
 */
export async function hasPluginCandidate(
  name: string,
  config: DockerConfig,
): Promise<boolean | undefined> {
  if ("unreadable" in config) return undefined;
  const extra = Array.isArray(config.cliPluginsExtraDirs)
    ? config.cliPluginsExtraDirs.filter((d): d is string => typeof d === "string")
    : [];
  const dirs = [...extra, join(config.file, "..", "cli-plugins"), ...systemPluginDirs];
  const found = await Promise.all(
    dirs.map(async (dir) => {
      const path = join(dir, `docker-${name}`);
      try {
        const entry = await lstat(path);
        if (entry.isFile()) return true;
        // A symlink counts when it resolves (a broken one is skipped, as the CLI does).
        return (
          entry.isSymbolicLink() &&
          (await stat(path).then(
            () => true,
            () => false,
          ))
        );
      } catch {
        return false; // absent, or a directory the CLI could not list either
      }
    }),
  );
  return found.some(Boolean);
}
