/**
 * One release, several services (issue 16) on real git repositories and the real local
 * registry: a commit's artefact moves as one unit; a promotion that would leave staging running
 * services from two commits is refused unless --service says so explicitly. Also the
 * verification line plan prints beside the gates for a tier with deploy.verify.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  configure,
  ensureBusybox,
  git,
  makeRepo,
  overlayDigests,
  passTest,
  publishArtefact,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

let first: ArtefactRecord;
let second: ArtefactRecord;
const repos: Repo[] = [];

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  first = publishArtefact();
  second = publishArtefact();
});

afterAll(async () => {
  for (const r of repos) await r.remove();
  removeTestImages();
  await removePushedImages();
});

/** Both commits passed test; staging runs `first` (both services). */
async function stagingOnFirst(tweak?: (root: string) => Promise<void>): Promise<string> {
  const r = await makeRepo(tweak);
  repos.push(r);
  await writeArtefacts(r.root, first, second);
  const env = cleanEnv();
  await passTest(r.root, [first, second], env);
  await promote({ root: r.root, tier: "staging", commit: first.commit, deploy: "skip", env });
  return r.root;
}

const gate = (plan: { gates: Array<{ gate: string; ok: boolean; why: string }> }, name: string) =>
  plan.gates.filter((g) => g.gate === name);

describe("one release, several services (real git, real registry)", () => {
  it("a bare digest of one service that would mix two commits is refused, naming each service's commit", async () => {
    const root = await stagingOnFirst();
    const head = git(root, "rev-parse", "HEAD");
    const request = { root, tier: "staging", digest: second.images.api!.digest, env: cleanEnv() };
    const { plan } = await computePlan(request);
    expect(plan.ok).toBe(false);
    expect(gate(plan, "one-release")).toEqual([
      {
        gate: "one-release",
        ok: false,
        why: `would leave staging running services from 2 commits: api from ${second.commit.slice(0, 12)} (this promotion), worker from ${first.commit.slice(0, 12)} (pinned); promote the whole commit (--commit), or name the service with --service to mean it`,
      },
    ]);
    await expect(promote({ ...request, deploy: "skip" })).rejects.toThrow(
      /promotion into staging refused: 1 gate\(s\) failed[\s\S]*one-release: would leave staging running services from 2 commits/,
    );
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(await overlayDigests(root, "staging")).toEqual([
      first.images.api!.digest,
      first.images.worker!.digest,
    ]);

    const cli = await runTiers(root, ["plan", "--env", "staging", "--digest", request.digest], {
      env: cleanEnv(),
    });
    expect(cli.code).toBe(1);
    expect(`${cli.stdout}\n${cli.stderr}`).toMatch(
      /✗ one-release: would leave staging running services from 2 commits/,
    );
  });

  it("--service says the mix is meant: the gate passes and says so, and the promotion moves that service only", async () => {
    const root = await stagingOnFirst();
    const request = {
      root,
      tier: "staging",
      digest: second.images.api!.digest,
      service: "api",
      env: cleanEnv(),
    };
    const { plan } = await computePlan(request);
    expect(plan.ok).toBe(true);
    expect(gate(plan, "one-release")[0]?.why).toBe(
      `staging will run services from 2 commits, as --service api says explicitly: api from ${second.commit.slice(0, 12)} (this promotion), worker from ${first.commit.slice(0, 12)} (pinned)`,
    );
    await promote({ ...request, deploy: "skip" });
    expect(await overlayDigests(root, "staging")).toEqual([
      second.images.api!.digest,
      first.images.worker!.digest,
    ]);
    // Now mixed: promoting the whole of `second` brings staging back to one release.
    const whole = await computePlan({
      root,
      tier: "staging",
      commit: second.commit,
      env: cleanEnv(),
    });
    expect(gate(whole.plan, "one-release")[0]).toEqual({
      gate: "one-release",
      ok: true,
      why: `every service of staging runs commit ${second.commit.slice(0, 12)}`,
    });
  });

  it("the whole commit moves as one unit; plan prints the verification verdict of a tier with deploy.verify", async () => {
    const root = await stagingOnFirst(async (r) => {
      await configure(r, "staging.yaml", ["deploy", "verify"], { for: "10m", every: "30s" });
    });
    const now = () => new Date(Date.now() + 3_600_000); // an hour after the promotion into staging
    const { plan } = await computePlan({
      root,
      tier: "staging",
      commit: second.commit,
      env: cleanEnv(),
      now,
    });
    expect(plan.ok).toBe(true);
    expect(gate(plan, "one-release")[0]?.ok).toBe(true);
    expect(gate(plan, "verification")).toEqual([
      {
        gate: "verification",
        ok: true,
        why: expect.stringMatching(
          /^the pins of the promotion at \S+ were never verified \(deployed without a period, or not deployed\); no verified release on record yet$/,
        ),
      },
    ]);
    const cli = await runTiers(root, ["plan", "--env", "staging", "--commit", second.commit], {
      env: cleanEnv(),
    });
    expect(`${cli.stdout}\n${cli.stderr}`).toMatch(
      /✓ verification: verification period running \(10m every 30s\): \d+m left for the pins of the promotion at/,
    );
  });
});
