/**
 * PromotionRepo's reads against a real git repository: many files in one `git cat-file --batch`
 * process, each read once per command. Real git, because the batch format is git's own
 * (https://git-scm.com/docs/git-cat-file#_batch_output): byte sizes, `missing` lines.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PromotionRepo, whoAmI } from "../../../../pipelines/src/engines/host/history.ts";
import { parseCatFileBatch, parseListTree } from "../../../../pipelines/src/tools/git.ts";

let dir: string;
const git = (...args: string[]) =>
  execFileSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" },
  }).trim();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-reads-"));
  git("init", "-q", "-b", "main");
  git("config", "user.email", "reads@example.test");
  git("config", "user.name", "Reads");
  await writeFile(join(dir, "a.yaml"), "reason: Größe ✓ — non-ASCII counts in bytes\n");
  await writeFile(join(dir, "b.yaml"), "no: final newline");
  await writeFile(join(dir, "c.yaml"), "");
  git("add", ".");
  git("commit", "-q", "-m", "one");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Counts the git processes a repo starts by wrapping its runner. */
function counted(repo: PromotionRepo): string[][] {
  const calls: string[][] = [];
  const run = repo.run.bind(repo);
  repo.run = (invocation, allowFailure) => {
    calls.push([...invocation.args]);
    return run(invocation, allowFailure);
  };
  return calls;
}

describe("PromotionRepo reads (real git)", () => {
  it("reads several files in one git process, each as a single `git show` would give it", async () => {
    const batched = new PromotionRepo(dir);
    const calls = counted(batched);
    const wanted = ["a.yaml", "b.yaml", "c.yaml", "absent.yaml"].map((path) => ({
      rev: "HEAD",
      path,
    }));
    const texts = await batched.showMany(wanted);
    // cat-file says `missing` for an absent path and an unknown revision alike, so that one
    // answer is asked again with `git show`, which tells them apart (fail closed).
    expect(calls).toEqual([
      ["cat-file", "--batch"],
      ["show", "HEAD:absent.yaml"],
    ]);
    const single = new PromotionRepo(dir);
    const one = await Promise.all(wanted.map(({ rev, path }) => single.showAt(rev, path)));
    expect(texts).toEqual(one);
    expect(texts[0]).toContain("Größe ✓");
    expect(texts[3]).toBeUndefined();
  });

  it("never reads the same file or listing twice in one command, and forgets on commit", async () => {
    const repo = new PromotionRepo(dir);
    const calls = counted(repo);
    await Promise.all([repo.showAt("HEAD", "a.yaml"), repo.showAt("HEAD", "a.yaml")]);
    await repo.showMany([{ rev: "HEAD", path: "a.yaml" }]);
    await repo.files(".");
    await repo.files(".");
    expect(calls.map((c) => c[0])).toEqual(["show", "ls-tree"]);
    const head = await repo.head();
    await repo.commit({
      expectedHead: head,
      writes: [{ path: "a.yaml", content: "reason: changed\n" }],
      message: "two",
    });
    expect(await repo.showAt("HEAD", "a.yaml")).toBe("reason: changed\n");
  });

  it("refuses batch output that does not line up with the request (falls back, never misreads)", () => {
    expect(parseCatFileBatch("deadbeef missing\n", ["HEAD:x"])).toBeUndefined();
    const oid = "a".repeat(40);
    expect(parseCatFileBatch(`${oid} blob 3\nab\n`, ["HEAD:x"])).toBeUndefined();
    expect(parseCatFileBatch(`${oid} blob 2\nab\nextra`, ["HEAD:x"])).toBeUndefined();
    expect(parseCatFileBatch(`${oid} blob 2\nab\nHEAD:y missing\n`, ["HEAD:x", "HEAD:y"])).toEqual([
      "ab",
      undefined,
    ]);
  });
});

