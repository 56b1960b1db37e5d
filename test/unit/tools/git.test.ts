import { describe, expect, it } from "vitest";
import { log, logFormat, parseLog, plumbing, revParse } from "../../../pipelines/src/tools/git.ts";

describe("git invocations (argument vectors)", () => {
  it("resolves a revision to a commit", () => {
    expect(revParse("HEAD~1").args).toEqual([
      "rev-parse",
      "--verify",
      "--quiet",
      "HEAD~1^{commit}",
    ]);
  });

  it("moves a ref only from the expected old value (compare-and-swap)", () => {
    expect(plumbing.updateRef("refs/heads/main", "new", "old", "promote").args).toEqual([
      "update-ref",
      "-m",
      "promote",
      "refs/heads/main",
      "new",
      "old",
    ]);
  });

  it("builds commits on a private index so the user's staged work is untouched", () => {
    const inv = plumbing.addBlob("/tmp/idx", "abc123", "releases/x.yaml");
    expect(inv.env).toEqual({ GIT_INDEX_FILE: "/tmp/idx" });
    expect(inv.args).toEqual([
      "update-index",
      "--add",
      "--cacheinfo",
      "100644,abc123,releases/x.yaml",
    ]);
    const commit = plumbing.commitTree("tree", "parent", "subject\n\nbody");
    expect(commit.stdin).toBe("subject\n\nbody");
    expect(commit.args).toEqual(["commit-tree", "tree", "-p", "parent", "-F", "-"]);
  });

  it("logs a file's history with an unambiguous format", () => {
    expect(log(["k8s/overlays/prod/kustomization.yaml"], { max: 5 }).args).toEqual([
      "log",
      `--format=${logFormat}`,
      "--max-count=5",
      "HEAD",
      "--",
      "k8s/overlays/prod/kustomization.yaml",
    ]);
  });

  it("parses log records, keeping multi-line bodies", () => {
    const out =
      "aaa\x1fAda <ada@x>\x1f2026-11-22T02:00:00+00:00\x1fpromote prod\x1fline 1\nline 2\n\x1e\n" +
      "bbb\x1fBob <bob@x>\x1f2026-11-21T02:00:00+00:00\x1finitial\x1f\x1e\n";
    expect(parseLog(out)).toEqual([
      {
        commit: "aaa",
        author: "Ada <ada@x>",
        date: "2026-11-22T02:00:00+00:00",
        subject: "promote prod",
        body: "line 1\nline 2",
      },
      {
        commit: "bbb",
        author: "Bob <bob@x>",
        date: "2026-11-21T02:00:00+00:00",
        subject: "initial",
        body: "",
      },
    ]);
  });
});
