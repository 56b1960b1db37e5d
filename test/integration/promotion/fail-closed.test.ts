/**
 * Issue 10, reproduced on real git repositories, the real local registry and (for signatures)
 * the real cosign in key mode: a record that cannot be read fails its gate or command naming
 * the file and why, never reads as absent; `tiers deploy` (dry run included) refuses a pin
 * with no passage into the tier, a rejected pin or one whose signature does not verify; and
 * automatic rollback restores only pins that hold.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { readPins, setPins } from "../../../pipelines/src/core/promotion/overlay.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport, reject } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { rollback } from "../../../pipelines/src/engines/host/promotion/rollback.ts";
import { tierStatus } from "../../../pipelines/src/engines/host/promotion/status.ts";
import { cosignStatus, generateKeys } from "../../support/cosign.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { runTiers } from "../../support/repo.ts";
import {
  cleanEnv,
  ensureBusybox,
  git,
  makeRepo,
  overlayDigests,
  protectFrom,
  publishArtefact,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

let first: ArtefactRecord;
let second: ArtefactRecord;
const repos: Repo[] = [];
let keys: string;

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  first = publishArtefact();
  second = publishArtefact();
  keys = await mkdtemp(join(tmpdir(), "tiers-fail-closed-keys-"));
});

afterAll(async () => {
  for (const r of repos) await r.remove();
  if (keys) await rm(keys, { recursive: true, force: true });
  removeTestImages();
  await removePushedImages();
});

/** Records passing tests for each artefact and promotes it into test (local evidence). */
async function passTest(
  root: string,
  records: ArtefactRecord[],
  env = cleanEnv(),
  evidence = "local",
) {
  for (const record of records) {
    await recordTestReport({ root, commit: record.commit, passed: true, summary: "ok", env });
    await promote({ root, tier: "test", commit: record.commit, evidence, deploy: "skip", env });
  }
}

/** A repository where `first` passed test and entered staging. */
async function stagedRepo(tweak?: (root: string) => Promise<void>): Promise<string> {
  const r = await makeRepo(tweak);
  repos.push(r);
  await writeArtefacts(r.root, first, second);
  await passTest(r.root, [first, second]);
  await promote({
    root: r.root,
    tier: "staging",
    commit: first.commit,
    deploy: "skip",
    env: cleanEnv(),
  });
  return r.root;
}

/** Commits a file as a person would, by hand (not through tiers). */
async function commitFile(root: string, path: string, text: string): Promise<void> {
  await mkdir(join(root, path, ".."), { recursive: true });
  await writeFile(join(root, path), text);
  git(root, "add", path);
  git(root, "commit", "-q", "-m", `hand edit: ${path}`);
}

const rejectionFile = (digest: string) => `releases/rejections/${digest.replace(":", "-")}.yaml`;
const brokenRejections = [
  ["invalid YAML", "kind: rejection\n  digest: [unclosed\n", /not valid YAML/],
  ["only rejected_by", "rejected_by: mallory\n", /malformed: .*kind/],
] as const;

