/**
 * Soak and windows (issue 16) on real git repositories and the real local registry: the engine
 * with an injected clock at and around the soak boundary, overrides recorded in git and kept in
 * the passage, and the CLI (real clock) refusing with the time left and the next window.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { recordOverride } from "../../../pipelines/src/engines/host/promotion/overrides.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { rollback } from "../../../pipelines/src/engines/host/promotion/rollback.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  configure,
  ensureBusybox,
  freezeFromToday,
  git,
  makeRepo,
  overlayDigests,
  publishArtefact,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

let good: ArtefactRecord;
const repos: Repo[] = [];

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  good = publishArtefact();
});

afterAll(async () => {
  for (const r of repos) await r.remove();
  removeTestImages();
  await removePushedImages();
});

async function repo(tweak: (root: string) => Promise<void>): Promise<string> {
  const r = await makeRepo(tweak);
  repos.push(r);
  await writeArtefacts(r.root, good);
  return r.root;
}

/**
 * Tests passed, then the test tier takes the artefact; its promotion record says `at`. The
 * scenarios judge staging (from test): promoting into prod would sign for the fixture's last
 * tier, which takes keyless signatures only (support.ts, addProtectedLastTier).
 */
async function reachTest(root: string, at: Date | undefined) {
  const env = cleanEnv();
  await recordTestReport({ root, commit: good.commit, passed: true, summary: "ok", env });
  await promote({
    root,
    tier: "test",
    commit: good.commit,
    evidence: "local",
    deploy: "skip",
    env,
    ...(at ? { now: () => at } : {}),
  });
}

const t0 = new Date("2026-03-02T10:00:00.000Z");
const sinceT0 = (ms: number) => () => new Date(t0.getTime() + ms);
const minute = 60_000;

function failing(plan: { gates: Array<{ gate: string; ok: boolean; why: string }> }) {
  return plan.gates.filter((g) => !g.ok).map((g) => `${g.gate}: ${g.why}`);
}

