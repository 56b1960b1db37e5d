/**
 * headCommit against real git repositories in every layout git-head.ts reads, each answer held
 * equal to `git rev-parse HEAD` (the layout is git's, gitrepository-layout(5): the gitfile,
 * `commondir`, `HEAD`, loose refs, `packed-refs`; per-worktree refs from git-worktree(1)
 * "REFS"). Where git's files cannot say for sure (reftable, replace refs, grafts, a moved
 * GIT_DIR, an unborn branch), the answer is undefined, so nothing is remembered by it.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { headCommit } from "../../../../pipelines/src/engines/host/git-head.ts";

let dir: string;
const gitIn = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Head",
      GIT_AUTHOR_EMAIL: "head@example.test",
      GIT_COMMITTER_NAME: "Head",
      GIT_COMMITTER_EMAIL: "head@example.test",
    },
  }).trim();
const git = (...args: string[]) => gitIn(join(dir, "repo"), ...args);
const head = (root = join(dir, "repo")) => headCommit(root, {});

async function commit(message: string): Promise<string> {
  await writeFile(join(dir, "repo", "file.txt"), `${message}\n`);
  git("add", ".");
  git("commit", "-q", "-m", message);
  return git("rev-parse", "HEAD");
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-head-"));
  await mkdir(join(dir, "repo"));
  git("init", "-q", "-b", "main");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("headCommit: the commit HEAD names, from git's files", () => {
  it("reads a branch from its loose ref, then from packed-refs once git packs it", async () => {
    const first = await commit("one");
    expect(await head()).toBe(first);
    git("pack-refs", "--all");
    expect(git("for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
    expect(await head()).toBe(first);
    // A new commit writes a loose ref again, which wins over the stale packed line.
    const second = await commit("two");
    expect(await head()).toBe(second);
    expect(second).not.toBe(first);
  });

  it("reads a detached HEAD and a symbolic ref pointing at another ref", async () => {
    const first = await commit("one");
    const second = await commit("two");
    git("checkout", "-q", "--detach", first);
    expect(await head()).toBe(first);
    git("checkout", "-q", "main");
    git("symbolic-ref", "refs/heads/alias", "refs/heads/main");
    git("symbolic-ref", "HEAD", "refs/heads/alias");
    expect(git("rev-parse", "HEAD")).toBe(second);
    expect(await head()).toBe(second);
  });

  it("reads a linked worktree (gitfile and commondir) and a separate git dir", async () => {
    await commit("one");
    git("branch", "side");
    git("worktree", "add", "-q", join(dir, "linked"), "side");
    await writeFile(join(dir, "linked", "other.txt"), "other\n");
    gitIn(join(dir, "linked"), "add", ".");
    gitIn(join(dir, "linked"), "commit", "-q", "-m", "on side");
    expect(await head(join(dir, "linked"))).toBe(gitIn(join(dir, "linked"), "rev-parse", "HEAD"));
    expect(await head(join(dir, "linked"))).not.toBe(await head());

    await mkdir(join(dir, "separate"));
    gitIn(
      join(dir, "separate"),
      "init",
      "-q",
      "-b",
      "main",
      "--separate-git-dir",
      join(dir, "sep.git"),
    );
    await writeFile(join(dir, "separate", "f"), "f\n");
    gitIn(join(dir, "separate"), "add", ".");
    gitIn(join(dir, "separate"), "commit", "-q", "-m", "separate");
    expect(await head(join(dir, "separate"))).toBe(
      gitIn(join(dir, "separate"), "rev-parse", "HEAD"),
    );
  });

  it("adds a shallow clone's boundary, which changes when the clone is deepened", async () => {
    await commit("one");
    await commit("two");
    const tip = await commit("three");
    gitIn(dir, "clone", "-q", "--depth", "1", `file://${join(dir, "repo")}`, "shallow");
    const shallow = await head(join(dir, "shallow"));
    expect(shallow?.startsWith(`${tip}\nshallow\n`)).toBe(true);
    gitIn(join(dir, "shallow"), "fetch", "-q", "--deepen", "1");
    const deeper = await head(join(dir, "shallow"));
    expect(deeper?.startsWith(`${tip}\nshallow\n`)).toBe(true);
    expect(deeper).not.toBe(shallow);
  });

  it("says nothing for an unborn branch, a non-repository or a moved GIT_DIR", async () => {
    expect(await head()).toBeUndefined();
    await commit("one");
    expect(
      await headCommit(join(dir, "repo"), { GIT_DIR: join(dir, "elsewhere") }),
    ).toBeUndefined();
    await mkdir(join(dir, "plain"));
    expect(await head(join(dir, "plain"))).toBeUndefined();
  });

  it("says nothing where the same commit id may not mean the same objects or refs", async () => {
    const first = await commit("one");
    await commit("two");
    // git-replace(1): a replace ref swaps an object for every reader.
    git("replace", first, git("rev-parse", "HEAD"));
    expect(await head()).toBeUndefined();
    git("replace", "-d", first);
    expect(await head()).toBe(git("rev-parse", "HEAD"));
    // Grafts rewrite parents (gitrepository-layout(5) "info/grafts").
    await mkdir(join(dir, "repo", ".git", "info"), { recursive: true });
    await writeFile(join(dir, "repo", ".git", "info", "grafts"), `${first}\n`);
    expect(await head()).toBeUndefined();
    await rm(join(dir, "repo", ".git", "info", "grafts"));
    // A reftable repository keeps its refs in reftable/, which this reader does not parse.
    git("config", "extensions.refStorage", "reftable");
    expect(await head()).toBeUndefined();
  });
});