describe("an unreadable rejection record fails closed (issue 10)", () => {
  for (const [name, text, why] of brokenRejections) {
    it(`${name}: tiers plan --env prod fails not-rejected naming the file, never "ready"`, async () => {
      const root = await stagedRepo();
      const digest = first.images.api!.digest;
      await commitFile(root, rejectionFile(digest), text);
      const head = git(root, "rev-parse", "HEAD");
      const run = await runTiers(root, ["plan", "--env", "prod"], { env: cleanEnv() });
      expect(run.code).toBe(1);
      const out = `${run.stdout}\n${run.stderr}`;
      expect(out).not.toMatch(/✓ not-rejected \[api\]/);
      expect(out).not.toMatch(/\bready\b/);
      expect(out).toMatch(
        new RegExp(
          `✗ not-rejected \\[api\\].*cannot be read.*${rejectionFile(digest).replace(/[.]/g, "\\.")}`,
        ),
      );
      expect(out).toMatch(why);
      // The worker's digest has no rejection file: its gate still passes.
      expect(out).toMatch(/✓ not-rejected \[worker\]: no rejection recorded/);
      await expect(
        promote({ root, tier: "prod", deploy: "skip", env: cleanEnv() }),
      ).rejects.toThrow(/not-rejected \[api\]: rejection record cannot be read/);
      expect(git(root, "rev-parse", "HEAD")).toBe(head);
    });
  }

  it("the YAML error is located at file:line:col", async () => {
    const root = await stagedRepo();
    const digest = first.images.api!.digest;
    await commitFile(root, rejectionFile(digest), brokenRejections[0][1]);
    const ctx = await computePlan({ root, tier: "prod", env: cleanEnv() });
    const gate = ctx.plan.gates.find((g) => g.gate === "not-rejected" && g.service === "api");
    expect(gate?.ok).toBe(false);
    expect(gate?.why).toMatch(
      /sha256-[0-9a-f]{64}\.yaml \(at [^)]+\):\d+:\d+: record is not valid YAML/,
    );
  });

  it("status counts the pin as rejected, naming the file", async () => {
    const root = await stagedRepo();
    const digest = first.images.api!.digest;
    await commitFile(root, rejectionFile(digest), "rejected_by: mallory\n");
    const status = await tierStatus({ root, tier: "staging", env: cleanEnv() });
    const api = status.pins.find((p) => p.service === "api");
    expect(api?.rejected).toMatch(/rejection record cannot be read.*sha256-.*\.yaml.*malformed/);
  });

  it("rollback refuses a target whose rejection record cannot be read, and changes nothing", async () => {
    const root = await stagedRepo();
    await promote({
      root,
      tier: "staging",
      commit: second.commit,
      deploy: "skip",
      env: cleanEnv(),
    });
    await commitFile(root, rejectionFile(first.images.worker!.digest), "kind: rejection\n");
    const head = git(root, "rev-parse", "HEAD");
    await expect(
      rollback({ root, tier: "staging", deploy: "skip", env: cleanEnv() }),
    ).rejects.toThrow(
      /refusing to roll staging back to sha256:.*: its rejection record cannot be read/,
    );
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(await overlayDigests(root, "staging")).toEqual([
      second.images.api!.digest,
      second.images.worker!.digest,
    ]);
  });

  it("an unreadable approval record fails the approvals gate, naming the file", async () => {
    const root = await stagedRepo((r) =>
      protectFrom(r, "prod", ["approvals"], { required: 1, source: "record" }),
    );
    const digest = first.images.api!.digest;
    await commitFile(
      root,
      `releases/approvals/prod/${digest.replace(":", "-")}.yaml`,
      "approvals: [\n",
    );
    const ctx = await computePlan({ root, tier: "prod", env: cleanEnv() });
    const gate = ctx.plan.gates.find((g) => g.gate === "approvals");
    expect(gate?.ok).toBe(false);
    expect(gate?.why).toMatch(
      /approval record\(s\) cannot be read.*approvals\/prod\/sha256-.*not valid YAML/,
    );
  });
});

/** Pins every image of a tier's overlay to `digests` (by service order), by hand, and commits. */
async function pinByHand(root: string, tier: string, digests: string[]): Promise<void> {
  const path = `k8s/overlays/${tier}/kustomization.yaml`;
  const text = await readFile(join(root, path), "utf8");
  const pins = readPins(text, path);
  await commitFile(
    root,
    path,
    setPins(
      text,
      pins.map((p, i) => ({ index: p.index, digest: digests[i]! })),
      path,
    ),
  );
}

