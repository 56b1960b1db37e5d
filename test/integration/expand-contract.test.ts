/**
 * The expand/contract check of `tiers validate` on a real git repository: a copy of the
 * promotion-chain fixture (its prod tier deploys blue-green) with a service's migrations from
 * test/fixtures/migrations/. "Released" is read through real git: the migrations present at the
 * commit a passage record names for the digest pinned in the blue-green tier's overlay.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../pipelines/src/core/environment/index.ts";
import { readPins, setPins } from "../../pipelines/src/core/promotion/overlay.ts";
import { passagePath, renderRecord } from "../../pipelines/src/core/promotion/records.ts";
import { hostReader } from "../../pipelines/src/engines/host/repository-reader.ts";
import { checkExpandContractAt } from "../../pipelines/src/surfaces/cli/expand-contract.ts";
import { tiers } from "../support/cli.ts";

const fixtures = join(import.meta.dirname, "../fixtures");
const digest = `sha256:${"c3".repeat(32)}`;
const migrationsDir = "services/api/db/migrations";
let root: string;
let released: string;

const git = (...args: string[]) =>
  execFileSync("git", args, {
    cwd: root,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t.invalid",
    },
  }).trim();

async function pinProd(value: string) {
  const file = join(root, "k8s/overlays/prod/kustomization.yaml");
  const text = await readFile(file, "utf8");
  const pins = readPins(text, file);
  await writeFile(
    file,
    setPins(
      text,
      pins.map((p) => ({ index: p.index, digest: value })),
      file,
    ),
  );
}

async function passage(commit: string | null) {
  const record = {
    kind: "passage",
    tier: "staging",
    digest,
    service: "api",
    repository: "127.0.0.1:5000/tiers-promotion-test/api",
    commit,
    recorded_by: "t",
    recorded_at: "2026-01-01T00:00:00Z",
    gates: [],
    evidence: { verifier: "local", signer: null, signature: null, annotations: {} },
  };
  const file = join(root, passagePath("staging", digest));
  await mkdir(join(file, ".."), { recursive: true });
  await writeFile(file, renderRecord(record, "test passage"));
}

/** Working-tree migrations = the named fixture directory. */
async function migrationsFrom(name: string) {
  await rm(join(root, migrationsDir), { recursive: true, force: true });
  await cp(join(fixtures, "migrations", name), join(root, migrationsDir), { recursive: true });
  await rm(join(root, migrationsDir, "README.md"), { force: true });
}

const check = async () => checkExpandContractAt(hostReader(root), await loadModel(root));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tiers-expand-contract-"));
  for (const dir of ["environments", "k8s"])
    await cp(join(fixtures, "promotion-chain", dir), join(root, dir), { recursive: true });
  git("init", "--quiet", "--initial-branch=main");
  // The release prod runs: built from a commit holding the expand migrations only.
  await migrationsFrom("expand");
  git("add", "-A");
  git("commit", "--quiet", "-m", "release");
  released = git("rev-parse", "HEAD");
  await pinProd(digest);
  await passage(released);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("expand/contract against what the blue-green tier runs (real git)", () => {
  it("an unmarked drop that prod has not run is refused at its file:line", async () => {
    await migrationsFrom("contract-unmarked");
    const problems = await check();
    expect(problems.map((p) => `${p.file}:${p.line} ${p.tier}`)).toContain(
      `${migrationsDir}/003_contract.sql:2 prod`,
    );
    expect(problems.every((p) => p.rule === "repository/expand-contract")).toBe(true);
    // Through the CLI too: file:line: message [rule].
    const run = await tiers("--root", root, "validate");
    expect(run.code).toBe(1);
    expect(run.stderr + run.stdout).toContain(`${migrationsDir}/003_contract.sql:2:1`);
    expect(run.stderr + run.stdout).toContain("[repository/expand-contract]");
  });

  it("the marked contract of a released expand passes", async () => {
    await migrationsFrom("contract-marked");
    expect(await check()).toEqual([]);
  });

  it("a digest whose commit no passage names is a problem at the pin, not 'nothing released'", async () => {
    await migrationsFrom("contract-marked");
    await passage(null);
    try {
      const problems = await check();
      expect(problems).toHaveLength(1);
      expect(problems[0]!.file).toBe("k8s/overlays/prod/kustomization.yaml");
      expect(problems[0]!.message).toMatch(/cannot tell which api migrations prod runs/);
    } finally {
      await passage(released);
    }
  });

  it("a commit missing from the clone is a problem naming it", async () => {
    await passage("f".repeat(40));
    try {
      const problems = await check();
      expect(problems[0]!.message).toMatch(new RegExp(`cannot list ${migrationsDir} at f{40}`));
    } finally {
      await passage(released);
    }
  });

  it("with nothing promoted to the blue-green tier, no colour is live and nothing is refused", async () => {
    await migrationsFrom("contract-unmarked");
    await pinProd(`sha256:${"0".repeat(64)}`);
    try {
      expect(await check()).toEqual([]);
    } finally {
      await pinProd(digest);
    }
  });
});
