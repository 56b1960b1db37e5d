/**
 * The container registry, seen through skopeo (a registry client independent of the Docker
 * daemon): the digest and labels the registry itself serves are the ones that get recorded and
 * checked, not what the local engine believes it pushed.
 */
import { timeoutFor } from "../core/limits.ts";
import { ToolError } from "./errors.ts";
import type { Invocation, ToolResult } from "./invocation.ts";

export type RegistryErrorKind =
  | "registry-unreachable"
  | "registry-denied"
  | "manifest-unknown"
  | "registry-timeout";

/**
 * Registries on the loopback interface speak plain HTTP (as Docker itself assumes); every other
 * registry must present a valid certificate.
 */
export function isInsecureRegistry(host: string): boolean {
  return /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(host);
}

/** The registry host of an image reference (`127.0.0.1:5000/tiers/api:tag` -> `127.0.0.1:5000`). */
export function registryOf(ref: string): string {
  const first = ref.split("/")[0] ?? "";
  return /[.:]/.test(first) || first === "localhost" ? first : "docker.io";
}

export interface InspectOptions {
  /** Defaults to true except for loopback registries. */
  tlsVerify?: boolean;
}

/**
 * `skopeo inspect docker://<ref>`: manifest digest, labels, creation time as served. Bounded by
 * skopeo's own `--command-timeout` (skopeo(1), https://github.com/containers/skopeo/blob/main/docs/skopeo.1.md:
 * "Timeout for the command execution"), a global option skopeo also accepts after the command.
 */
export function inspect(
  ref: string,
  options: InspectOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Invocation {
  const registry = registryOf(ref);
  const tlsVerify = options.tlsVerify ?? !isInsecureRegistry(registry);
  return {
    tool: "skopeo",
    args: [
      "inspect",
      `--tls-verify=${tlsVerify}`,
      `--command-timeout=${timeoutFor("skopeo", env).text}`,
      `docker://${ref}`,
    ],
    target: registry,
  };
}

/** What the registry says about one image. */
export interface RemoteImage {
  /** The repository without tag or digest. */
  name: string;
  /** Manifest digest (what deployments pin). */
  digest: string;
  labels: Record<string, string>;
  created: string;
  architecture: string;
}

/** Parses `skopeo inspect` JSON. */
export function parseInspect(stdout: string): RemoteImage {
  const raw = JSON.parse(stdout) as {
    Name?: string;
    Digest?: string;
    Labels?: Record<string, string> | null;
    Created?: string;
    Architecture?: string;
  };
  if (!raw.Digest || !/^sha256:[0-9a-f]{64}$/.test(raw.Digest)) {
    throw new Error(`skopeo inspect returned no manifest digest: ${stdout.slice(0, 200)}`);
  }
  return {
    name: raw.Name ?? "",
    digest: raw.Digest,
    labels: raw.Labels ?? {},
    created: raw.Created ?? "",
    architecture: raw.Architecture ?? "",
  };
}

/** Classifies a failed skopeo call. */
export function classifyFailure(output: string): RegistryErrorKind | undefined {
  // skopeo's --command-timeout ends the request's context: "context deadline exceeded".
  if (/context deadline exceeded|Client\.Timeout exceeded/i.test(output)) return "registry-timeout";
  if (/manifest unknown|name unknown|not found|404/i.test(output)) return "manifest-unknown";
  if (
    /connection refused|no such host|i\/o timeout|dial tcp|server gave HTTP response/i.test(output)
  )
    return "registry-unreachable";
  if (/unauthorized|denied|forbidden|authentication required/i.test(output))
    return "registry-denied";
  return undefined;
}

/** A typed error for a failed skopeo call, naming the registry. */
export function registryError(
  invocation: Invocation,
  result: ToolResult,
  registry: string,
): ToolError<RegistryErrorKind> {
  const kind = classifyFailure(`${result.stderr}\n${result.stdout}`) ?? "failed";
  const message = {
    "registry-unreachable": `registry ${registry} is unreachable`,
    "registry-denied": `registry ${registry} refused access`,
    "manifest-unknown": `registry ${registry} has no such image`,
    "registry-timeout": `registry ${registry} did not answer within ${timeoutFor("skopeo").text} (limit ${timeoutFor("skopeo").variable})`,
    failed: `registry ${registry}: skopeo inspect failed`,
    "not-found": "skopeo is not installed",
    timeout: `registry ${registry}: skopeo ran past its limit`,
  }[kind];
  return new ToolError<RegistryErrorKind>(invocation, {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    kind,
    message,
  });
}

/** The registry API's base-version endpoint: answers 200 (or 401) when a registry is up. */
export function pingUrl(host: string): string {
  return `${isInsecureRegistry(host) ? "http" : "https"}://${host}/v2/`;
}

/**
 * Whether a registry answers its API ping. 401 counts as reachable: the registry is there but
 * wants credentials, which the push itself reports more precisely.
 */
export async function ping(
  host: string,
  timeoutMs = timeoutFor("registry-ping").ms,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const response = await fetch(pingUrl(host), { signal: AbortSignal.timeout(timeoutMs) });
    if (response.ok || response.status === 401) return { ok: true };
    return { ok: false, reason: `HTTP ${response.status} from ${pingUrl(host)}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, reason: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}
