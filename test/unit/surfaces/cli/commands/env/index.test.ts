/**
 * `tiers env <tier> <action>` offers a tier the actions of its runtime, for any tier the chain
 * declares (issue 12). On a copy of the fixture repository with tiers the sample does not have:
 * `qa` added by `tiers add tier --runtime kubernetes`, and the ephemeral tier renamed `check`.
 * The deploy dry run renders the qa overlay with this machine's real kubectl; no cluster here.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { tiers } from "../../../../../support/cli.ts";

const fixtureRepo = resolve(import.meta.dirname, "../../../../../fixtures/repo");
let root: string;

const git = (...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@tiers.invalid", ...args], {
    cwd: root,
    encoding: "utf8",
  });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "tiers-env-adopt-"));
  cpSync(fixtureRepo, root, { recursive: true });
  // The ephemeral tier under a name the sample does not use.
  renameSync(join(root, "environments/test.yaml"), join(root, "environments/check.yaml"));
  renameSync(join(root, "compose/compose.test.yaml"), join(root, "compose/compose.check.yaml"));
  const edit = (file: string, from: string, to: string) => {
    const text = readFileSync(join(root, file), "utf8");
    if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
    writeFileSync(join(root, file), text.replace(from, to));
  };
  edit("environments/check.yaml", "tier: test", "tier: check");
  edit("environments/staging.yaml", "from: test", "from: check");
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "fixture with a renamed ephemeral tier");
  const added = await tiers(
    "--root",
    root,
    "--no-color",
    "add",
    "tier",
    "qa",
    "--after",
    "check",
    "--runtime",
    "kubernetes",
  );
  expect(added.code, added.stderr).toBe(0);
  git("add", "-A");
  git("commit", "-q", "-m", "a qa tier");
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));
// main() reports failure through process.exitCode; keep one test's code out of the next.
beforeEach(() => {
  process.exitCode = undefined;
});

const env = (...args: string[]) => tiers("--root", root, "--no-color", "env", ...args);

describe("tiers env offers each tier the actions of its runtime", () => {
  it("a kubernetes tier added by tiers add tier: bless, status, deploy, rollback", async () => {
    const none = await env("qa");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("tiers env qa needs an action");
    expect(none.stderr).toContain("actions for qa (kubernetes): bless, status, deploy, rollback");
    const wrong = await env("qa", "up");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown action "up" for tier qa');
    expect(wrong.stderr).toContain("bless, status, deploy, rollback");
  });

  it("an ephemeral tier under another name: run, clean", async () => {
    const wrong = await env("check", "shell");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("actions for check (ephemeral): run, clean");
  });

  it("a compose tier: up, down, logs, shell, status; shell without a service names the tier", async () => {
    const wrong = await env("dev", "bless");
    expect(wrong.stderr).toContain("actions for dev (compose): up, down, logs, shell, status");
    const shell = await env("dev", "shell");
    expect(shell.code).toBe(2);
    expect(shell.stderr).toContain("tiers env dev shell needs a service");
  });

  it("an unknown tier lists the tiers the chain declares", async () => {
    const unknown = await env("test", "run");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown tier "test" for tiers env');
    expect(unknown.stderr).toContain("declared tiers: dev, check, qa, staging, prod");
  });

  it("qa deploy --dry-run renders its overlay with the real kubectl and passes every check (no cluster)", async () => {
    const run = await env("qa", "deploy", "--dry-run");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("dry run: overlay renders and passes every check");
  }, 60_000);

  it("qa status reads the tier's pins from its overlay", async () => {
    const run = await env("qa", "status", "--json");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ runtime: "kubernetes" });
  });

  it("--help lists the actions by runtime", async () => {
    const help = await tiers("env", "--help");
    expect(help.code).toBe(0);
    for (const line of [
      /compose +tiers env <tier> up/,
      /ephemeral +tiers env <tier> run/,
      /kubernetes +tiers env <tier> rollback/,
    ]) {
      expect(help.stdout).toMatch(line);
    }
  });
});
