/**
 * A CLI command reads and validates the tier files once (CliContext.model), and hands the model
 * to every engine it calls. Counted at the one place the files are read
 * (core/environment/load.ts), which both loadModel and validateRepository go through. The
 * commands run in-process on a fixture repository (test/fixtures/promotion-chain) with git; a
 * command may stop with a refusal after loading (nothing published, no cluster), which is
 * still one load.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as load from "../../../../pipelines/src/core/environment/load.ts";
import { tiers } from "../../../support/cli.ts";

vi.mock(import("../../../../pipelines/src/core/environment/load.ts"), async (importOriginal) => {
  const actual = await importOriginal();
  return { ...actual, readEnvironmentSources: vi.fn(actual.readEnvironmentSources) };
});

const fixture = resolve(import.meta.dirname, "../../../fixtures/promotion-chain");
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tiers-model-loads-"));
  await cp(fixture, root, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: root,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t.invalid",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t.invalid",
      },
    });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "--no-verify", "-m", "fixture");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
beforeEach(() => {
  vi.mocked(load.readEnvironmentSources).mockClear();
});

describe("the environment model is loaded once per CLI command", () => {
  const commands: Array<[string, string[]]> = [
    ["validate", ["validate"]],
    ["plan", ["plan", "--env", "staging"]],
    ["promote", ["promote", "--env", "staging", "--yes", "--no-deploy"]],
    ["status", ["status"]],
    ["env <tier> status", ["env", "staging", "status"]],
    ["deploy", ["deploy", "--env", "staging", "--dry-run"]],
  ];
  for (const [name, args] of commands) {
    it(`tiers ${name}`, async () => {
      const run = await tiers("--root", root, "--no-color", ...args);
      // Each ran as far as its facts allow (no tool is missing: it answered, maybe refusing).
      expect(run.stderr, run.stderr).not.toMatch(/ENOENT|is not a function/);
      expect(load.readEnvironmentSources).toHaveBeenCalledTimes(1);
    });
  }
});
