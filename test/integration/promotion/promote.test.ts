/**
 * Promoting, repeating, racing, rolling back and blessing, on real git repositories and the
 * real local registry; the CLI runs as real processes where exit codes and races matter.
 * No cluster exists here: the deploy step is skipped (--no-deploy) or, without a kubeconfig,
 * renders the overlay offline and reports "deploy skipped".
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { acquireLock } from "../../../pipelines/src/engines/host/history.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport, reject } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { rollback } from "../../../pipelines/src/engines/host/promotion/rollback.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  ensureBusybox,
  git,
  makeRepo,
  overlayDigests,
  publishArtefact,
  pushedCount,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

let first: ArtefactRecord;
let second: ArtefactRecord;
const repos: Repo[] = [];
const overlay = "k8s/overlays/staging/kustomization.yaml";
const cli = (root: string, args: string[]) => runTiers(root, args, { env: cleanEnv() });

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

/** A repository where both artefacts passed the test tier. */
async function readyRepo(): Promise<string> {
  const r = await makeRepo();
  repos.push(r);
  await writeArtefacts(r.root, first, second);
  for (const record of [first, second]) {
    await recordTestReport({
      root: r.root,
      commit: record.commit,
      passed: true,
      summary: "all passed",
      env: cleanEnv(),
    });
    await promote({
      root: r.root,
      tier: "test",
      commit: record.commit,
      evidence: "local",
      deploy: "skip",
      env: cleanEnv(),
    });
  }
  return r.root;
}

const digests = (record: ArtefactRecord) => [
  record.images.api!.digest,
  record.images.worker!.digest,
];

