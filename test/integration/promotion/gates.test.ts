/**
 * The promotion gates, scenario by scenario, on real git repositories and the real local
 * registry (127.0.0.1:5000): every refusal changes nothing and says which gate failed and why.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import {
  approve,
  recordTestReport,
  reject,
} from "../../../pipelines/src/engines/host/promotion/records.ts";
import type { PromotionRequest } from "../../../pipelines/src/engines/host/promotion/request.ts";
import { CosignEvidence } from "../../../pipelines/src/engines/host/signing.ts";
import { cosignStatus, generateKeys } from "../../support/cosign.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { listTags } from "../../support/registry.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  ensureBusybox,
  git,
  makeRepo,
  namespace,
  overlayDigests,
  protectFrom,
  publishArtefact,
  pushedCount,
  pushImage,
  type Repo,
  registryHost,
  removePushedImages,
  removeTestImages,
  standin,
  writeArtefacts,
} from "./support.ts";

let good: ArtefactRecord;
let devBuild: ArtefactRecord;
const repos: Repo[] = [];
let keys: string;

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  good = publishArtefact();
  devBuild = publishArtefact({ dev: true });
  keys = await mkdtemp(join(tmpdir(), "tiers-keys-"));
});

afterAll(async () => {
  for (const r of repos) await r.remove();
  if (keys) await rm(keys, { recursive: true, force: true });
  removeTestImages();
  await removePushedImages();
});

async function repo(tweak?: (root: string) => Promise<void>): Promise<string> {
  const r = await makeRepo(tweak);
  repos.push(r);
  await writeArtefacts(r.root, good, devBuild);
  return r.root;
}

/** Records passing tests for a commit and promotes it into the test tier (local evidence). */
async function passTest(
  root: string,
  record: ArtefactRecord,
  env = cleanEnv(),
  evidence = "local",
) {
  await recordTestReport({
    root,
    commit: record.commit,
    passed: true,
    summary: "api 12 passed, worker 7 passed",
    env,
  });
  return promote({ root, tier: "test", commit: record.commit, evidence, deploy: "skip", env });
}

function failing(plan: { gates: Array<{ gate: string; ok: boolean; why: string }> }) {
  return plan.gates.filter((g) => !g.ok).map((g) => `${g.gate}: ${g.why}`);
}

