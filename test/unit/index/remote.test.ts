/**
 * The git remote and the revision under Dagger (engines/dagger/remote.ts, revision.ts). The
 * engine rules they mirror: `GitRepository.url()` is set only for a repository fetched from a
 * remote (dagger core/git.go sets `repo.URL` for the remote backend only), so the module's own
 * checkout has none; `head().tree()` is depth 1 (core/schema/git.go `Depth int default:"1"`), so
 * only HEAD can be read. `git config --file … --get remote.origin.url` runs for real on this
 * machine's git; the GitRepository is a stand-in (no Dagger engine here).
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag, type GitRepository } from "@dagger.io/dagger";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../../pipelines/src/core/errors.ts";
import {
  gitConfigPath,
  originInvocation,
  publicRemote,
  resolveRemote,
} from "../../../pipelines/src/engines/dagger/remote.ts";
import { commitToBuild, headRevision } from "../../../pipelines/src/engines/dagger/revision.ts";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import { repositoryRoot } from "../../support/dagger/offline.ts";

const head = "0123456789abcdef0123456789abcdef01234567";
const other = "f".repeat(40);
let temp: string | undefined;
afterEach(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
  temp = undefined;
});

/** A directory holding `git/config` as the module places it, read by this machine's git. */
async function configRunner(config: string | undefined) {
  temp = await mkdtemp(join(tmpdir(), "tiers-dagger-remote-"));
  if (config !== undefined) {
    await mkdir(join(temp, "git"));
    await writeFile(join(temp, gitConfigPath), config);
  }
  return (invocation: Parameters<typeof runHost>[0]) =>
    runHost(invocation, { root: temp!, reject: false });
}

describe("the git remote (real git on a config file; no Dagger engine here)", () => {
  it("reads origin from the checkout's git config with git itself", async () => {
    const run = await configRunner(
      '[core]\n\tbare = false\n[remote "upstream"]\n\turl = https://example.test/other.git\n[remote "origin"]\n\turl = git@github.com:tiers-dev/tiers.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n',
    );
    const remote = await resolveRemote({ gitConfig: dag.file("config", ""), run: (i) => run(i) });
    expect(remote).toBe("https://github.com/tiers-dev/tiers.git");
    expect(originInvocation().args).toEqual([
      "config",
      "--file",
      gitConfigPath,
      "--get",
      "remote.origin.url",
    ]);
  });

  it("prefers the explicit --git-remote and never calls git then", async () => {
    const remote = await resolveRemote({
      explicit: "https://git.example.test/tiers.git",
      gitConfig: dag.file("config", ""),
      run: () => Promise.reject(new Error("git must not run")),
    });
    expect(remote).toBe("https://git.example.test/tiers.git");
  });

  it("fails closed, naming .git/config and --git-remote, when there is no origin", async () => {
    const run = await configRunner("[core]\n\tbare = false\n");
    const error = await resolveRemote({ gitConfig: dag.file("c", ""), run: (i) => run(i) }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/no remote.origin.url/);
    expect((error as UsageError).where).toBe(".git/config");
    expect((error as UsageError).hint).toMatch(/--git-remote/);
    // A worktree: the module got no config file at all.
    await expect(resolveRemote({ run: () => Promise.reject(new Error("no")) })).rejects.toThrow(
      /--git-remote is not set and no .git\/config/,
    );
  });

  it("never lets a credential in the remote URL through (GitLab runners clone with one)", () => {
    expect(publicRemote("https://gitlab-ci-token:glcbt-SECRET@gitlab.com/g/tiers.git")).toBe(
      "https://gitlab.com/g/tiers.git",
    );
    expect(publicRemote("ssh://git@gitlab.example.test:22/g/tiers.git")).toBe(
      "https://gitlab.example.test/g/tiers.git",
    );
    expect(() => publicRemote("https://user:SECRET@[not a url")).toThrow(/<credentials>/);
    expect(() => publicRemote("file:///srv/tiers.git")).toThrow(/not an https URL/);
  });

  it("nothing in the module asks GitRepository.url()", async () => {
    const files = [
      join(repositoryRoot, "pipelines/src/index.ts"),
      ...(await readdir(join(repositoryRoot, "pipelines/src/engines/dagger"))).map((f) =>
        join(repositoryRoot, "pipelines/src/engines/dagger", f),
      ),
    ];
    for (const file of files) {
      expect(await readFile(file, "utf8"), file).not.toMatch(/\.url\(\)/);
    }
  });
});

/** A stand-in GitRepository: HEAD, its tree and the uncommitted changeset. */
function repository(dirty: boolean): GitRepository {
  return {
    head: () => ({ commit: async () => head, tree: () => dag.directory() }),
    uncommitted: () => ({ isEmpty: async () => !dirty }),
  } as unknown as GitRepository;
}

describe("the revision images carry (no Dagger engine here)", () => {
  it("builds HEAD, and refuses a --commit that is not HEAD", () => {
    expect(commitToBuild(head)).toBe(head);
    expect(commitToBuild(head, head)).toBe(head);
    expect(() => commitToBuild(head, other)).toThrow(/is not the checked-out HEAD/);
    expect(() => commitToBuild(head, "abc123")).toThrow(/full 40-hex/);
  });

  it("runs the dirty check even when --commit is given, and labels with the remote", async () => {
    const shown: string[][] = [];
    const revision = await headRevision(repository(true), {
      commit: head,
      source: async () => "https://github.com/tiers-dev/tiers.git",
      run: async (invocation) => {
        shown.push([...invocation.args]);
        return { exitCode: 0, stdout: "1767323045", stderr: "" };
      },
    });
    expect(revision).toEqual({
      commit: head,
      committedAt: "2026-01-02T03:04:05.000Z",
      dirty: true,
      source: "https://github.com/tiers-dev/tiers.git",
    });
    expect(shown).toEqual([["show", "-s", "--format=%ct", head]]);
  });

  it("the git question it asks works on a real depth-1 clone's HEAD", async () => {
    temp = await mkdtemp(join(tmpdir(), "tiers-dagger-depth1-"));
    const clone = join(temp, "clone");
    execFileSync("git", ["clone", "--quiet", "--depth", "1", `file://${repositoryRoot}`, clone]);
    const sha = execFileSync("git", ["-C", clone, "rev-parse", "HEAD"], {
      encoding: "utf8",
    }).trim();
    const result = await runHost(
      { tool: "git", args: ["show", "-s", "--format=%ct", sha] },
      { root: clone, reject: false },
    );
    expect(result.exitCode).toBe(0);
    expect(Number(result.stdout)).toBeGreaterThan(0);
  });
});
