/**
 * The expand-contract promotion gate, scenario by scenario, on a real git repository and the
 * real local registry: images whose commits carry the api's migrations climb test → staging →
 * prod (the blue-green tier, whose gates include expand-contract here as in the sample). What
 * prod runs is read from git — its pinned digest, that digest's passage into prod, the
 * migrations at the commit the passage names — and a refusal changes nothing.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  configure,
  ensureBusybox,
  git,
  makeRepo,
  overlayDigests,
  publishArtefact,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

const dir = "services/api/db/migrations";
const create = "CREATE TABLE jobs (id int PRIMARY KEY, payload text NOT NULL);\n";
const expand = "ALTER TABLE jobs ADD COLUMN body jsonb;\n";
const drop = "ALTER TABLE jobs DROP COLUMN payload;\n";
const contract = `-- tiers: contract 002_add_body\n${drop}`;

let repo: Repo;
let root: string;

/** Sets the api's migrations to `files` (id -> SQL), commits, and publishes that commit's images. */
async function release(files: Record<string, string>, message: string): Promise<ArtefactRecord> {
  await rm(join(root, dir), { recursive: true, force: true });
  await mkdir(join(root, dir), { recursive: true });
  for (const [id, sql] of Object.entries(files)) await writeFile(join(root, dir, `${id}.sql`), sql);
  git(root, "add", "-A", "services");
  git(root, "commit", "-qm", message);
  const record = publishArtefact({ commit: git(root, "rev-parse", "HEAD") });
  await writeArtefacts(root, record);
  return record;
}

/** Through test and staging (neither asks for the gate), ready for prod. */
async function climbToStaging(record: ArtefactRecord): Promise<void> {
  const env = cleanEnv();
  await recordTestReport({ root, commit: record.commit, passed: true, summary: "api passed", env });
  await promote({
    root,
    tier: "test",
    commit: record.commit,
    evidence: "local",
    deploy: "skip",
    env,
  });
  await promote({ root, tier: "staging", commit: record.commit, deploy: "skip", env });
}

function gateOf(plan: {
  gates: Array<{ gate: string; ok: boolean; why: string; service?: string }>;
}) {
  return plan.gates.filter((g) => g.gate === "expand-contract");
}

/** The plan into prod refuses, and promote refuses with it, changing nothing. */
async function expectRefused(record: ArtefactRecord, why: RegExp): Promise<void> {
  const head = git(root, "rev-parse", "HEAD");
  const before = await overlayDigests(root, "prod");
  const ctx = await computePlan({ root, tier: "prod", commit: record.commit, env: cleanEnv() });
  expect(ctx.plan.ok).toBe(false);
  const api = gateOf(ctx.plan).find((g) => g.service === "api")!;
  expect(api.ok).toBe(false);
  expect(api.why).toMatch(why);
  await expect(
    promote({
      root,
      tier: "prod",
      commit: record.commit,
      evidence: "local",
      deploy: "skip",
      env: cleanEnv(),
    }),
  ).rejects.toThrow(/expand-contract/);
  expect(git(root, "rev-parse", "HEAD")).toBe(head);
  expect(await overlayDigests(root, "prod")).toEqual(before);
}

async function expectPromoted(record: ArtefactRecord, why: RegExp): Promise<void> {
  const ctx = await computePlan({ root, tier: "prod", commit: record.commit, env: cleanEnv() });
  expect(gateOf(ctx.plan).map((g) => [g.service, g.ok])).toEqual([
    ["api", true],
    ["worker", true],
  ]);
  expect(gateOf(ctx.plan)[0]!.why).toMatch(why);
  expect(ctx.plan.ok).toBe(true);
  await promote({
    root,
    tier: "prod",
    commit: record.commit,
    evidence: "local",
    deploy: "skip",
    env: cleanEnv(),
  });
  expect(await overlayDigests(root, "prod")).toContain(record.images.api!.digest);
}

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  repo = await makeRepo(async (r) => {
    await configure(
      r,
      "prod.yaml",
      ["promotion", "gates"],
      ["passage", "not-rejected", "no-dev-image", "approvals", "expand-contract"],
    );
  });
  root = repo.root;
});

