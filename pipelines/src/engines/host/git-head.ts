/**
 * The commit HEAD names, read from git's own files instead of a `git rev-parse` process, for an
 * answer remembered by what it read (read-trace.ts): `tiers status` reads its records at HEAD,
 * and a commit id names its whole tree and history, so the same id means the same records.
 *
 * The files and their meaning are git's, as gitrepository-layout(5) documents them:
 * - `.git` is the repository directory, or a "gitfile" holding `gitdir: <path>` (linked
 *   worktrees, submodules, `git init --separate-git-dir`);
 * - `commondir` in that directory points at the directory shared by every worktree, which holds
 *   `refs/`, `packed-refs` and `config`; HEAD and the per-worktree refs (`refs/bisect/`,
 *   `refs/worktree/`, `refs/rewritten/`, git-worktree(1) "REFS") stay in the worktree's own;
 * - `HEAD` is `ref: <refname>` or, detached, an object name;
 * - a ref is a loose file under `refs/` (`ref: <refname>` for a symbolic ref), else a line
 *   `<oid> <refname>` of `packed-refs`; a loose ref wins over a packed one.
 *
 * Whatever could make the same commit id mean different content, or a layout this reader does
 * not know, answers undefined, and the caller then remembers nothing: a repository whose refs
 * are a reftable (`extensions.refStorage`, git 2.45), replace refs (git-replace(1): they swap
 * objects under every reader), `info/grafts`, and any of git's environment variables that move
 * the repository or its objects. A shallow clone's `shallow` file is part of the answer: it
 * bounds what `git log` walks, and it changes when the clone is deepened.
 */
import { readdir } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { readIfExists } from "./repository-files.ts";

/** Variables that make git read another repository, other objects or other refs. */
const movingVariables = [
  "GIT_DIR",
  "GIT_COMMON_DIR",
  "GIT_WORK_TREE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_NAMESPACE",
  "GIT_REPLACE_REF_BASE",
  "GIT_GRAFT_FILE",
  "GIT_SHALLOW_FILE",
  "GIT_REF_PARANOIA",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
] as const;

const objectName = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Refs each worktree has its own of (git-worktree(1) "REFS"). */
const perWorktree = /^(?:HEAD$|refs\/(?:bisect|worktree|rewritten)\/)/;

/** The repository directory of the work tree at `root`, from its `.git` directory or gitfile. */
async function gitDirOf(root: string): Promise<string | undefined> {
  const dotGit = join(root, ".git");
  // A directory lists; a gitfile is "not a directory"; anything else says nothing for sure.
  const entries = await readdir(dotGit).catch((error: NodeJS.ErrnoException) =>
    error.code === "ENOTDIR" ? null : undefined,
  );
  if (entries) return dotGit;
  if (entries === undefined) return undefined;
  const gitfile = /^gitdir: (.+)$/m.exec((await readIfExists(root, ".git")) ?? "");
  if (!gitfile) return undefined;
  const path = gitfile[1]!.trim();
  return isAbsolute(path) ? path : resolve(root, path);
}

/**
 * The object name `refname` points at, following symbolic refs a few levels deep; `packed` is
 * the text of `packed-refs` (empty when there is none).
 */
async function resolveRef(
  gitDir: string,
  commonDir: string,
  packed: string,
  refname: string,
  depth = 0,
): Promise<string | undefined> {
  if (depth > 5 || refname.includes("..")) return undefined;
  const loose = await readIfExists(perWorktree.test(refname) ? gitDir : commonDir, refname);
  if (loose !== undefined) {
    const value = loose.trim();
    if (objectName.test(value)) return value;
    const target = /^ref: (refs\/\S+)$/.exec(value);
    return target ? resolveRef(gitDir, commonDir, packed, target[1]!, depth + 1) : undefined;
  }
  for (const line of packed.split("\n")) {
    const [oid, name] = line.split(" ");
    if (name === refname && oid && objectName.test(oid)) return oid;
  }
  return undefined;
}

/**
 * The commit HEAD names in the work tree at `root` (plus the `shallow` file, when there is
 * one), or undefined when git's files do not say it for sure (see the module comment).
 */
export async function headCommit(
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  // A file that exists but cannot be read is not "absent": it answers nothing for sure.
  return readHead(root, env).catch(() => undefined);
}

async function readHead(root: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (movingVariables.some((name) => env[name] !== undefined)) return undefined;
  const gitDir = await gitDirOf(root);
  if (!gitDir) return undefined;
  const common = (await readIfExists(gitDir, "commondir"))?.trim();
  const commonDir = common ? resolve(gitDir, common) : gitDir;
  const [config, head, grafts, replaced, packed, shallow] = await Promise.all([
    readIfExists(commonDir, "config"),
    readIfExists(gitDir, "HEAD"),
    readIfExists(commonDir, "info/grafts"),
    // Every entry counts (git-replace(1) names each ref by the object it replaces).
    readdir(join(commonDir, "refs", "replace")).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return [] as string[];
      throw error;
    }),
    readIfExists(commonDir, "packed-refs"),
    readIfExists(commonDir, "shallow"),
  ]);
  if (config === undefined || head === undefined) return undefined;
  if (/^\s*refstorage\s*=/im.test(config)) return undefined;
  if (grafts !== undefined || replaced.length > 0 || / refs\/replace\//.test(packed ?? "")) {
    return undefined;
  }
  const value = head.trim();
  const symbolic = /^ref: (refs\/\S+)$/.exec(value);
  const oid = objectName.test(value)
    ? value
    : symbolic
      ? await resolveRef(gitDir, commonDir, packed ?? "", symbolic[1]!)
      : undefined;
  if (!oid) return undefined;
  return shallow === undefined ? oid : `${oid}\nshallow\n${shallow}`;
}
