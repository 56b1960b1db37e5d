/**
 * `tiers deploy --env <tier>` through a freeze (issue 16) on a real git repository and the real
 * local registry, through the CLI with the real clock: refused inside a deny window, let through
 * when every pinned digest carries a window override someone else recorded, and said so. There
 * is no cluster here, so a deploy that gets past the window stops at the missing kubeconfig.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { recordOverride } from "../../../pipelines/src/engines/host/promotion/overrides.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  configure,
  ensureBusybox,
  freezeFromToday,
  git,
  makeRepo,
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

/** staging frozen from today, the good artefact pinned there yesterday (before the freeze). */
async function frozenStaging(): Promise<string> {
  const r = await makeRepo(async (root) => {
    await configure(root, "staging.yaml", ["promotion", "overrides"], ["window"]);
    await configure(root, "staging.yaml", ["windows"], [freezeFromToday().entry]);
  });
  repos.push(r);
  await writeArtefacts(r.root, good);
  const env = cleanEnv();
  const yesterday = () => new Date(Date.now() - 86_400_000);
  await recordTestReport({ root: r.root, commit: good.commit, passed: true, summary: "ok", env });
  for (const tier of ["test", "staging"]) {
    await promote({
      root: r.root,
      tier,
      commit: good.commit,
      evidence: "local",
      deploy: "skip",
      env,
      now: yesterday,
    });
  }
  return r.root;
}

async function override(root: string, digests: string[], actor: string) {
  for (const digest of digests) {
    await recordOverride({
      root,
      tier: "staging",
      digest,
      gate: "window",
      reason: "INC-11 checkout down",
      env: cleanEnv({ TIERS_ACTOR: actor }),
    });
  }
}

const deploy = (root: string, actor: string) =>
  runTiers(root, ["deploy", "--env", "staging"], { env: cleanEnv({ TIERS_ACTOR: actor }) });

const digests = () => Object.values(good.images).map((i) => i.digest);

describe("tiers deploy outside a window (CLI, real clock, real git and registry; no cluster here)", () => {
  it("is refused with no override, and with an override for only some pinned digests", async () => {
    const root = await frozenStaging();
    const head = git(root, "rev-parse", "HEAD");
    const none = await deploy(root, "deployer");
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/deploy of staging refused: inside deny "test freeze"/);
    await override(root, [good.images.api!.digest], "oncall");
    const partly = await deploy(root, "deployer");
    expect(partly.code).not.toBe(0);
    expect(partly.stderr).toMatch(/deploy of staging refused: inside deny "test freeze"/);
    expect(git(root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");
    expect(git(root, "rev-list", "--count", `${head}..HEAD`)).toBe("1"); // the override only
  });

  it("goes through when every pinned digest has a window override recorded by someone else, and says so", async () => {
    const root = await frozenStaging();
    await override(root, digests(), "oncall");
    const run = await deploy(root, "deployer");
    const out = `${run.stdout}\n${run.stderr}`;
    expect(out).toMatch(
      /outside its windows \(inside deny "test freeze".*\), deployed by the recorded window override of oncall at .*: INC-11 checkout down \(2 pinned digest\(s\), releases\/overrides\/staging\/sha256-/,
    );
    // Past the window it stops where this machine stops: there is no kubeconfig.
    expect(run.code).not.toBe(0);
    expect(out).not.toMatch(/deploy of staging refused: inside deny/);
    expect(out).toMatch(/kubeconfig/i);
  });

  it("an override recorded by whoever runs the deploy does not count (separation of duties)", async () => {
    const root = await frozenStaging();
    await override(root, digests(), "oncall");
    const run = await deploy(root, "oncall");
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(
      /deploy of staging refused: inside deny "test freeze".*an override by oncall is recorded but does not count: oncall runs this promotion and cannot waive its own gate/,
    );
  });

  it("an override record that cannot be read refuses the deploy, naming the file", async () => {
    const root = await frozenStaging();
    await override(root, digests(), "oncall");
    const file = `releases/overrides/staging/${good.images.api!.digest.replace(":", "-")}.yaml`;
    const path = join(root, file);
    await writeFile(path, (await readFile(path, "utf8")).replace("gate: window", "gate: weather"));
    git(root, "commit", "-qam", "hand edit");
    const run = await deploy(root, "deployer");
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(
      /deploy of staging refused: outside its windows, and the window override of sha256:\S+ cannot be read/,
    );
    expect(run.stderr).toContain(file);
  });
});