async function expectRefused(request: PromotionRequest, gate: string, why: RegExp) {
  const head = git(request.root, "rev-parse", "HEAD");
  const before = await overlayDigests(request.root, request.tier);
  const ctx = await computePlan(request);
  expect(ctx.plan.ok).toBe(false);
  expect(failing(ctx.plan).join("\n")).toMatch(new RegExp(`${gate}: .*${why.source}`));
  await expect(promote({ ...request, deploy: "skip" })).rejects.toThrow(
    new RegExp(`${gate}.*${why.source}`),
  );
  // Refused means untouched: same HEAD, same pins, clean tree.
  expect(git(request.root, "rev-parse", "HEAD")).toBe(head);
  expect(await overlayDigests(request.root, request.tier)).toEqual(before);
  expect(git(request.root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");
}

describe("promotion gates (real git repositories, real registry)", () => {
  it("a digest that passed test and whose tests passed may enter staging (the baseline)", async () => {
    const root = await repo();
    await passTest(root, good);
    const ctx = await computePlan({ root, tier: "staging", commit: good.commit, env: cleanEnv() });
    expect(failing(ctx.plan)).toEqual([]);
    expect(ctx.plan.changes.map((c) => [c.service, c.from, c.to])).toEqual([
      ["api", null, good.images.api!.digest],
      ["worker", null, good.images.worker!.digest],
    ]);
  });

  it("skipping a tier: prod refuses a digest that never passed staging", async () => {
    const root = await repo();
    await passTest(root, good);
    await expectRefused(
      { root, tier: "prod", commit: good.commit, env: cleanEnv() },
      "passage",
      /has not passed staging: no passage record releases\/passages\/staging\//,
    );
  });

  it("a digest whose tests have no passing report is refused", async () => {
    const root = await repo();
    await promote({
      root,
      tier: "test",
      commit: good.commit,
      evidence: "local",
      deploy: "skip",
      env: cleanEnv(),
    }).catch((e) => e);
    await expectRefused(
      { root, tier: "test", commit: good.commit, env: cleanEnv() },
      "tests-passed",
      /no test report releases\/tests\//,
    );
    await recordTestReport({
      root,
      commit: good.commit,
      passed: false,
      summary: "api 1 failed",
      env: cleanEnv(),
    });
    await expectRefused(
      { root, tier: "test", commit: good.commit, env: cleanEnv() },
      "tests-passed",
      /tests FAILED: api 1 failed/,
    );
  });

  it("tiers record-tests turns the test tier's local report into the git record the gate reads (real CLI)", async () => {
    const root = await repo();
    const reports = join(root, ".tiers", "reports");
    await import("node:fs/promises").then((fs) => fs.mkdir(reports, { recursive: true }));
    await writeFile(
      join(reports, "test-run1.json"),
      JSON.stringify({
        id: "run1",
        commit: good.commit,
        outcome: "passed",
        services: [{ service: "api", outcome: "passed" }],
      }),
    );
    const run = await runTiers(root, ["record-tests"], { env: cleanEnv() });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      new RegExp(
        `🜁 recorded: tests passed for ${good.commit.slice(0, 12)} — api passed \\(run run1\\)`,
      ),
    );
    expect(git(root, "show", `HEAD:releases/tests/${good.commit}.yaml`)).toMatch(/passed: true/);
    const ctx = await computePlan({ root, tier: "test", commit: good.commit, env: cleanEnv() });
    expect(failing(ctx.plan)).toEqual([]);
  });

  it("a dev-labelled image is refused by staging even after passing test", async () => {
    const root = await repo();
    await passTest(root, devBuild);
    await expectRefused(
      { root, tier: "staging", commit: devBuild.commit, env: cleanEnv() },
      "no-dev-image",
      /labelled tiers.environment=dev/,
    );
  });

  it("a mutable tag is refused: only digests are promoted", async () => {
    const root = await repo();
    await passTest(root, good);
    const tagged = pushImage({ service: "api", commit: good.commit, tag: "candidate" });
    await expectRefused(
      {
        root,
        tier: "staging",
        image: `${tagged.repository}:candidate`,
        service: "api",
        env: cleanEnv(),
      },
      "immutable-reference",
      /is a mutable tag/,
    );
  });

  it("a digest whose tag was re-pushed after publishing is refused (digest changed)", async () => {
    const root = await repo();
    const moved = publishArtefact();
    await writeArtefacts(root, moved);
    await passTest(root, moved);
    // Someone pushes a different image under the immutable commit tag.
    pushImage({ service: "api", commit: moved.commit });
    await expectRefused(
      { root, tier: "staging", commit: moved.commit, env: cleanEnv() },
      "registry-digest",
      /digest changed: tag/,
    );
  });

  it("a rejected digest is refused by every gate, with the reason", async () => {
    const root = await repo();
    await passTest(root, good);
    const rejected = await reject({
      root,
      digest: good.images.api!.digest,
      reason: "leaks memory (INC-42)",
      env: cleanEnv(),
    });
    expect(rejected.changed).toBe(true);
    expect(git(root, "log", "-1", "--format=%s")).toMatch(/^reject sha256:.*leaks memory/);
    await expectRefused(
      { root, tier: "staging", commit: good.commit, env: cleanEnv() },
      "not-rejected",
      /leaks memory \(INC-42\)/,
    );
    // Rejecting again changes nothing.
    const head = git(root, "rev-parse", "HEAD");
    expect(
      (await reject({ root, digest: good.images.api!.digest, reason: "again", env: cleanEnv() }))
        .changed,
    ).toBe(false);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
  });

  it("missing approval (source: record) is refused until enough distinct approvers recorded it", async () => {
    const root = await repo((r) =>
      protectFrom(r, "staging", ["approvals"], { required: 2, source: "record" }),
    );
    await passTest(root, good);
    await expectRefused(
      { root, tier: "staging", commit: good.commit, env: cleanEnv() },
      "approvals",
      /missing approvals/,
    );
    for (const digest of [good.images.api!.digest, good.images.worker!.digest]) {
      await approve({ root, tier: "staging", digest, env: cleanEnv({ TIERS_ACTOR: "ada" }) });
      // The same person approving twice does not count twice.
      expect(
        (await approve({ root, tier: "staging", digest, env: cleanEnv({ TIERS_ACTOR: "ada" }) }))
          .changed,
      ).toBe(false);
    }
    await expectRefused(
      { root, tier: "staging", commit: good.commit, env: cleanEnv() },
      "approvals",
      /has 1\/2/,
    );
    for (const digest of [good.images.api!.digest, good.images.worker!.digest]) {
      await approve({ root, tier: "staging", digest, env: cleanEnv({ TIERS_ACTOR: "grace" }) });
    }
    const ctx = await computePlan({ root, tier: "staging", commit: good.commit, env: cleanEnv() });
    expect(failing(ctx.plan)).toEqual([]);
  });

  it("missing approval (source: ci-environment) passes only inside the protected CI environment of that tier", async () => {
    const root = await repo((r) =>
      protectFrom(r, "staging", ["approvals"], { required: 1, source: "ci-environment" }),
    );
    await passTest(root, good);
    await expectRefused(
      { root, tier: "staging", commit: good.commit, env: cleanEnv() },
      "approvals",
      /not running in it/,
    );
    await expectRefused(
      {
        root,
        tier: "staging",
        commit: good.commit,
        env: cleanEnv({ GITLAB_CI: "true", CI_ENVIRONMENT_NAME: "prod" }),
      },
      "approvals",
      /CI environment is "prod", not "staging"/,
    );
    const ctx = await computePlan({
      root,
      tier: "staging",
      commit: good.commit,
      env: cleanEnv({ GITLAB_CI: "true", CI_ENVIRONMENT_NAME: "staging" }),
    });
    expect(failing(ctx.plan)).toEqual([]);
  });

  it("an uncommitted passage record opens no gate: records count only once in git", async () => {
    const root = await repo();
    await recordTestReport({
      root,
      commit: good.commit,
      passed: true,
      summary: "ok",
      env: cleanEnv(),
    });
    // Forge test passages in the working tree without committing them.
    const ctxTest = await computePlan({
      root,
      tier: "test",
      commit: good.commit,
      evidence: "local",
      env: cleanEnv(),
    });
    expect(ctxTest.plan.ok).toBe(true);
    const dir = join(root, "releases", "passages", "test");
    await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
    for (const image of Object.values(good.images)) {
      await writeFile(join(dir, `${image.digest.replace(":", "-")}.yaml`), "kind: passage\n");
    }
    const ctx = await computePlan({ root, tier: "staging", commit: good.commit, env: cleanEnv() });
    expect(failing(ctx.plan).join("\n")).toMatch(/passage: has not passed test: no passage record/);
  });
});

describe("signature gate (real cosign, key mode, local registry, no transparency log)", () => {
  const password = "gate-key-password";
  let staging: { key: string; pub: string };
  let rogue: { key: string; pub: string };
  const cosignHere = cosignStatus();

  beforeAll(async () => {
    if (!cosignHere.ok) return;
    staging = await generateKeys(keys, "staging", password);
    rogue = await generateKeys(keys, "rogue", password);
  });

  const signingRepo = () =>
    repo((r) =>
      protectFrom(r, "staging", ["signing"], {
        required: true,
        mode: "key",
        key: `file:${staging.key}`,
      }),
    );
  /** Real cosign from PATH, the key's password in COSIGN_PASSWORD, Rekor off (loopback only). */
  const envWith = (extra: NodeJS.ProcessEnv = {}) =>
    cleanEnv({ COSIGN_PASSWORD: password, TIERS_COSIGN_TLOG: "false", ...extra });
  /**
   * A fresh artefact for each scenario: signatures are real registry artefacts attached to a
   * digest, so scenarios sharing a digest would see each other's signatures.
   */
  async function fresh(root: string): Promise<ArtefactRecord> {
    const record = publishArtefact();
    await writeArtefacts(root, record);
    return record;
  }

  it("finds the cosign scripts/provision.sh installs", () => {
    expect(cosignHere.ok, cosignHere.ok ? "" : cosignHere.why).toBe(true);
  });

  it("a test passage signed by the staging policy's key lets the digest into staging", async () => {
    const root = await signingRepo();
    const env = envWith();
    const record = await fresh(root);
    const passed = await passTest(root, record, env, "cosign");
    expect(passed.changed).toBe(true);
    const passage = git(
      root,
      "show",
      `HEAD:releases/passages/test/${record.images.api!.digest.replace(":", "-")}.yaml`,
    );
    expect(passage).toMatch(/verifier: cosign/);
    expect(passage).toMatch(/signature: .*tiers-promotion-test\/api:sha256-[0-9a-f]{64}\.sig/);
    expect(passage).toMatch(/tiers\.tier: test/);
    // cosign really attached the signature where the record says.
    const sigTag = `${record.images.api!.digest.replace(":", "-")}.sig`;
    expect(await listTags(registryHost, `${namespace}/api`)).toContain(sigTag);
    const ctx = await computePlan({ root, tier: "staging", commit: record.commit, env });
    expect(ctx.plan.evidence).toBe("cosign");
    expect(failing(ctx.plan)).toEqual([]);
    expect(ctx.plan.gates.find((g) => g.gate === "signature")?.why).toMatch(
      /annotated test verifies/,
    );
  });

  it("unsigned: a passage recorded without a signature is refused where the policy requires one", async () => {
    const root = await signingRepo();
    const env = envWith();
    const record = await fresh(root);
    await passTest(root, record, env, "local");
    await expectRefused(
      { root, tier: "staging", commit: record.commit, env },
      "signature",
      /is unsigned \(cosign: no signatures found\)/,
    );
  });

  it("wrong signer: a passage signed by another key is refused", async () => {
    const root = await signingRepo();
    const env = envWith();
    const record = await fresh(root);
    await passTest(root, record, { ...env, TIERS_COSIGN_KEY: rogue.key }, "cosign");
    await expectRefused(
      { root, tier: "staging", commit: record.commit, env },
      "signature",
      /wrong signer: .* is signed, but not by key:file:/,
    );
  });

  it("wrong tier: signed by the policy's key, but annotated for another tier", async () => {
    const root = await signingRepo();
    const env = envWith();
    const record = await fresh(root);
    await passTest(root, record, env, "local");
    // The right key signs each digest, annotated for prod instead of test.
    const evidence = new CosignEvidence({ root, project: "tiers", env, tlog: false });
    const policy = { required: true, mode: "key", key: `file:${staging.key}` };
    for (const image of Object.values(record.images)) {
      const subject = { tier: "prod", digest: image.digest, repository: image.repository };
      await evidence.sign(subject, policy);
    }
    await expectRefused(
      { root, tier: "staging", commit: record.commit, env },
      "signature",
      /has no signature annotated test/,
    );
  });

  it("tiers verify finds the unsigned passage, tiers sign signs it (only after the passage), then the gate passes (real CLI)", async () => {
    const root = await signingRepo();
    const env = envWith();
    const record = await fresh(root);
    const sel = ["--commit", record.commit];
    const early = await runTiers(root, ["sign", "--env", "test", ...sel], { env });
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /has not passed test: no releases\/passages\/test\/sha256-.* in git/,
    );
    await passTest(root, record, env, "local");
    const unsigned = await runTiers(root, ["verify", "--env", "test", ...sel], { env });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stdout).toMatch(/🜁 ✓ api@sha256:.* passage: releases\/passages\/test\//);
    expect(unsigned.stderr).toMatch(/🜁 ✗ api@sha256:.* signature: .* is unsigned/);
    const signed = await runTiers(root, ["sign", "--env", "test", ...sel], { env });
    expect(signed.stderr).toBe("");
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(
      /🜁 api@sha256:[0-9a-f]{64}: signed → .*\/api:sha256-[0-9a-f]{64}\.sig/,
    );
    expect(git(root, "log", "-1", "--format=%s")).toMatch(/^sign test: api@/);
    const verified = await runTiers(root, ["verify", "--env", "test", ...sel], { env });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /🜁 ✓ worker@sha256:.* signature: signature by key:file:.* annotated test verifies/,
    );
    const ctx = await computePlan({ root, tier: "staging", commit: record.commit, env });
    expect(failing(ctx.plan)).toEqual([]);
  });

  it("missing cosign: without cosign, or with --evidence local, a required signature fails closed", async () => {
    const root = await signingRepo();
    const env = envWith();
    const record = await fresh(root);
    await passTest(root, record, env, "cosign");
    await expectRefused(
      {
        root,
        tier: "staging",
        commit: record.commit,
        env: { ...env, TIERS_COSIGN_BIN: "/nonexistent/cosign" },
      },
      "signature",
      /cosign is not installed here/,
    );
    await expectRefused(
      { root, tier: "staging", commit: record.commit, evidence: "local", env },
      "signature",
      /local evidence verifier cannot check signatures/,
    );
    // And recording the passage itself refuses to go unsigned without an explicit choice.
    const other = await signingRepo();
    await writeArtefacts(other, record);
    await recordTestReport({
      root: other,
      commit: record.commit,
      passed: true,
      summary: "ok",
      env,
    });
    await expect(
      promote({
        root: other,
        tier: "test",
        commit: record.commit,
        deploy: "skip",
        env: { ...env, TIERS_COSIGN_BIN: "/nonexistent/cosign" },
      }),
    ).rejects.toThrow(/cosign is not installed here/);
  });
});