describe("tiers plan (real CLI process)", () => {
  it("prints the digests from → to, the overlay diff and every gate, and changes nothing", async () => {
    const root = await readyRepo();
    const head = git(root, "rev-parse", "HEAD");
    const before = await readFile(join(root, overlay), "utf8");
    const run = await cli(root, ["plan", "--env", "staging", "--commit", first.commit, "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as {
      ok: boolean;
      diff: string;
      changes: Array<{ service: string; from: string | null; to: string }>;
      gates: Array<{ gate: string; ok: boolean }>;
      flags: Array<{ flag: string; from: boolean; to: boolean }>;
    };
    expect(plan.ok).toBe(true);
    // The fixture's test tier turns verbose_errors on; staging leaves it at its default (off).
    expect(plan.flags.map((f) => [f.flag, f.from, f.to])).toEqual([
      ["verbose_errors", true, false],
    ]);
    expect(plan.changes.map((c) => [c.service, c.from, c.to])).toEqual([
      ["api", null, first.images.api!.digest],
      ["worker", null, first.images.worker!.digest],
    ]);
    expect(plan.diff).toContain(`--- a/${overlay}`);
    expect(plan.diff).toContain(`+    digest: ${first.images.api!.digest}`);
    expect(plan.diff).toContain(`-    digest: sha256:${"0".repeat(64)}`);
    expect(plan.gates.map((g) => g.gate)).toEqual(
      expect.arrayContaining([
        "passage",
        "tests-passed",
        "no-dev-image",
        "immutable-reference",
        "registry-digest",
        "not-rejected",
        "approvals",
      ]),
    );
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(await readFile(join(root, overlay), "utf8")).toBe(before);
    expect(git(root, "status", "--porcelain")).toBe("?? .tiers/");

    const text = await cli(root, ["plan", "--env", "prod", "--commit", first.commit]);
    expect(text.code).toBe(1);
    for (const line of text.stdout.trim().split("\n")) expect(line.startsWith("🜄 ")).toBe(true);
    expect(text.stderr).toMatch(/🜄 .*✗ passage \[api\]: has not passed staging/);
    expect(text.stderr).toMatch(/verdict: BLOCKED/);
    expect(text.stdout).toContain("🜄 flags: same values as staging");
    const flagged = await cli(root, ["plan", "--env", "staging", "--commit", first.commit]);
    expect(flagged.stdout).toContain("🜃 flags that change (test → staging):");
    expect(flagged.stdout).toMatch(/🜃 {3}verbose_errors: on → off \(A failed request/);
  });
});

describe("tiers promote", () => {
  it("pins only the digests, records passage + history in one commit, and a repeat changes nothing", async () => {
    const root = await readyRepo();
    const before = await readFile(join(root, overlay), "utf8");
    const run = await cli(root, [
      "promote",
      "--env",
      "staging",
      "--commit",
      first.commit,
      "--no-deploy",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/🜃 pinned api: \(nothing\) → sha256:/);
    expect(run.stdout).toMatch(/🜃 deploy skipped: --no-deploy/);
    const after = await readFile(join(root, overlay), "utf8");
    // Exactly the digest lines changed; every comment and other line is as it was.
    const changed = before.split("\n").filter((line, i) => line !== after.split("\n")[i]);
    expect(changed).toEqual([
      `    digest: sha256:${"0".repeat(64)}`,
      `    digest: sha256:${"0".repeat(64)}`,
    ]);
    expect(await overlayDigests(root, "staging")).toEqual(digests(first));
    const subject = git(root, "log", "-1", "--format=%s");
    expect(subject).toBe(
      `promote staging: api@${first.images.api!.digest.slice(7, 19)}, worker@${first.images.worker!.digest.slice(7, 19)} (commit ${first.commit.slice(0, 12)})`,
    );
    const files = git(root, "show", "--name-only", "--format=", "HEAD").split("\n").sort();
    expect(files).toHaveLength(4);
    expect(files).toEqual(
      expect.arrayContaining([
        overlay,
        `releases/passages/staging/${first.images.api!.digest.replace(":", "-")}.yaml`,
        `releases/passages/staging/${first.images.worker!.digest.replace(":", "-")}.yaml`,
      ]),
    );
    expect(
      files.some((f) =>
        /^releases\/history\/staging\/\d{8}T\d{6}Z-promotion-[0-9a-f]{12}\.yaml$/.test(f),
      ),
    ).toBe(true);
    const body = git(root, "log", "-1", "--format=%b");
    expect(body).toMatch(/Promoted-by: promotion-test/);
    expect(body).toMatch(/ok {3}passage \[api\]/);
    expect(git(root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");

    // Idempotent: the same promotion again says so and makes no commit.
    const head = git(root, "rev-parse", "HEAD");
    const again = await cli(root, [
      "promote",
      "--env",
      "staging",
      "--commit",
      first.commit,
      "--no-deploy",
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already pinned: .* nothing changed, no commit/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
  });

  it("refuses with exit 1, listing every failing gate, and changes nothing", async () => {
    const root = await readyRepo();
    const head = git(root, "rev-parse", "HEAD");
    const run = await cli(root, [
      "promote",
      "--env",
      "prod",
      "--commit",
      first.commit,
      "--no-deploy",
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /promotion into prod refused: 2 gate\(s\) failed; nothing was changed/,
    );
    expect(run.stderr).toMatch(/🜄 ✗ passage \[api\]: has not passed staging/);
    expect(run.stderr).toMatch(/🜄 ✗ passage \[worker\]: has not passed staging/);
    expect(run.stderr).toMatch(/hint: see every gate with `tiers plan --env prod`/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
  });

  it("without a kubeconfig, pins and records, renders the overlay offline and reports the deploy as skipped", async () => {
    const root = await readyRepo();
    const run = await cli(root, ["promote", "--env", "staging", "--commit", first.commit]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /deploy skipped: no kubeconfig: pinned and recorded, deploy skipped \(overlay rendered and checked offline/,
    );
  });

  it("two concurrent promotions (promises racing): exactly one wins, the loser gets a clear error", async () => {
    const root = await readyRepo();
    const results = await Promise.allSettled(
      [first, second].map((record) =>
        promote({ root, tier: "staging", commit: record.commit, deploy: "skip", env: cleanEnv() }),
      ),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(String(lost[0]!.reason)).toMatch(
      /another promotion is in progress .*nothing was changed/,
    );
    const winner = won[0]!.status === "fulfilled" ? won[0]!.value : undefined;
    expect(await overlayDigests(root, "staging")).toEqual(winner!.plan.changes.map((c) => c.to));
    expect(git(root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");
    expect(git(root, "log", "--format=%s")).toMatch(/^promote staging/);
  });

  it("two concurrent promotions (real processes): no lost update, the overlay matches the last commit", async () => {
    const root = await readyRepo();
    const start = git(root, "rev-parse", "HEAD");
    const runs = await Promise.all(
      [first, second].map((record) =>
        cli(root, ["promote", "--env", "staging", "--commit", record.commit, "--no-deploy"]),
      ),
    );
    const ok = runs.filter((r) => r.code === 0);
    const failed = runs.filter((r) => r.code !== 0);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const f of failed)
      expect(f.stderr).toMatch(
        /another promotion is in progress|the branch moved while this promotion ran/,
      );
    // Every success is one commit on top of the other: nothing was overwritten unseen.
    const promotions = git(root, "log", "--format=%s", `${start}..HEAD`)
      .split("\n")
      .filter(Boolean);
    expect(promotions).toHaveLength(ok.length);
    const pinnedByLast = git(root, "show", `HEAD:${overlay}`);
    expect(await readFile(join(root, overlay), "utf8")).toBe(`${pinnedByLast}\n`);
    expect(git(root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");
  });

  it("a promotion that finds the lock taken changes nothing and names the holder", async () => {
    const root = await readyRepo();
    const lock = await acquireLock(join(root, ".git"), "a test holding the lock");
    try {
      const head = git(root, "rev-parse", "HEAD");
      const run = await cli(root, [
        "promote",
        "--env",
        "staging",
        "--commit",
        first.commit,
        "--no-deploy",
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /another promotion is in progress \(a test holding the lock, pid \d+/,
      );
      expect(run.stderr).toMatch(/tiers-promotion\.lock/);
      expect(git(root, "rev-parse", "HEAD")).toBe(head);
      expect(await overlayDigests(root, "staging")).toEqual([
        `sha256:${"0".repeat(64)}`,
        `sha256:${"0".repeat(64)}`,
      ]);
    } finally {
      await lock.release();
    }
  });

  it("compare-and-swap: a commit that lands after the confirmed plan makes the promotion refuse", async () => {
    const root = await readyRepo();
    const ctx = await computePlan({ root, tier: "staging", commit: first.commit, env: cleanEnv() });
    await writeFile(join(root, "NOTES.md"), "someone else's commit\n");
    git(root, "add", "NOTES.md");
    git(root, "commit", "-q", "-m", "unrelated change");
    await expect(
      promote({
        root,
        tier: "staging",
        commit: first.commit,
        deploy: "skip",
        env: cleanEnv(),
        expectedHead: ctx.head,
      }),
    ).rejects.toThrow(/the repository moved since the plan you confirmed/);
    expect(await overlayDigests(root, "staging")).toEqual([
      `sha256:${"0".repeat(64)}`,
      `sha256:${"0".repeat(64)}`,
    ]);
  });

  it("a commit that cannot be made leaves nothing half-applied: files are restored", async () => {
    const root = await readyRepo();
    const before = await readFile(join(root, overlay), "utf8");
    const head = git(root, "rev-parse", "HEAD");
    // No committer identity anywhere: git refuses to create the commit object.
    git(root, "config", "--unset", "user.name");
    git(root, "config", "--unset", "user.email");
    git(root, "config", "user.useConfigOnly", "true");
    const env = cleanEnv({ GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" });
    for (const name of [
      "GIT_AUTHOR_NAME",
      "GIT_AUTHOR_EMAIL",
      "GIT_COMMITTER_NAME",
      "GIT_COMMITTER_EMAIL",
      "EMAIL",
    ]) {
      delete env[name];
    }
    await expect(
      promote({ root, tier: "staging", commit: first.commit, deploy: "skip", env }),
    ).rejects.toThrow(/git could not create the commit/);
    expect(await readFile(join(root, overlay), "utf8")).toBe(before);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(git(root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");
  });

  it("a failed deploy rolls the pin back automatically and withdraws the passage", async () => {
    const root = await readyRepo();
    await expect(
      promote({
        root,
        tier: "staging",
        commit: first.commit,
        deploy: "auto",
        env: cleanEnv(),
        deployer: async () => ({ outcome: "failed", detail: "smoke check /readyz returned 503" }),
      }),
    ).rejects.toThrow(/failed and was rolled back: smoke check \/readyz returned 503/);
    const subjects = git(root, "log", "-2", "--format=%s").split("\n");
    expect(subjects[0]).toMatch(/^rollback staging: /);
    expect(subjects[1]).toMatch(/^promote staging: /);
    expect(git(root, "log", "-1", "--format=%b")).toMatch(
      /Reason: automatic: deploy failed: smoke check/,
    );
    expect(await overlayDigests(root, "staging")).toEqual([
      `sha256:${"0".repeat(64)}`,
      `sha256:${"0".repeat(64)}`,
    ]);
    expect(git(root, "ls-tree", "-r", "--name-only", "HEAD", "releases/passages/staging")).toBe("");
  });
});

describe("tiers rollback", () => {
  it("restores the previous distinct pins from the overlay's history and records a rollback", async () => {
    const root = await readyRepo();
    for (const record of [first, second]) {
      await promote({
        root,
        tier: "staging",
        commit: record.commit,
        deploy: "skip",
        env: cleanEnv(),
      });
    }
    expect(await overlayDigests(root, "staging")).toEqual(digests(second));
    const run = await cli(root, [
      "rollback",
      "--env",
      "staging",
      "--no-deploy",
      "--reason",
      "p99 latency doubled",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/🜃 rolled back api: sha256:.* → sha256:/);
    expect(await overlayDigests(root, "staging")).toEqual(digests(first));
    expect(git(root, "log", "-1", "--format=%s")).toMatch(
      /^rollback staging: api@.*\(restores pins of [0-9a-f]{12}\)/,
    );
    expect(git(root, "log", "-1", "--format=%b")).toMatch(/Reason: p99 latency doubled/);
    const record = git(root, "show", "--name-only", "--format=", "HEAD")
      .split("\n")
      .find((f) => f.includes("-rollback-"));
    expect(git(root, "show", `HEAD:${record}`)).toMatch(
      /kind: rollback[\s\S]*reason: p99 latency doubled/,
    );

    // Rolling back again goes to the previous distinct pins: the second artefact.
    await rollback({ root, tier: "staging", deploy: "skip", env: cleanEnv() });
    expect(await overlayDigests(root, "staging")).toEqual(digests(second));
    // --to a digest pinned earlier.
    await rollback({
      root,
      tier: "staging",
      to: first.images.api!.digest,
      deploy: "skip",
      env: cleanEnv(),
    });
    expect(await overlayDigests(root, "staging")).toEqual(digests(first));
  });

  it("refuses to roll back to a rejected digest", async () => {
    const root = await readyRepo();
    for (const record of [first, second]) {
      await promote({
        root,
        tier: "staging",
        commit: record.commit,
        deploy: "skip",
        env: cleanEnv(),
      });
    }
    await reject({
      root,
      digest: first.images.worker!.digest,
      reason: "corrupts jobs",
      env: cleanEnv(),
    });
    const head = git(root, "rev-parse", "HEAD");
    const run = await cli(root, ["rollback", "--env", "staging", "--no-deploy"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /refusing to roll staging back to sha256:.*: it was rejected \(corrupts jobs\)/,
    );
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(await overlayDigests(root, "staging")).toEqual(digests(second));
  });
});

describe("tiers env <tier> bless and status, tiers status (real CLI processes)", () => {
  it("bless refuses without a terminal unless --yes, then promotes", async () => {
    const root = await readyRepo();
    const head = git(root, "rev-parse", "HEAD");
    const refused = await cli(root, [
      "env",
      "staging",
      "bless",
      "--commit",
      first.commit,
      "--no-deploy",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/needs confirmation, and there is no terminal to ask on/);
    expect(refused.stderr).toMatch(/pass --yes/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    const blessed = await cli(root, [
      "env",
      "staging",
      "bless",
      "--commit",
      first.commit,
      "--no-deploy",
      "--yes",
    ]);
    expect(blessed.stderr).toBe("");
    expect(blessed.code).toBe(0);
    expect(await overlayDigests(root, "staging")).toEqual(digests(first));
  });

  it("status shows pins, passages and history per tier, and the ladder with what waits", async () => {
    const root = await readyRepo();
    await promote({ root, tier: "staging", commit: first.commit, deploy: "skip", env: cleanEnv() });
    const tier = await cli(root, ["env", "staging", "status"]);
    expect(tier.code).toBe(0);
    expect(tier.stdout).toContain(
      `🜃 api: ${first.images.api!.digest} (commit ${first.commit.slice(0, 12)})`,
    );
    expect(tier.stdout).toMatch(/🜃 {3}passage: {3}✓ releases\/passages\/staging\/sha256-/);
    expect(tier.stdout).toMatch(/🜃 {3}[0-9a-f]{12} .* promote staging: api@/);
    expect(tier.stdout).toMatch(/🜃 waiting below: api@sha256:/);
    // Where staging's dashboards and alerts live, from its observability and alerting config.
    expect(tier.stdout).toContain(
      "🜃 signals: dashboards https://grafana.tiers.example/d/tiers?var-tier=staging  alerts error_rate, p95_latency, availability → ",
    );

    const ladder = await cli(root, ["status"]);
    expect(ladder.code).toBe(0);
    const lines = ladder.stdout.trim().split("\n");
    // The fixture chain ends in a protected tier above prod (support.ts addProtectedLastTier).
    expect(lines[0]).toMatch(/^🜔 vault +kubernetes nothing promoted yet/);
    const prod = lines.findIndex((line) => line.startsWith("🜄 prod"));
    expect(lines[prod]).toMatch(/^🜄 prod +kubernetes nothing promoted yet/);
    expect(lines[prod + 1]).toMatch(
      new RegExp(`^🜄 +waiting: commit ${first.commit.slice(0, 12)} api@sha256:`),
    );
    expect(ladder.stdout).toMatch(
      new RegExp(`🜃 staging +kubernetes commit ${first.commit.slice(0, 12)} .*passage holds`),
    );
    expect(ladder.stdout).toMatch(new RegExp(`🜃 +waiting: commit ${second.commit.slice(0, 12)}`));
    expect(ladder.stdout).toMatch(
      new RegExp(`🜁 test +ephemeral +commit ${second.commit.slice(0, 12)}`),
    );
    expect(ladder.stdout).toMatch(/🜂 dev +compose +latest published: commit/);
    expect(ladder.stdout).toMatch(
      /🜄 {3}signals: dashboards https:\/\/grafana\.tiers\.example\/d\/tiers\?var-tier=prod {2}alerts .* https:\/\/alertmanager\.tiers\.example\/#\/alerts\?filter=tier%3Dprod {2}logs /,
    );
    expect(ladder.stdout).toMatch(/🜂 {3}signals: dashboards none {2}alerts none \(not monitored\)/);
    const json = JSON.parse((await cli(root, ["status", "--json"])).stdout) as {
      tiers: { tier: string; observability: { dashboards: string | null } }[];
    };
    expect(json.tiers.find((t) => t.tier === "prod")?.observability.dashboards).toBe(
      "https://grafana.tiers.example/d/tiers?var-tier=prod",
    );

    // A rejected pin no longer holds its passage in the ladder.
    await reject({ root, digest: first.images.api!.digest, reason: "bad", env: cleanEnv() });
    const after = await cli(root, ["status"]);
    expect(after.stdout).toMatch(/🜃 staging .*passage DOES NOT HOLD/);
    expect(after.stderr).toMatch(/🜃 warning: api: pinned digest is REJECTED \(bad/);
  });

  it("deletes every tag it pushed from the registry, and nothing else", async () => {
    expect(pushedCount()).toBeGreaterThan(0);
    const { report, left } = await removePushedImages();
    expect(left).toEqual([]);
    // Every image here has its own digest (a nonce label), so none is shared with other tags.
    expect(report.kept).toEqual([]);
  });
});