afterAll(async () => {
  await repo?.remove();
  removeTestImages();
  await removePushedImages();
});

describe("expand-contract gate into the blue-green tier (real git, real registry)", () => {
  let first: ArtefactRecord;
  it("nothing live in prod yet: the first release passes, since no colour reads any schema", async () => {
    first = await release({ "001_create_jobs": create }, "jobs table");
    await climbToStaging(first);
    await expectPromoted(first, /nothing live in prod yet \(nothing promoted\)/);
  });

  it("a commit that drops a column prod still reads is refused, naming the file and line", async () => {
    const bad = await release(
      { "001_create_jobs": create, "002_add_body": expand, "003_drop_payload": drop },
      "replace payload by body in one release",
    );
    await climbToStaging(bad);
    await expectRefused(
      bad,
      /services\/api\/db\/migrations\/003_drop_payload.sql:1: ALTER TABLE jobs DROP COLUMN payload: prod deploys blue-green/,
    );
  });

  it("a contract marked for an expand prod does not run yet is refused", async () => {
    const early = await release(
      { "001_create_jobs": create, "002_add_body": expand, "003_drop_payload": contract },
      "contract in the same release as its expand",
    );
    await climbToStaging(early);
    await expectRefused(
      early,
      /003_drop_payload.sql:1: contract step of "002_add_body", which prod does not run yet/,
    );
  });

  it("the expand alone passes; once prod runs it, the marked contract passes", async () => {
    const expandOnly = await release(
      { "001_create_jobs": create, "002_add_body": expand },
      "expand",
    );
    await climbToStaging(expandOnly);
    await expectPromoted(
      expandOnly,
      /1 migration\(s\) new to prod, none drops .*prod runs sha256:/,
    );
    const contractRelease = await release(
      { "001_create_jobs": create, "002_add_body": expand, "003_drop_payload": contract },
      "contract",
    );
    await climbToStaging(contractRelease);
    await expectPromoted(
      contractRelease,
      new RegExp(
        `prod runs ${expandOnly.images.api!.digest.slice(0, 19)} from ${expandOnly.commit.slice(0, 12)}`,
      ),
    );
  });

  it("`tiers plan` shows the gate's verdict (real CLI)", async () => {
    const bad = await release(
      {
        "001_create_jobs": create,
        "002_add_body": expand,
        "003_drop_payload": contract,
        "004_drop_jobs": "DROP TABLE jobs;\n",
      },
      "drop the table",
    );
    await climbToStaging(bad);
    const run = await runTiers(root, ["plan", "--env", "prod", "--commit", bad.commit], {
      env: cleanEnv(),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /🜄 .*✗ expand-contract \[api\]: services\/api\/db\/migrations\/004_drop_jobs.sql:1: DROP TABLE jobs/,
    );
    expect(run.stdout).toMatch(/✓ expand-contract \[worker\]: no migrations/);
  });

  it("fails closed: prod's pinned digest without its passage record, or a commit git does not have", async () => {
    const passages = git(root, "ls-tree", "--name-only", "HEAD", "releases/passages/prod/").split(
      "\n",
    );
    const pinned = (await overlayDigests(root, "prod"))[0]!;
    const record = passages.find((p) => p.includes(pinned.slice("sha256:".length, 20)))!;
    expect(record).toBeDefined();
    git(root, "rm", "-q", record);
    git(root, "commit", "-qm", "lose prod's passage record");
    const next = await release({ "001_create_jobs": create, "002_add_body": expand }, "no change");
    await climbToStaging(next);
    await expectRefused(
      next,
      /cannot tell which migrations prod runs: releases\/passages\/prod\/.* does not exist for the pinned sha256:/,
    );

    const unknown = publishArtefact(); // a commit this repository does not have
    await writeArtefacts(root, unknown);
    await climbToStaging(unknown);
    await expectRefused(
      unknown,
      new RegExp(`cannot list ${dir} at ${unknown.commit.slice(0, 12)}`),
    );
  });
});
