/**
 * The host runner: executes tool invocations on this machine with execa. It holds no pipeline
 * logic; it only binds secrets, picks the right program binary, bounds every call by a deadline
 * and turns failures into ToolErrors with redacted output.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { describeTimeout, formatDuration, type Limit, timeoutFor } from "../../core/limits.ts";
import { ToolError } from "../../tools/errors.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import { programFor } from "./programs.ts";
import { redact, SecretStore } from "./secrets.ts";

// Which binary runs a tool is decided in programs.ts (doctor asks it without loading execa).
export { programFor } from "./programs.ts";

export interface HostRunOptions {
  root: string;
  secrets?: SecretStore;
  /** Stream output lines as they arrive (prefixed by the caller). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Abort the child (Ctrl-C handling). */
  signal?: AbortSignal;
  /** Extra environment that is not secret. */
  env?: NodeJS.ProcessEnv;
  /** Return the failed result instead of throwing. */
  reject?: boolean;
}

/** The deadline of one invocation: its own, else the tool's entry in the limits table. */
export function deadlineOf(invocation: Invocation, env: NodeJS.ProcessEnv = process.env): Limit {
  const limit = timeoutFor(invocation.tool, env);
  if (invocation.deadlineMs === undefined) return limit;
  return { ...limit, ms: invocation.deadlineMs, text: formatDuration(invocation.deadlineMs) };
}

/** Grace between SIGTERM and SIGKILL for a process group past its deadline. */
const killGraceMs = 2000;

/**
 * Signals the child's whole process group (it was started detached, so it leads one): a tool
 * that forked helpers (docker compose, terraform providers, git's ssh) leaves no orphan behind.
 */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we wanted.
  }
}

/** Process groups of tools still running, so a signal or exit of ours ends them too. */
const liveGroups = new Set<number>();
const signalCodes: Partial<Record<NodeJS.Signals, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
  SIGHUP: 129,
};
let forwarding = false;

/**
 * A detached child no longer receives the terminal's Ctrl-C, so forward our signals to every live
 * group. When nobody else handles the signal (env.ts aborts its own work), keep Node's default of
 * exiting, with the conventional code.
 */
function forwardSignals(): void {
  if (forwarding) return;
  forwarding = true;
  for (const signal of Object.keys(signalCodes) as NodeJS.Signals[]) {
    const onSignal = () => {
      for (const pid of liveGroups) signalGroup(pid, signal);
      if (process.listenerCount(signal) === 1) process.exit(signalCodes[signal]);
    };
    process.on(signal, onSignal);
  }
  process.on("exit", () => {
    for (const pid of liveGroups) signalGroup(pid, "SIGKILL");
  });
}

export async function runHost(
  invocation: Invocation,
  options: HostRunOptions,
): Promise<ToolResult> {
  const secrets = options.secrets ?? new SecretStore();
  const childEnv: Record<string, string> = { ...(invocation.env ?? {}) };
  if (invocation.tool === "docker") childEnv.DOCKER_BUILDKIT = "1";
  for (const [name, secret] of Object.entries(invocation.secretEnv ?? {})) {
    childEnv[name] = await secrets.resolve(secret);
  }
  let tempDir: string | undefined;
  const args = [...invocation.args];
  try {
    if (invocation.secretFiles?.length) {
      tempDir = await mkdtemp(join(tmpdir(), "tiers-secret-"));
      for (const file of invocation.secretFiles) {
        // On the host the requested path is remapped into a private temp dir; the argument that
        // named the container path is rewritten to match, so the value never touches argv.
        const hostPath = join(tempDir, file.path.replace(/[^\w.-]+/g, "_"));
        await writeFile(hostPath, await secrets.resolve(file.secret), { mode: 0o600 });
        for (let i = 0; i < args.length; i++) {
          if (args[i] === file.path) args[i] = hostPath;
          else if (args[i]?.endsWith(`=${file.path}`))
            args[i] = args[i]!.replace(file.path, hostPath);
        }
        for (const [k, v] of Object.entries(childEnv)) if (v === file.path) childEnv[k] = hostPath;
      }
    }
    const cwd = invocation.cwd
      ? isAbsolute(invocation.cwd)
        ? invocation.cwd
        : join(options.root, invocation.cwd)
      : options.root;
    const env = { ...process.env, ...options.env };
    const limit = deadlineOf(invocation, env);
    // Loaded on the first tool call: execa and its dependencies are ~190 KB of bundle, and a
    // command answered from a cache (a repeated `tiers validate`) may start no tool at all.
    const { execa } = await import("execa");
    const child = execa(programFor(invocation.tool, options.env), args, {
      cwd,
      env: { ...options.env, ...childEnv },
      extendEnv: true,
      input: invocation.stdin,
      reject: false,
      all: false,
      cancelSignal: options.signal,
      stripFinalNewline: true,
      // Its own process group, so a deadline or Ctrl-C can end the tool and everything it started.
      detached: true,
    });
    forwardSignals();
    if (child.pid !== undefined) liveGroups.add(child.pid);
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      timedOut = true;
      signalGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => signalGroup(child.pid, "SIGKILL"), killGraceMs);
    }, limit.ms);
    const onAbort = () => signalGroup(child.pid, "SIGTERM");
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.onLine) {
      const scrub = (line: string) => redact(line, secrets.resolvedValues());
      // A chunk may end mid-line: the rest is held until its newline (or the stream's end), so
      // a line reaches onLine whole (a test summary, a report's log, a secret to redact).
      for (const stream of ["stdout", "stderr"] as const) {
        let partial = "";
        // A multi-byte character split across chunks is decoded once both halves arrived.
        const decoder = new StringDecoder("utf8");
        child[stream]?.on("data", (chunk: Buffer) => {
          const lines = (partial + decoder.write(chunk)).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) if (line) options.onLine!(scrub(line), stream);
        });
        child[stream]?.on("end", () => {
          partial += decoder.end();
          if (partial) options.onLine!(scrub(partial), stream);
          partial = "";
        });
      }
    }
    const result = await child.finally(() => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      if (child.pid !== undefined) liveGroups.delete(child.pid);
      options.signal?.removeEventListener("abort", onAbort);
    });
    if (timedOut) {
      const { message, hint } = describeTimeout(invocation.tool, invocation.target, limit);
      throw new ToolError(invocation, {
        kind: "timeout",
        message,
        hint,
        where: invocation.target,
        stdout: redact(String(result.stdout ?? ""), secrets.resolvedValues()),
        stderr: redact(String(result.stderr ?? ""), secrets.resolvedValues()),
      });
    }
    const values = secrets.resolvedValues();
    const stdout = redact(String(result.stdout ?? ""), values);
    const stderr = redact(String(result.stderr ?? ""), values);
    if ((result as { code?: string }).code === "ENOENT") {
      throw new ToolError(invocation, { kind: "not-found" });
    }
    const exitCode = result.exitCode ?? 1;
    if (exitCode !== 0 && options.reject !== false) {
      throw new ToolError(invocation, { exitCode, stdout, stderr });
    }
    return { stdout, stderr, exitCode };
  } finally {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}
