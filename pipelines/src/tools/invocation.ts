/**
 * The contract between the tool layer and the engines.
 *
 * A tool module (docker, compose, registry, cosign, kubectl, terraform, git) turns typed options
 * into an `Invocation`: a program and an argument *array*, never a shell string. Secrets are
 * named, not embedded: an invocation says "COSIGN_PASSWORD comes from the secret
 * `cosign-password`", and each engine binds the value its own way (the host runner as a child
 * environment variable or a 0600 temp file, the Dagger module as `withSecretVariable` /
 * `withMountedSecret`). So no secret value can reach argv, a log line or an image layer.
 */

/** The external programs the pipeline drives. Each has one module under `tools/`. */
export type ToolName =
  | "docker"
  | "docker-compose"
  | "skopeo"
  | "cosign"
  | "kubectl"
  | "terraform"
  | "git"
  | "npm";

export interface SecretFile {
  /** Where the file must appear (inside the tool container, or a temp path on the host). */
  path: string;
  /** Logical secret name, resolved by the engine. */
  secret: string;
}

export interface Invocation {
  tool: ToolName;
  args: readonly string[];
  /** Non-secret environment for the call. */
  env?: Readonly<Record<string, string>>;
  /** Environment variable name -> logical secret name. */
  secretEnv?: Readonly<Record<string, string>>;
  /** Files whose content is secret (a cosign key, a kubeconfig). */
  secretFiles?: readonly SecretFile[];
  /** Working directory, relative to the repository root unless absolute. */
  cwd?: string;
  /** Text fed on standard input. */
  stdin?: string;
  /**
   * What the call talks to (a registry host, a cluster context, a git remote), named when it
   * fails or runs past its limit.
   */
  target?: string;
  /**
   * The most this one call may take, in milliseconds. Absent: the tool's entry in the limits
   * table (core/limits.ts). Set only by calls that carry their own longer wait, such as
   * `kubectl rollout status --timeout`.
   */
  deadlineMs?: number;
}

/** Printable form for logs and errors: secrets appear only as `$NAME` references. */
export function describeInvocation(invocation: Invocation): string {
  const envs = Object.keys(invocation.secretEnv ?? {}).map((name) => `${name}=<secret>`);
  const quoted = invocation.args.map((arg) =>
    /^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg),
  );
  return [...envs, invocation.tool, ...quoted].join(" ");
}

/** The result every engine returns for a finished invocation. */
export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}