describe("signature gate, keyless (cosign stand-in: Fulcio, Rekor and an OIDC issuer cannot run offline)", () => {
  const identity = {
    subject: "https://github.com/acme/tiers/.github/workflows/release.yml@refs/heads/main",
    issuer: "https://token.actions.githubusercontent.com",
  };
  /** An unsigned JWT carrying the claims Fulcio would certify (the stand-in reads them). */
  const token = (sub: string, iss: string) =>
    ["e30", Buffer.from(JSON.stringify({ sub, iss })).toString("base64url"), "sig"].join(".");
  const keylessRepo = () =>
    repo((r) =>
      protectFrom(r, "staging", ["signing"], { required: true, mode: "keyless", identity }),
    );
  const envWith = async (sub: string) =>
    cleanEnv({
      TIERS_COSIGN_BIN: standin,
      TIERS_COSIGN_STANDIN_DIR: await mkdtemp(join(tmpdir(), "tiers-sigs-")),
      SIGSTORE_ID_TOKEN: token(sub, identity.issuer),
    });

  it("stand-in, keyless: a test passage signed by the staging policy's identity lets the digest in", async () => {
    const root = await keylessRepo();
    const env = await envWith(identity.subject);
    await passTest(root, good, env, "cosign");
    const ctx = await computePlan({ root, tier: "staging", commit: good.commit, env });
    expect(failing(ctx.plan)).toEqual([]);
    expect(ctx.plan.gates.find((g) => g.gate === "signature")?.why).toMatch(
      /signature by identity:https:\/\/github.com\/acme\/.* annotated test verifies/,
    );
  });

  it("stand-in, keyless: a passage signed by another workflow's identity is refused", async () => {
    const root = await keylessRepo();
    const env = await envWith(
      "https://github.com/acme/tiers/.github/workflows/other.yml@refs/heads/x",
    );
    await passTest(root, good, env, "cosign");
    await expectRefused(
      { root, tier: "staging", commit: good.commit, env },
      "signature",
      /wrong signer: .* is signed, but not by identity:/,
    );
  });
});

describe("registry cleanup", () => {
  it("deletes every tag it pushed from the registry, signatures included, and nothing else", async () => {
    expect(pushedCount()).toBeGreaterThan(0);
    const { report, left } = await removePushedImages();
    expect(left).toEqual([]);
    // Every image here has its own digest (a nonce label), so none is shared with other tags.
    expect(report.kept).toEqual([]);
  });
});