describe("tiers deploy verifies every pin before it deploys, dry run included (issue 10)", () => {
  it("a promoted tier's dry run passes, saying its pins hold", async () => {
    const root = await stagedRepo();
    const run = await runTiers(root, ["deploy", "--env", "staging", "--dry-run"], {
      env: cleanEnv(),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/2 pin\(s\) hold: passage into staging recorded, not rejected/);
    expect(run.stdout).toContain("dry run: overlay renders and passes every check");
  });

  it("a prod pin edited by hand to a digest with no prod passage is refused, naming pin, digest and overlay", async () => {
    const root = await stagedRepo();
    await pinByHand(root, "prod", [first.images.api!.digest, first.images.worker!.digest]);
    const before = await overlayDigests(root, "prod");
    const run = await runTiers(root, ["deploy", "--env", "prod", "--dry-run"], { env: cleanEnv() });
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain("passes every check");
    expect(run.stderr).toMatch(
      /deploy of prod refused: 2 pin\(s\) do not hold; nothing was applied/,
    );
    expect(run.stderr).toContain(
      `api ${first.images.api!.digest} (k8s/overlays/prod/kustomization.yaml): no passage into prod holds: no passage record releases/passages/prod/`,
    );
    expect(await overlayDigests(root, "prod")).toEqual(before);
  });

  it("a rejected pin is refused even though its passage is recorded", async () => {
    const root = await stagedRepo();
    await reject({
      root,
      digest: first.images.worker!.digest,
      reason: "corrupts jobs",
      env: cleanEnv(),
    });
    const run = await runTiers(root, ["deploy", "--env", "staging", "--dry-run"], {
      env: cleanEnv(),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /worker sha256:[0-9a-f]{64} \(k8s\/overlays\/staging\/kustomization\.yaml\): rejected by .*corrupts jobs/,
    );
  });

  it("an uncommitted passage opens nothing: records are read from HEAD", async () => {
    const root = await stagedRepo();
    const path = `k8s/overlays/prod/kustomization.yaml`;
    const text = await readFile(join(root, path), "utf8");
    const pins = readPins(text, path);
    await writeFile(
      join(root, path),
      setPins(
        text,
        pins.map((p, i) => ({
          index: p.index,
          digest: [first.images.api!.digest, first.images.worker!.digest][i]!,
        })),
        path,
      ),
    );
    // A passage file for prod copied in the working tree, never committed.
    for (const service of ["api", "worker"] as const) {
      const digest = first.images[service]!.digest;
      const staged = await readFile(
        join(root, `releases/passages/staging/${digest.replace(":", "-")}.yaml`),
        "utf8",
      );
      await mkdir(join(root, "releases/passages/prod"), { recursive: true });
      await writeFile(
        join(root, `releases/passages/prod/${digest.replace(":", "-")}.yaml`),
        staged.replace("tier: staging", "tier: prod"),
      );
    }
    const run = await runTiers(root, ["deploy", "--env", "prod", "--dry-run"], { env: cleanEnv() });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no passage record releases\/passages\/prod\/.* in git \(HEAD\)/);
  });
});

describe("automatic rollback restores only pins that hold (issue 10)", () => {
  it("a failed deploy whose earlier pins were rejected since is not rolled back to them", async () => {
    const root = await stagedRepo();
    for (const service of ["api", "worker"] as const) {
      await reject({
        root,
        digest: first.images[service]!.digest,
        reason: "bad build",
        env: cleanEnv(),
      });
    }
    // The rejection is of staging's current pins; promote the second artefact, whose deploy fails.
    const promoting = promote({
      root,
      tier: "staging",
      commit: second.commit,
      deploy: "auto",
      env: cleanEnv(),
      deployer: async () => ({ outcome: "failed", detail: "smoke check /readyz returned 503" }),
    });
    await expect(promoting).rejects.toThrow(
      /automatic rollback was refused: no earlier pin holds[\s\S]*api sha256:.*rejected by .*bad build/,
    );
    // The new pins stay (the promotion commit is the last one); nothing rolled back to a rejected digest.
    expect(git(root, "log", "-1", "--format=%s")).toMatch(/^promote staging: /);
    expect(await overlayDigests(root, "staging")).toEqual([
      second.images.api!.digest,
      second.images.worker!.digest,
    ]);
  });

  it("restores the pins that hold and keeps the one that does not, saying so", async () => {
    const root = await stagedRepo();
    await reject({
      root,
      digest: first.images.worker!.digest,
      reason: "bad worker",
      env: cleanEnv(),
    });
    await expect(
      promote({
        root,
        tier: "staging",
        commit: second.commit,
        deploy: "auto",
        env: cleanEnv(),
        deployer: async () => ({ outcome: "failed", detail: "rollout timed out" }),
      }),
    ).rejects.toThrow(
      /failed and was rolled back: rollout timed out; kept \(no earlier pin holds\): worker/,
    );
    expect(await overlayDigests(root, "staging")).toEqual([
      first.images.api!.digest,
      second.images.worker!.digest,
    ]);
    // Only the restored service's new passage is withdrawn.
    const passages = git(root, "ls-tree", "-r", "--name-only", "HEAD", "releases/passages/staging");
    expect(passages).toContain(second.images.worker!.digest.replace(":", "-"));
    expect(passages).not.toContain(second.images.api!.digest.replace(":", "-"));
  });
});

describe("deploy verifies signatures where the tier's policy requires them (real cosign, key mode, no transparency log)", () => {
  const password = "fail-closed-key-password";
  const cosignHere = cosignStatus();

  it("finds the cosign scripts/provision.sh installs", () => {
    expect(cosignHere.ok, cosignHere.ok ? "" : cosignHere.why).toBe(true);
  });

  it("a signed pin holds; after staging's policy names another key, the same pin is refused", async () => {
    const staging = await generateKeys(keys, "staging", password);
    const rogue = await generateKeys(keys, "rogue", password);
    const env = cleanEnv({ COSIGN_PASSWORD: password, TIERS_COSIGN_TLOG: "false" });
    const r = await makeRepo((root) =>
      protectFrom(root, "staging", ["signing"], {
        required: true,
        mode: "key",
        key: `file:${staging.key}`,
      }),
    );
    repos.push(r);
    const record = publishArtefact();
    await writeArtefacts(r.root, record);
    await passTest(r.root, [record], env, "cosign");
    await promote({ root: r.root, tier: "staging", commit: record.commit, deploy: "skip", env });
    const ok = await runTiers(r.root, ["deploy", "--env", "staging", "--dry-run"], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/2 pin\(s\) hold: .*signature verifies/);

    // The policy now names another signer: the pin's signature no longer verifies against it.
    const file = join(r.root, "environments", "staging.yaml");
    await commitFile(
      r.root,
      "environments/staging.yaml",
      (await readFile(file, "utf8")).replace(`file:${staging.key}`, `file:${rogue.key}`),
    );
    // The admission policy stays as it is: in key mode it reads the public key from the
    // tier's ConfigMap, not from the key file's path (core/manifests/admission.ts).
    const generated = await runTiers(r.root, ["admission", "generate"], { env });
    expect(generated.stdout).toContain("admission policies unchanged");
    const refused = await runTiers(r.root, ["deploy", "--env", "staging", "--dry-run"], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/deploy of staging refused: 2 pin\(s\) do not hold/);
    expect(refused.stderr).toMatch(/api sha256:[0-9a-f]{64} .*signature does not verify/);
  });
});