describe("soak (injected clock, real git, real registry)", () => {
  it("refuses staging until the digest has been pinned in test for 1h, then lets it in", async () => {
    const root = await repo(async (r) => {
      await configure(r, "staging.yaml", ["promotion", "criteria"], { soak: "1h" });
    });
    await reachTest(root, t0);
    const request = { root, tier: "staging", commit: good.commit, env: cleanEnv() };

    const early = await computePlan({ ...request, now: sinceT0(20 * minute) });
    expect(failing(early.plan)).toEqual([
      expect.stringMatching(
        /^soak: soaking: 40m left of 1h; pinned in test since 2026-03-02T10:00:00.000Z \(releases\/history\/test\//,
      ),
      expect.stringMatching(/^soak: soaking: 40m left of 1h/),
    ]);
    const head = git(root, "rev-parse", "HEAD");
    await expect(
      promote({ ...request, deploy: "skip", now: sinceT0(60 * minute - 1) }),
    ).rejects.toThrow(/soak \[api\]: soaking: 1s left of 1h/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);

    const onTime = await computePlan({ ...request, now: sinceT0(60 * minute) });
    expect(failing(onTime.plan)).toEqual([]);
    expect(onTime.plan.gates.find((g) => g.gate === "soak")?.why).toMatch(/^soaked 1h ≥ 1h/);
  });

  it("an override recorded with a reason waives the soak where the tier allows it, and the passage keeps it", async () => {
    const root = await repo(async (r) => {
      await configure(r, "staging.yaml", ["promotion", "criteria"], { soak: "1d" });
    });
    await reachTest(root, t0);
    const env = cleanEnv({ TIERS_ACTOR: "oncall" });
    const api = good.images.api!.digest;
    // staging does not list soak in promotion.overrides yet: the override is refused, nothing written.
    const head = git(root, "rev-parse", "HEAD");
    await expect(
      recordOverride({ root, tier: "staging", digest: api, gate: "soak", reason: "INC-7", env }),
    ).rejects.toThrow(/staging does not allow soak to be overridden/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);

    await configure(root, "staging.yaml", ["promotion", "overrides"], ["soak"]);
    git(root, "commit", "-qam", "staging allows soak overrides");
    await expect(
      recordOverride({ root, tier: "staging", digest: api, gate: "soak", reason: "  ", env }),
    ).rejects.toThrow(/needs a reason/);
    for (const image of Object.values(good.images)) {
      await recordOverride({
        root,
        tier: "staging",
        digest: image.digest,
        gate: "soak",
        reason: "INC-7: the fix cannot wait a day",
        env,
        now: sinceT0(5 * minute),
      });
    }
    const outcome = await promote({
      root,
      tier: "staging",
      commit: good.commit,
      env: cleanEnv(),
      deploy: "skip",
      now: sinceT0(10 * minute),
    });
    expect(outcome.changed).toBe(true);
    expect(await overlayDigests(root, "staging")).toContain(api);
    const passage = parse(
      git(root, "show", `HEAD:releases/passages/staging/${api.replace(":", "-")}.yaml`),
    );
    const soak = passage.gates.find((g: { gate: string }) => g.gate === "soak");
    expect(soak).toMatchObject({
      ok: true,
      waiver: { by: "oncall", reason: "INC-7: the fix cannot wait a day" },
    });
    expect(soak.why).toMatch(/^WAIVED by oncall .*soaking: 23h 50m left of 1d/);
  });
});

describe("windows and soak through the CLI (real clock)", () => {
  it("`tiers plan --env staging` refuses with the soak time left and the next window; status and deploy say why", async () => {
    const freeze = freezeFromToday();
    const root = await repo(async (r) => {
      await configure(r, "staging.yaml", ["promotion", "criteria"], { soak: "1h" });
      await configure(r, "staging.yaml", ["windows"], [freeze.entry]);
    });
    await reachTest(root, undefined);
    const env = cleanEnv();
    const plan = await runTiers(root, ["plan", "--env", "staging", "--commit", good.commit], {
      env,
    });
    expect(plan.code).toBe(1);
    const out = `${plan.stdout}\n${plan.stderr}`;
    expect(out).toMatch(/✗ soak \[api\]: soaking: (1h|59m) left of 1h; pinned in test since/);
    expect(out).toContain(
      `✗ window: inside deny "test freeze" (FREQ=DAILY;COUNT=1, 2d, UTC); next window opens ${freeze.opens} (in `,
    );

    const status = await runTiers(root, ["env", "staging", "status"], { env });
    expect(`${status.stdout}\n${status.stderr}`).toMatch(
      /window: ✗ closed — inside deny "test freeze"/,
    );

    const deploy = await runTiers(root, ["deploy", "--env", "staging"], { env });
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toMatch(/deploy of staging refused: inside deny "test freeze"/);
    expect(git(root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");
  });
});

/** The waiver the CLI writes: `tiers approve --override window --reason …`. */
describe("an emergency fix through a freeze (CLI)", () => {
  it("`tiers approve --override window` lets the named digests through and the passage keeps the waiver", async () => {
    const freeze = freezeFromToday();
    const root = await repo(async (r) => {
      await configure(r, "staging.yaml", ["promotion", "overrides"], ["window"]);
      await configure(r, "staging.yaml", ["windows"], [freeze.entry]);
    });
    await reachTest(root, undefined);
    const env = cleanEnv({ TIERS_ACTOR: "oncall" });
    const approve = await runTiers(
      root,
      [
        "approve",
        "--env",
        "staging",
        "--digest",
        good.images.api!.digest,
        "--override",
        "window",
        "--reason",
        "INC-9 payment outage",
      ],
      { env },
    );
    expect(approve.stderr).toBe("");
    expect(approve.code).toBe(0);
    // One service only: the other digest has no override, so the window still refuses.
    const partly = await computePlan({
      root,
      tier: "staging",
      commit: good.commit,
      env: cleanEnv(),
    });
    expect(failing(partly.plan).join("\n")).toMatch(/^window: inside deny "test freeze"/);
    const plan = await computePlan({
      root,
      tier: "staging",
      commit: good.commit,
      service: "api",
      env: cleanEnv(),
    });
    expect(failing(plan.plan)).toEqual([]);
    await promote({
      root,
      tier: "staging",
      commit: good.commit,
      service: "api",
      env: cleanEnv(),
      deploy: "skip",
    });
    const api = good.images.api!.digest;
    const passage = parse(
      await readFile(
        join(root, "releases/passages/staging", `${api.replace(":", "-")}.yaml`),
        "utf8",
      ),
    );
    expect(passage.gates.find((g: { gate: string }) => g.gate === "window")).toMatchObject({
      ok: true,
      waiver: { by: "oncall", reason: "INC-9 payment outage" },
    });

    // A freeze never blocks the way back, unless the tier says windows_apply_to_rollback.
    await configure(root, "staging.yaml", ["windows_apply_to_rollback"], true);
    git(root, "commit", "-qam", "staging: windows apply to rollbacks");
    const head = git(root, "rev-parse", "HEAD");
    await expect(
      rollback({ root, tier: "staging", env: cleanEnv(), deploy: "skip" }),
    ).rejects.toThrow(/rollback of staging refused: inside deny "test freeze"/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    await configure(root, "staging.yaml", ["windows_apply_to_rollback"], false);
    git(root, "commit", "-qam", "staging: rollbacks ignore windows");
    // With one promotion only there is nothing earlier to restore: the rollback gets past the
    // window and stops at its own check, which is what "not blocked by the freeze" can show here.
    await expect(
      rollback({ root, tier: "staging", env: cleanEnv(), deploy: "skip" }),
    ).rejects.toThrow(/^staging has no earlier pins to roll back to/);
  });
});
