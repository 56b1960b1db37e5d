/**
 * The git CLI, as promotion uses it: the overlay's history is the deploy log, and every
 * promotion, rollback and rejection is one commit made with a compare-and-swap on the branch
 * (`git update-ref <ref> <new> <old>`), so two concurrent runs can never both land.
 *
 * Commits are built with plumbing on a private index (GIT_INDEX_FILE), so a user's staged
 * work is never swept into a promotion commit.
 */
import type { Invocation } from "./invocation.ts";

const fieldSep = "\x1f";
const recordSep = "\x1e";

function git(args: string[], extra: Partial<Invocation> = {}): Invocation {
  return { tool: "git", args, ...extra };
}

/** `git rev-parse --verify <rev>^{commit}`: the full SHA of a revision. */
export function revParse(rev: string): Invocation {
  return git(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
}

/** `git rev-parse --absolute-git-dir`: where the lock file lives. */
export function gitDir(): Invocation {
  return git(["rev-parse", "--absolute-git-dir"]);
}

/** `git rev-parse --symbolic-full-name HEAD`: the branch a commit will move (or HEAD). */
export function currentRef(): Invocation {
  return git(["rev-parse", "--symbolic-full-name", "HEAD"]);
}

/** `git show <commit>:<path>`: a file as it was at a commit. */
export function showFile(commit: string, path: string): Invocation {
  return git(["show", `${commit}:${path}`]);
}

/**
 * `git cat-file --batch`: many `<rev>:<path>` files in one process instead of one `git show`
 * each. Each spec is one line on standard input; see `parseCatFileBatch` for the output.
 */
export function catFileBatch(specs: readonly string[]): Invocation {
  return git(["cat-file", "--batch"], { stdin: specs.map((s) => `${s}\n`).join("") });
}

/**
 * Splits `git cat-file --batch` output into one text per spec, in order (undefined for a
 * spec that names no blob). The format, from git's documentation
 * (https://git-scm.com/docs/git-cat-file#_batch_output): for each object
 * `<oid> SP <type> SP <size> LF <contents> LF`, where size counts bytes; for a name that
 * resolves to nothing `<object> SP missing LF` (and `ambiguous` likewise). Returns undefined
 * when the output does not line up with the specs, so the caller falls back to single reads
 * rather than trust a misread.
 */
export function parseCatFileBatch(
  stdout: string,
  specs: readonly string[],
): Array<string | undefined> | undefined {
  const bytes = Buffer.from(stdout, "utf8");
  const out: Array<string | undefined> = [];
  let at = 0;
  for (const spec of specs) {
    const eol = bytes.indexOf(0x0a, at);
    if (eol < 0) return undefined;
    const header = bytes.subarray(at, eol).toString("utf8");
    at = eol + 1;
    if (header === `${spec} missing` || header === `${spec} ambiguous`) {
      out.push(undefined);
      continue;
    }
    const match = /^[0-9a-f]{40,64} (\w+) (\d+)$/.exec(header);
    if (!match) return undefined;
    const size = Number(match[2]);
    if (at + size >= bytes.length + 1 || bytes[at + size] !== 0x0a) return undefined;
    out.push(match[1] === "blob" ? bytes.subarray(at, at + size).toString("utf8") : undefined);
    at += size + 1;
  }
  return at === bytes.length ? out : undefined;
}

/** `git rev-parse <commit>:<path>`: the blob id of a file at a commit (the CAS token). */
export function blobAt(commit: string, path: string): Invocation {
  return git(["rev-parse", "--verify", "--quiet", `${commit}:${path}`]);
}

/** `git hash-object [-w] <path>`: the blob id of a working-tree file (written with `-w`). */
export function hashObject(path: string, write = false): Invocation {
  return git(["hash-object", ...(write ? ["-w"] : []), "--", path]);
}

/** The format of `log`: one record per commit, fields separated by US, records by RS. */
export const logFormat = `%H${fieldSep}%an <%ae>${fieldSep}%aI${fieldSep}%s${fieldSep}%b${recordSep}`;

/** `git log` of the commits that touched `paths`, newest first. */
export function log(
  paths: readonly string[],
  options: { max?: number; rev?: string } = {},
): Invocation {
  return git([
    "log",
    `--format=${logFormat}`,
    ...(options.max ? [`--max-count=${options.max}`] : []),
    options.rev ?? "HEAD",
    "--",
    ...paths,
  ]);
}

export interface LogEntry {
  commit: string;
  author: string;
  date: string;
  subject: string;
  body: string;
}

/** Parses output of `log(...)`. */
export function parseLog(stdout: string): LogEntry[] {
  return stdout
    .split(recordSep)
    .map((chunk) => chunk.replace(/^\n+/, ""))
    .filter((chunk) => chunk.trim() !== "")
    .map((chunk) => {
      const [commit = "", author = "", date = "", subject = "", body = ""] = chunk.split(fieldSep);
      return { commit, author, date, subject, body: body.trim() };
    });
}

/**
 * `git config --get-regexp <pattern>`: every matching key and value, one `<key> SP <value>` line
 * each, keys lower-cased, in the order git reads its files (exit 1 when none matches).
 */
export function configGetRegexp(pattern: string): Invocation {
  return git(["config", "--get-regexp", pattern]);
}

/** `git config --file <file> --get <key>`: one config file only (exit 1 when unset). */
export function configGetFrom(file: string, key: string): Invocation {
  return git(["config", "--file", file, "--get", key]);
}

/** Steps of a commit built on a private index; each returns an Invocation. */
export const plumbing = {
  /** Fills the private index from a tree-ish. */
  readTree(indexFile: string, treeish: string): Invocation {
    return git(["read-tree", treeish], { env: { GIT_INDEX_FILE: indexFile } });
  },
  /** Puts a blob at a path in the private index. */
  addBlob(indexFile: string, blob: string, path: string, mode = "100644"): Invocation {
    return git(["update-index", "--add", "--cacheinfo", `${mode},${blob},${path}`], {
      env: { GIT_INDEX_FILE: indexFile },
    });
  },
  /** Removes a path from the private index. */
  remove(indexFile: string, path: string): Invocation {
    return git(["update-index", "--force-remove", "--", path], {
      env: { GIT_INDEX_FILE: indexFile },
    });
  },
  writeTree(indexFile: string): Invocation {
    return git(["write-tree"], { env: { GIT_INDEX_FILE: indexFile } });
  },
  /** A commit object with one parent; the message comes on stdin (multi-line safe). */
  commitTree(tree: string, parent: string, message: string): Invocation {
    return git(["commit-tree", tree, "-p", parent, "-F", "-"], { stdin: message });
  },
  /**
   * Moves `ref` to `next` only if it still points at `expected`: git's atomic compare-and-swap.
   * A concurrent commit makes this fail and nothing moves.
   */
  updateRef(ref: string, next: string, expected: string, reason: string): Invocation {
    return git(["update-ref", "-m", reason, ref, next, expected]);
  },
};

/** `git update-index -q --refresh` + `git add -- paths`: sync the user's index with HEAD's files. */
export function add(paths: readonly string[]): Invocation {
  return git(["add", "--", ...paths]);
}

/** `git diff --quiet <rev> -- paths` exits 1 when the working tree differs from `rev`. */
export function diffQuiet(rev: string, paths: readonly string[]): Invocation {
  return git(["diff", "--quiet", rev, "--", ...paths]);
}

/** `git diff --name-only <from> <to>`: files that differ between two commits. */
export function diffNames(from: string, to: string): Invocation {
  return git(["diff", "--name-only", from, to]);
}

/** `git status --porcelain=v1 -- paths`: uncommitted changes to the given paths. */
export function statusPorcelain(paths: readonly string[]): Invocation {
  return git(["status", "--porcelain=v1", "--untracked-files=all", "--", ...paths]);
}

/** `git ls-tree -r --name-only <rev> -- <dir>`: files of a directory at a revision. */
export function listFiles(rev: string, dir: string): Invocation {
  return git(["ls-tree", "-r", "--name-only", rev, "--", dir]);
}

/**
 * `git ls-tree -r -z <rev> -- <dirs…>`: every file under some directories at a revision, with
 * its blob id, in one process. Output lines are `<mode> SP <type> SP <oid> TAB <path>`, each
 * ended by NUL with -z (no quoting of unusual names; git-ls-tree(1), "Output Format").
 */
export function listTree(rev: string, dirs: readonly string[]): Invocation {
  return git(["ls-tree", "-r", "-z", rev, "--", ...dirs]);
}

/** Path → blob id of `listTree` output; undefined when a line does not read as git documents. */
export function parseListTree(stdout: string): Map<string, string> | undefined {
  const files = new Map<string, string>();
  for (const line of stdout.split("\0")) {
    if (line === "") continue;
    const match = /^\d{6} (\w+) ([0-9a-f]{40,64})\t(.+)$/s.exec(line);
    if (!match) return undefined;
    // A submodule is a commit entry, not a file git could show.
    if (match[1] === "blob") files.set(match[3]!, match[2]!);
  }
  return files;
}