describe("records and overlays at HEAD from one listing (real git)", () => {
  beforeEach(async () => {
    await mkdir(join(dir, "releases", "passages", "test"), { recursive: true });
    await mkdir(join(dir, "k8s", "overlays", "prod"), { recursive: true });
    await writeFile(join(dir, "releases", "passages", "test", "one.yaml"), "digest: one\n\n\n");
    await writeFile(join(dir, "releases", "passages", "test", "two.yaml"), "digest: two");
    await writeFile(join(dir, "k8s", "overlays", "prod", "kustomization.yaml"), "images: []\n");
    git("add", ".");
    git("commit", "-q", "-m", "records");
  });

  it("answers absent files from the listing and reads present ones in one batch", async () => {
    const repo = new PromotionRepo(dir);
    const calls = counted(repo);
    const paths = [
      "releases/passages/test/one.yaml",
      "releases/passages/test/two.yaml",
      "releases/rejections/absent.yaml",
      "k8s/overlays/prod/kustomization.yaml",
    ];
    const texts = await Promise.all(paths.map((path) => repo.showAt("HEAD", path)));
    const files = await repo.files("releases/passages/test");
    expect(calls.map((c) => c[0])).toEqual(["ls-tree", "cat-file"]);
    // Exactly what one `git show` and one `git ls-tree --name-only` per fact would have said.
    const alone = new PromotionRepo(dir);
    for (const [i, path] of paths.entries()) {
      expect(texts[i]).toEqual(await alone.showAt("HEAD~0", path));
    }
    expect(texts[2]).toBeUndefined();
    expect(files).toEqual(await alone.files("releases/passages/test", "HEAD~0"));
  });

  it("reads HEAD's pins through the listing: a tier without an overlay needs no read", async () => {
    const repo = new PromotionRepo(dir);
    const calls = counted(repo);
    const [prod, staging] = await Promise.all([repo.pinsAt("prod"), repo.pinsAt("staging")]);
    expect(prod).toEqual([]);
    expect(staging).toBeUndefined();
    expect(await repo.pinsAt("prod")).toEqual([]);
    expect(calls.map((c) => c[0])).toEqual(["ls-tree", "cat-file"]);
  });

  it("falls back to a single read, which names the failure, when git cannot list", async () => {
    const empty = await mkdtemp(join(tmpdir(), "tiers-reads-empty-"));
    try {
      execFileSync("git", ["init", "-q", "-b", "main"], { cwd: empty });
      const repo = new PromotionRepo(empty);
      const calls = counted(repo);
      // No commit: "could not read" must not become "absent".
      await expect(repo.showAt("HEAD", "releases/passages/test/one.yaml")).rejects.toThrow(
        /git could not read releases\/passages\/test\/one.yaml at HEAD/,
      );
      expect(calls.map((c) => c[0])).toEqual(["ls-tree", "show"]);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it("lists again after this repository commits (HEAD moved)", async () => {
    const repo = new PromotionRepo(dir);
    expect(await repo.showAt("HEAD", "releases/rejections/new.yaml")).toBeUndefined();
    await repo.commit({
      expectedHead: await repo.head(),
      writes: [{ path: "releases/rejections/new.yaml", content: "reason: broken\n" }],
      message: "reject",
    });
    expect(await repo.showAt("HEAD", "releases/rejections/new.yaml")).toBe("reason: broken\n");
    expect(await repo.files("releases/rejections")).toEqual(["releases/rejections/new.yaml"]);
  });

  it("refuses a listing line that does not read as git documents it", () => {
    const oid = "b".repeat(40);
    expect(parseListTree(`100644 blob ${oid}\treleases/a b.yaml\0`)).toEqual(
      new Map([["releases/a b.yaml", oid]]),
    );
    expect(parseListTree(`160000 commit ${oid}\tk8s/overlays/sub\0`)).toEqual(new Map());
    expect(parseListTree("100644 blob short\treleases/a.yaml\0")).toBeUndefined();
  });
});

describe("who is promoting (real git config)", () => {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
  const clean = { ...env, TIERS_ACTOR: "", GITHUB_ACTOR: "", GITLAB_USER_LOGIN: "" };

  it("is the git user in one git process, the last value of each key winning", async () => {
    git("config", "--add", "user.email", "later@example.test");
    const repo = new PromotionRepo(dir, clean);
    const calls = counted(repo);
    expect(await whoAmI(repo, clean)).toBe("Reads <later@example.test>");
    expect(calls).toEqual([["config", "--get-regexp", "^user\\.(email|name)$"]]);
  });

  it("is the email alone without a name, and the login name without an email", async () => {
    git("config", "--unset", "user.name");
    expect(await whoAmI(new PromotionRepo(dir, clean), clean)).toBe("reads@example.test");
    git("config", "--unset", "user.email");
    expect(await whoAmI(new PromotionRepo(dir, clean), { ...clean, USER: "someone" })).toBe(
      "someone",
    );
  });
});
