/**
 * One commit promoted dev → test → staging → prod in a scratch repository, with key-based
 * signing policies and the real cosign (key mode, local registry, no transparency log): each
 * passage is signed by the key of the tier that checks it (the last tier by its own), each
 * gate verifies that signature with cosign, and before each deploy `tiers verify` re-checks
 * the tier's passages and `tiers deploy --dry-run` renders what would be applied (there is no
 * cluster here). The tier model is its own fixture, test/fixtures/promotion-chain/.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { cosignStatus, generateKeys } from "../../support/cosign.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { listTags } from "../../support/registry.ts";
import { repoRoot, runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  commitInitial,
  ensureBusybox,
  git,
  namespace,
  overlayDigests,
  publishArtefact,
  type Repo,
  registryHost,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

const fixture = join(repoRoot, "test", "fixtures", "promotion-chain");
const password = "chain-key-password";
const status = cosignStatus();
let keys: string;
let repo: Repo | undefined;

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  keys = await mkdtemp(join(tmpdir(), "tiers-chain-keys-"));
  if (!status.ok) return;
  for (const tier of ["staging", "prod"]) await generateKeys(keys, tier, password);
});

afterAll(async () => {
  if (repo) await repo.remove();
  if (keys) await rm(keys, { recursive: true, force: true });
  removeTestImages();
  const { left } = await removePushedImages();
  if (left.length) throw new Error(`registry tags left behind: ${left.join(", ")}`);
});

/** The fixture in a temp dir, its key paths pointing at this run's keys, committed. */
async function scratchRepository(): Promise<Repo> {
  const root = await mkdtemp(join(tmpdir(), "tiers-chain-"));
  await cp(fixture, root, { recursive: true });
  for (const tier of ["staging", "prod"]) {
    const file = join(root, "environments", `${tier}.yaml`);
    await writeFile(file, (await readFile(file, "utf8")).replace("file:KEYS/", `file:${keys}/`));
  }
  return commitInitial(root);
}

describe("a commit promoted dev → test → staging → prod with real cosign signatures at every passage", () => {
  it("finds the cosign scripts/provision.sh installs", () => {
    expect(status.ok, status.ok ? "" : status.why).toBe(true);
  });

  it("signs each passage, verifies each signature before the next tier and before deploy", async () => {
    repo = await scratchRepository();
    const { root } = repo;
    const signEnv = cleanEnv({ COSIGN_PASSWORD: password, TIERS_COSIGN_TLOG: "false" });
    const env = signEnv;
    // dev: the commit is built and published (its artefact record names the digests).
    const record = publishArtefact();
    await writeArtefacts(root, record);
    await recordTestReport({ root, commit: record.commit, passed: true, summary: "ok", env });
    const signer = { test: "staging", staging: "prod", prod: "prod" } as const;

    for (const tier of ["test", "staging", "prod"] as const) {
      // prod's approval is its protected CI environment (approvals.source: ci-environment).
      const env =
        tier === "prod"
          ? { ...signEnv, GITHUB_ACTIONS: "true", GITHUB_ENVIRONMENT: "prod" }
          : signEnv;
      const ctx = await computePlan({ root, tier, commit: record.commit, env });
      expect(ctx.plan.gates.filter((g) => !g.ok)).toEqual([]);
      if (tier !== "test") {
        // The gate verified the previous passage's signature with cosign.
        expect(ctx.plan.gates.find((g) => g.gate === "signature")?.why).toMatch(
          new RegExp(`signature by key:file:${keys}/${tier}/cosign.key annotated`),
        );
      }
      const done = await promote({ root, tier, commit: record.commit, deploy: "skip", env });
      expect(done.changed).toBe(true);
      for (const [service, image] of Object.entries(record.images)) {
        const passage = git(
          root,
          "show",
          `HEAD:releases/passages/${tier}/${image.digest.replace(":", "-")}.yaml`,
        );
        expect(passage).toMatch(/verifier: cosign/);
        expect(passage).toContain(`signer: key:file:${keys}/${signer[tier]}/cosign.key`);
        expect(passage).toMatch(new RegExp(`tiers\\.tier: ${tier}`));
        expect(await listTags(registryHost, `${namespace}/${service}`)).toContain(
          `${image.digest.replace(":", "-")}.sig`,
        );
      }
      // Before deploy: the tier's passages verify with cosign, then the deploy renders.
      const verified = await runTiers(root, ["verify", "--env", tier, "--commit", record.commit], {
        env,
      });
      expect(verified.stderr).toBe("");
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(new RegExp(`signature: .* annotated ${tier} verifies`));
      if (tier !== "test") {
        expect(await overlayDigests(root, tier)).toEqual(
          Object.values(record.images).map((i) => i.digest),
        );
        const dry = await runTiers(root, ["deploy", "--env", tier, "--dry-run"], { env });
        expect(dry.code, dry.stderr).toBe(0);
      }
    }
  });
});
