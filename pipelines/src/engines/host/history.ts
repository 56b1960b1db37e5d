/**
 * Git as the promotion log: reading records and overlay history at a revision, and writing
 * one commit per promotion, rollback or rejection with a compare-and-swap on the branch.
 *
 * Records are read from HEAD, not from the working tree: a passage or approval only counts
 * once it is committed, so an uncommitted file can never open a gate.
 */
import { randomBytes } from "node:crypto";
import { link, mkdtemp, open, readFile, rename, rm, unlink } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { z } from "zod";
import { TiersError } from "../../core/errors.ts";
import { type OverlayPin, overlayPath } from "../../core/promotion/overlay.ts";
import { parseRecord } from "../../core/promotion/records.ts";
import { ToolError } from "../../tools/errors.ts";
import * as git from "../../tools/git.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import { atomicWrite } from "./atomic-write.ts";
import {
  type OverlayPinsCache,
  overlayPinsCache,
  overlayPinsCacheFile,
} from "./overlay-pins-cache.ts";
import { inSnapshot, RevisionSnapshot } from "./revision-snapshot.ts";
import { runHost } from "./run.ts";

// The placeholder pin is defined once, with the manifests that carry it.
export { unpromotedDigest } from "../../core/manifests/pins.ts";

/** The read remembered under `key`, started by `read` on first use; a failed read is forgotten. */
function remember<T>(
  reads: Map<string, Promise<T>>,
  key: string,
  read: () => Promise<T>,
): Promise<T> {
  let pending = reads.get(key);
  if (!pending) {
    pending = read();
    reads.set(key, pending);
    pending.catch(() => reads.delete(key));
  }
  return pending;
}

