import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tiers } from "../../../support/cli.ts";

// A scratch repository holding only the fixture tier files (no git history): enough for the
// refusals below, which all happen before any tool runs.
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tiers-json-"));
  await cp(
    resolve(import.meta.dirname, "../../../fixtures/environments/chain"),
    join(root, "environments"),
    {
      recursive: true,
    },
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function failure(stdout: string) {
  return JSON.parse(stdout) as {
    ok: boolean;
    error: { message: string; where: string | null; hint: string | null; exitCode: number };
  };
}

describe("--json means JSON on stdout for every outcome", () => {
  it("a usage error (commander) is a JSON failure with exit code 2", async () => {
    const run = await tiers("--root", root, "validate", "--json", "--bogus");
    expect(run.code).toBe(2);
    expect(failure(run.stdout)).toEqual({
      ok: false,
      error: {
        message: "unknown option '--bogus'",
        where: null,
        hint: "run with --help for usage",
        exitCode: 2,
      },
    });
  });

  it("an unknown tier is a JSON failure naming where and what to do", async () => {
    const run = await tiers("--root", root, "plan", "--env", "nope", "--json");
    expect(run.code).toBe(2);
    expect(failure(run.stdout).error).toEqual({
      message: 'unknown tier "nope"; declared tiers: dev, test, staging, prod',
      where: "environments/",
      hint: "name one of the declared tiers",
      exitCode: 2,
    });
    // The human text still goes to stderr, unchanged.
    expect(run.stderr).toContain('unknown tier "nope"');
  });

  it("a refusal keeps its exit code and is JSON too", async () => {
    const run = await tiers("--root", root, "plan", "--env", "prod", "--json");
    expect(run.code).toBe(1);
    expect(failure(run.stdout)).toMatchObject({
      ok: false,
      error: { message: "this repository has no commits yet", where: root, exitCode: 1 },
    });
  });

  it("without --json nothing changes: text on stderr, stdout empty", async () => {
    const run = await tiers("--root", root, "plan", "--env", "nope");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
  });
});
