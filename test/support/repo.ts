/**
 * Temporary repositories for integration tests, so tests never dirty the working tree.
 *
 * `snapshotRepo()` copies the working tree (tracked and untracked-but-not-ignored files, i.e.
 * what a commit of it would hold) into a temp dir and commits it there with a fixed author,
 * date and message. Equal trees therefore get equal commit SHAs, so every test file that
 * snapshots the same tree shares images by tag and builds them only once (2 cores).
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

/** The repository these tests belong to. */
export const repoRoot = resolve(import.meta.dirname, "../..");

/** The CLI entry point of this checkout (its node_modules serve every snapshot). */
export const tiersBin = join(repoRoot, "pipelines", "bin", "tiers.js");

const fixedIdentity = {
  GIT_AUTHOR_NAME: "tiers tests",
  GIT_AUTHOR_EMAIL: "tests@tiers.invalid",
  GIT_COMMITTER_NAME: "tiers tests",
  GIT_COMMITTER_EMAIL: "tests@tiers.invalid",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
};

export interface TempRepo {
  root: string;
  /** Commit SHA of the snapshot. */
  commit: string;
  /** Runs git in the snapshot. */
  git(...args: string[]): string;
  /** Commits every change with the fixed identity; returns the new SHA. */
  commitAll(message: string): string;
  remove(): Promise<void>;
}

/** Copies the working tree into a fresh git repository with one deterministic commit. */
export async function snapshotRepo(source: string = repoRoot): Promise<TempRepo> {
  const root = await mkdtemp(join(tmpdir(), "tiers-repo-"));
  const files = execFileSync(
    "git",
    ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    {
      cwd: source,
      encoding: "utf8",
    },
  )
    .split("\0")
    .filter(Boolean);
  for (const file of new Set(files)) {
    const from = join(source, file);
    const info = await stat(from).catch(() => undefined);
    if (!info?.isFile()) continue; // deleted in the working tree, or a submodule
    await mkdir(dirname(join(root, file)), { recursive: true });
    await copyFile(from, join(root, file));
  }
  // Machine settings (gitignored) so builds use this machine's base images and registry.
  await mkdir(join(root, ".tiers"), { recursive: true });
  await copyFile(join(source, ".tiers", "machine.env"), join(root, ".tiers", "machine.env")).catch(
    () => undefined,
  );
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, ...fixedIdentity },
    }).trim();
  git("init", "-q", "-b", "main");
  const commitAll = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "--no-verify", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD");
  };
  const commit = commitAll("snapshot of the working tree for integration tests");
  return { root, commit, git, commitAll, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Result of one CLI run. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `tiers --root <root> ...args` as a child process (real signals, real exit code). */
export function runTiers(
  root: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawnTiers(root, args, options.env);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 280_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Starts the CLI in its own process group, so a test can kill it the way a CI runner cancels
 * a job (the whole group, children included) with `process.kill(-child.pid, signal)`.
 */
export function spawnTiers(root: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
  return spawn(process.execPath, [tiersBin, "--root", root, "--no-color", ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}