/** A repository promotion reads and commits to. */
export class PromotionRepo {
  constructor(
    readonly root: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Runs git; returns the result even on a non-zero exit when `allowFailure`. */
  async run(invocation: Invocation, allowFailure = false): Promise<ToolResult> {
    return runHost(invocation, {
      root: this.root,
      // git's messages in English: showAt tells "no such path" from other failures by them.
      env: { ...this.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", LANGUAGE: "" },
      reject: !allowFailure,
    });
  }

  async head(): Promise<string> {
    const result = await this.run(git.revParse("HEAD"), true);
    if (result.exitCode !== 0 || !result.stdout.trim()) {
      throw new TiersError("this repository has no commits yet", {
        where: this.root,
        hint: "commit the environments/ and k8s/ files first; promotion records live in git",
      });
    }
    return result.stdout.trim();
  }

  /** Full SHA of a revision, or undefined when it does not name a commit. */
  async resolve(rev: string): Promise<string | undefined> {
    const result = await this.run(git.revParse(rev), true);
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async gitDir(): Promise<string> {
    const result = await this.run(git.gitDir(), true);
    if (result.exitCode !== 0) {
      throw new TiersError("not a git repository", {
        where: this.root,
        hint: "run tiers from a clone of the project (promotion records and pins live in git)",
      });
    }
    return result.stdout.trim();
  }

  /**
   * Texts already read, by `<rev>:<path>`, so one command never reads a fact twice (status
   * asks for the same passage from two tiers). Cleared when this repo commits: HEAD moves.
   */
  private readonly shown = new Map<string, Promise<string | undefined>>();
  private readonly listed = new Map<string, Promise<string[]>>();
  private readonly snapshot = new RevisionSnapshot((invocation) => this.run(invocation, true));
  private pinsCache: OverlayPinsCache | undefined;
  /** Overlay pins by content (an overlay's pins are parsed once per build, not per run). */
  get pins(): OverlayPinsCache {
    this.pinsCache ??= overlayPinsCache(overlayPinsCacheFile(this.root));
    return this.pinsCache;
  }

  /**
   * A file's text at a revision, or undefined when the revision has no such path. Any other
   * failure (an unknown revision, a broken repository) throws: "could not read" is never "absent".
   */
  showAt(rev: string, path: string): Promise<string | undefined> {
    return remember(this.shown, `${rev}:${path}`, async () => {
      // Records and overlays at HEAD come from one listing and one batched read of the tree.
      if (rev === "HEAD" && inSnapshot(path)) {
        const listing = await this.snapshot.listing(rev);
        if (listing) {
          const oid = listing.get(path);
          if (oid === undefined) return undefined;
          const text = await this.snapshot.blob(oid);
          if (text !== undefined) return `${text}\n`.replace(/\n+$/, "\n");
        }
      }
      return this.showAlone(rev, path);
    });
  }

  /**
   * Starts listing HEAD's records and overlays now, so the listing runs beside whatever the
   * command does first (loading the model, asking the registry) instead of after it.
   */
  prefetch(): void {
    void this.snapshot.listing("HEAD");
  }

  /** `git show <rev>:<path>`, the read that tells every failure apart. */
  private async showAlone(rev: string, path: string): Promise<string | undefined> {
    const result = await this.run(git.showFile(rev, path), true);
    if (result.exitCode === 0) return `${result.stdout}\n`.replace(/\n+$/, "\n");
    // git's own wording (object-name.c, diagnose_invalid_oid_path) for a path not in the tree.
    if (/does not exist in '|exists on disk, but not in '/.test(result.stderr)) return undefined;
    throw new TiersError(`git could not read ${path} at ${rev}: ${result.stderr.trim()}`, {
      where: `${path} (at ${rev.slice(0, 12)})`,
      hint: "check the revision and the repository (`git fsck`); records are read from git",
    });
  }

  /**
   * Several files at their revisions with one git process (`git cat-file --batch`), each
   * answer as `showAt` gives it. cat-file says `missing` both for a path a commit lacks and
   * for a revision that does not exist, so a missing answer, or batch output that cannot be
   * read, is asked again with `showAt`, which tells the two apart.
   */
  async showMany(
    wanted: ReadonlyArray<{ rev: string; path: string }>,
  ): Promise<Array<string | undefined>> {
    const missing = wanted.filter(({ rev, path }) => !this.shown.has(`${rev}:${path}`));
    if (missing.length > 1) {
      const specs = missing.map(({ rev, path }) => `${rev}:${path}`);
      const batch = this.run(git.catFileBatch(specs), true).then((result) =>
        result.exitCode === 0 ? git.parseCatFileBatch(`${result.stdout}\n`, specs) : undefined,
      );
      specs.forEach((spec, i) => {
        remember(this.shown, spec, () =>
          batch.then((texts) =>
            texts?.[i] !== undefined
              ? `${texts[i]}\n`.replace(/\n+$/, "\n")
              : this.fallbackShow(spec, missing[i]!),
          ),
        );
      });
    }
    return Promise.all(wanted.map(({ rev, path }) => this.showAt(rev, path)));
  }

  /** The single-file read `showMany` falls back to (its cache entry is being replaced). */
  private async fallbackShow(
    spec: string,
    at: { rev: string; path: string },
  ): Promise<string | undefined> {
    this.shown.delete(spec);
    return this.showAt(at.rev, at.path);
  }

  /** A record at a revision (default HEAD), validated; undefined when absent. */
  async record<T>(schema: z.ZodType<T>, path: string, rev = "HEAD"): Promise<T | undefined> {
    const text = await this.showAt(rev, path);
    return text === undefined
      ? undefined
      : parseRecord(schema, text, `${path} (at ${rev.slice(0, 12)})`);
  }

  /** Files under `dir` at a revision. */
  files(dir: string, rev = "HEAD"): Promise<string[]> {
    const listed = remember(this.listed, `${rev}:${dir}/`, async () => {
      if (rev === "HEAD" && inSnapshot(`${dir}/`)) {
        const listing = await this.snapshot.listing(rev);
        if (listing) return [...listing.keys()].filter((path) => path.startsWith(`${dir}/`));
      }
      const result = await this.run(git.listFiles(rev, dir), true);
      return result.exitCode === 0 ? result.stdout.split("\n").filter(Boolean) : [];
    });
    return listed.then((names) => [...names]);
  }

  async log(paths: readonly string[], max?: number): Promise<git.LogEntry[]> {
    const result = await this.run(git.log(paths, max ? { max } : {}), true);
    return result.exitCode === 0 ? git.parseLog(result.stdout) : [];
  }

  /** Uncommitted changes (staged, unstaged or untracked) to the given paths. */
  async dirty(paths: readonly string[]): Promise<string[]> {
    const result = await this.run(git.statusPorcelain(paths));
    return result.stdout.split("\n").filter(Boolean);
  }

  /**
   * Commits `writes` on top of `expectedHead` and moves the branch only if it still points
   * there. The working tree is written first (temp file + rename per file); on any failure
   * every file is put back as it was, so nothing is half-applied.
   */
  async commit(options: {
    expectedHead: string;
    writes: ReadonlyArray<{ path: string; content: string | null }>;
    message: string;
  }): Promise<string> {
    const backups: Array<{ path: string; content: string | null }> = [];
    const restore = async () => {
      for (const b of backups.reverse()) {
        const abs = join(this.root, b.path);
        if (b.content === null) await rm(abs, { force: true });
        else await atomicWrite(abs, b.content);
      }
    };
    const tempDir = await mkdtemp(join(tmpdir(), "tiers-index-"));
    const index = join(tempDir, "index");
    try {
      for (const w of options.writes) {
        const abs = join(this.root, w.path);
        backups.push({ path: w.path, content: await readFile(abs, "utf8").catch(() => null) });
        if (w.content === null) await rm(abs, { force: true });
        else await atomicWrite(abs, w.content);
      }
      await this.run(git.plumbing.readTree(index, options.expectedHead));
      for (const w of options.writes) {
        if (w.content === null) {
          await this.run(git.plumbing.remove(index, w.path));
        } else {
          const blob = (await this.run(git.hashObject(w.path, true))).stdout.trim();
          await this.run(git.plumbing.addBlob(index, blob, w.path));
        }
      }
      const tree = (await this.run(git.plumbing.writeTree(index))).stdout.trim();
      const created = await this.run(
        git.plumbing.commitTree(tree, options.expectedHead, options.message),
        true,
      );
      if (created.exitCode !== 0) {
        throw new TiersError(`git could not create the commit: ${created.stderr.trim()}`, {
          where: this.root,
          hint: 'set a committer: git config user.name "…" && git config user.email "…"',
        });
      }
      const commit = created.stdout.trim();
      this.shown.clear();
      this.listed.clear();
      this.snapshot.clear();
      const subject = options.message.split("\n")[0] ?? "tiers";
      const moved = await this.run(
        git.plumbing.updateRef("HEAD", commit, options.expectedHead, subject),
        true,
      );
      if (moved.exitCode !== 0) {
        const now = await this.resolve("HEAD");
        throw new TiersError(
          `the branch moved while this promotion ran (expected ${options.expectedHead.slice(0, 12)}, now ${now?.slice(0, 12) ?? "unknown"}); nothing was changed`,
          {
            where: this.root,
            hint: "another promotion or commit landed first; run `tiers plan` again and retry",
          },
        );
      }
      // Keep the user's index in step with the new HEAD for the files this commit wrote.
      const synced = await this.run(git.add(options.writes.map((w) => w.path)), true);
      if (synced.exitCode !== 0) {
        // The commit landed; only the index is stale, which `git status` shows and `git add` fixes.
      }
      return commit;
    } catch (error) {
      await restore();
      throw error;
    } finally {
      await rm(tempDir, { recursive: true, force: true });
    }
  }

  /** The overlay's pins at a revision (undefined when the tier has no overlay there). */
  async pinsAt(tier: string, rev = "HEAD"): Promise<OverlayPin[] | undefined> {
    const path = overlayPath(tier);
    // At HEAD the listing names the overlay's blob: pins known for that blob need no read.
    const listing = rev === "HEAD" ? await this.snapshot.listing(rev) : undefined;
    if (listing) {
      const oid = listing.get(path);
      if (oid === undefined) return undefined;
      const where = `${path} (at ${rev})`;
      const read = async () => {
        const text = await this.showAt(rev, path);
        // Listed but gone: the repository changed under us; never read that as "no pins".
        if (text === undefined) {
          throw new TiersError(`git lists ${path} at ${rev} but cannot show it`, {
            where,
            hint: "run again; if it persists, check the repository (`git fsck`)",
          });
        }
        return text;
      };
      return this.pins.readBlob(oid, read, where);
    }
    const text = await this.showAt(rev, path);
    return text === undefined
      ? undefined
      : this.pins.read(text, `${path} (at ${rev.slice(0, 12)})`);
  }

  /**
   * The overlay's pin history, newest first: one entry per commit that changed a digest.
   * This is the deploy and rollback log the architecture promises.
   */
  async pinHistory(tier: string, max = 50): Promise<PinHistoryEntry[]> {
    const path = overlayPath(tier);
    const entries = await this.log([path], max * 4);
    const out: PinHistoryEntry[] = [];
    const withPins: PinHistoryEntry[] = [];
    // Every commit's overlay in one git process, not one `git show` per commit.
    await this.showMany(entries.map((entry) => ({ rev: entry.commit, path })));
    for (const entry of entries) {
      const pins = await this.pinsAt(tier, entry.commit).catch(() => undefined);
      if (!pins) continue;
      withPins.push({
        ...entry,
        pins: Object.fromEntries(pins.map((p) => [p.name, p.digest ?? ""])),
      });
    }
    // Keep only commits whose pins differ from the commit before them (older neighbour).
    for (let i = 0; i < withPins.length; i++) {
      const older = withPins[i + 1];
      const current = withPins[i]!;
      if (!older || JSON.stringify(older.pins) !== JSON.stringify(current.pins)) out.push(current);
      if (out.length >= max) break;
    }
    return out;
  }
}

export interface PinHistoryEntry extends git.LogEntry {
  /** Image name -> pinned digest at that commit. */
  pins: Record<string, string>;
}

/** An exclusive promotion lock under .git: one promotion, rollback or rejection at a time. */
export interface PromotionLock {
  path: string;
  release(): Promise<void>;
}

/** Who holds a lock, as its file says. */
interface LockHolder {
  pid?: number;
  host?: string;
  since?: string;
  what?: string;
}

/** True when `pid` names no process on this host (ESRCH); EPERM means it lives as another user. */
function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

async function createLock(path: string, what: string): Promise<boolean> {
  try {
    const handle = await open(path, "wx", 0o644);
    await handle.writeFile(
      `${JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), what })}\n`,
    );
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  }
}

/**
 * Removes a stale lock (holder on this host, pid dead) without racing another taker: the file is
 * first renamed aside, which only one process can do, and its content compared with what was
 * judged stale. If it changed in between (someone else took over and wrote a live lock), it is
 * linked back in place and the lock is not taken.
 */
async function removeStale(path: string, judged: string): Promise<boolean> {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
  const moved = await readFile(aside, "utf8");
  if (moved === judged) {
    await unlink(aside);
    return true;
  }
  // Only "someone already holds a new lock at path" (EEXIST) is expected here; any other failure
  // to put the live lock back must surface, not leave the holder without its lock file.
  await link(aside, path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  await unlink(aside);
  return false;
}

/**
 * Takes the lock with O_EXCL; the loser learns who holds it and what to do. A lock left by a
 * promotion that died on this host (its pid is gone) is taken over, and `notify` says so; a live
 * holder, a holder on another host, or a lock that cannot be read still refuses.
 */
export async function acquireLock(
  gitDirPath: string,
  what: string,
  notify: (message: string) => void = (message) => process.stderr.write(`tiers: ${message}\n`),
): Promise<PromotionLock> {
  const path = join(gitDirPath, "tiers-promotion.lock");
  if (!(await createLock(path, what))) {
    const text = await readFile(path, "utf8").catch(() => "");
    let holder: LockHolder | undefined;
    try {
      holder = JSON.parse(text) as LockHolder;
    } catch {
      // An unreadable lock is still a lock.
    }
    const detail = holder
      ? ` (${holder.what ?? "a promotion"}, pid ${holder.pid} on ${holder.host}, since ${holder.since})`
      : "";
    const stale =
      holder !== undefined &&
      holder.host === hostname() &&
      typeof holder.pid === "number" &&
      Number.isSafeInteger(holder.pid) &&
      holder.pid > 0 &&
      holder.pid !== process.pid &&
      isDead(holder.pid);
    const taken = stale && (await removeStale(path, text)) && (await createLock(path, what));
    if (!taken) {
      throw new TiersError(`another promotion is in progress${detail}; nothing was changed`, {
        where: path,
        hint: `wait for it to finish and run again; if no tiers process is running, delete ${path}`,
      });
    }
    notify(
      `took over a stale promotion lock${detail}: its process is no longer running on this host`,
    );
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      await unlink(path).catch(() => undefined);
    },
  };
}

/** Who is promoting: the CI actor when in CI, else the git user, else the login name. */
export async function whoAmI(repo: PromotionRepo, env: NodeJS.ProcessEnv): Promise<string> {
  if (env.TIERS_ACTOR) return env.TIERS_ACTOR;
  if (env.GITHUB_ACTOR) return `${env.GITHUB_ACTOR} (github actions)`;
  if (env.GITLAB_USER_LOGIN) return `${env.GITLAB_USER_LOGIN} (gitlab ci)`;
  // Both keys in one git process; like `git config --get`, the last value of each wins.
  const result = await repo.run(git.configGetRegexp("^user\\.(email|name)$"), true);
  const values = new Map<string, string>();
  for (const line of result.exitCode === 0 ? result.stdout.split("\n") : []) {
    const space = line.indexOf(" ");
    if (space > 0) values.set(line.slice(0, space), line.slice(space + 1).trim());
  }
  const email = values.get("user.email") ?? "";
  const name = values.get("user.name") ?? "";
  if (email) return name ? `${name} <${email}>` : email;
  return env.USER ?? env.LOGNAME ?? "unknown";
}

/** True when a ToolError says the program is missing. */
export function isMissingTool(error: unknown): boolean {
  return error instanceof ToolError && error.kind === "not-found";
}
