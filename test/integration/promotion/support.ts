/**
 * Fixtures for the promotion scenarios: real temp git repositories (a copy of environments/
 * and k8s/), tiny real images in the real local registry (FROM local/busybox, one unique label
 * each so every image has its own digest), and artefact records pointing at them.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import {
  type ArtefactRecord,
  serializeArtefactRecord,
} from "../../../pipelines/src/core/artefact.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport } from "../../../pipelines/src/engines/host/promotion/records.ts";
import { tiers } from "../../support/cli.ts";
import { docker } from "../../support/docker.ts";
import {
  type CleanupReport,
  groupRefs,
  listTags,
  type PushedTags,
  remainingTags,
  removePushedTags,
} from "../../support/registry.ts";
import { repoRoot } from "../../support/repo.ts";

export const registryHost = process.env.TIERS_REGISTRY ?? "127.0.0.1:5000";
/** A namespace of its own, so these images never mix with what `tiers publish` pushes. */
export const namespace = "tiers-promotion-test";
/** Every image these tests build carries this label; afterAll removes them by it. */
export const cleanupLabel = "tiers.test=promotion";
export const standin = join(import.meta.dirname, "fixtures", "cosign-standin.mjs");

export function git(root: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
}

/** The environment the engine runs with: no CI approvals, no ambient evidence choice. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TIERS_ACTOR: "promotion-test",
    KUBECONFIG: "/nonexistent/kubeconfig",
  };
  for (const name of [
    "TIERS_EVIDENCE",
    "GITHUB_ACTIONS",
    "GITHUB_ENVIRONMENT",
    "GITLAB_CI",
    "CI_ENVIRONMENT_NAME",
    "TIERS_COSIGN_KEY",
    "TIERS_COSIGN_PUBLIC_KEY",
    "COSIGN_PASSWORD",
    "SIGSTORE_ID_TOKEN",
    "TIERS_KUBECONFIG",
  ]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

export interface Repo {
  root: string;
  remove(): Promise<void>;
}

/** Edits a tier file in place with the yaml Document API (comments survive); undefined deletes. */
export async function configure(root: string, file: string, path: string[], value: unknown) {
  const abs = join(root, "environments", file);
  const doc = parseDocument(await readFile(abs, "utf8"));
  if (value === undefined) doc.deleteIn(path);
  else doc.setIn(path, value);
  await writeFile(abs, doc.toString());
}

/**
 * A fresh repository: environments/ and k8s/ copied from this project, the registry namespace
 * switched to the test one, staging and prod signing turned off (scenarios that need
 * signatures turn it back on), approvals off. `tweak` runs before the first commit.
 */
export async function makeRepo(tweak?: (root: string) => Promise<void>): Promise<Repo> {
  const root = await mkdtemp(join(tmpdir(), "tiers-promotion-"));
  await cp(join(repoRoot, "environments"), join(root, "environments"), { recursive: true });
  await cp(join(repoRoot, "k8s"), join(root, "k8s"), { recursive: true });
  await configure(root, "base.yaml", ["registry", "namespace"], namespace);
  for (const tier of ["staging", "prod"]) {
    const overlay = join(root, "k8s", "overlays", tier, "kustomization.yaml");
    const text = await readFile(overlay, "utf8");
    await writeFile(
      overlay,
      text.replaceAll(`${registryHost}/tiers/`, `${registryHost}/${namespace}/`),
    );
    await configure(root, `${tier}.yaml`, ["signing"], { required: false, mode: "none" });
    await configure(
      root,
      `${tier}.yaml`,
      ["promotion", "gates"],
      ["passage", "not-rejected", "no-dev-image", "approvals"],
    );
    // Criteria of gates no longer listed would judge nothing (a tier-file error): scenarios
    // that exercise a criterion set it themselves.
    await configure(root, `${tier}.yaml`, ["promotion", "criteria"], undefined);
    await configure(root, `${tier}.yaml`, ["approvals"], { required: 0, source: "none" });
  }
  await addProtectedLastTier(root);
  if (tweak) await tweak(root);
  await followAdmission(root);
  return commitInitial(root);
}

/**
 * Keeps each overlay's admission policy equal to its tier's signing block after the scenario
 * edited it, with the real `tiers admission generate` (policy file and `resources:` entry), so
 * a deploy's drift check judges the pins and not a stale policy.
 */
async function followAdmission(root: string): Promise<void> {
  const generated = await tiers("--root", root, "admission", "generate");
  if (generated.code !== 0) {
    throw new Error(`tiers admission generate failed in ${root}:\n${generated.stderr}`);
  }
}

/** The fixture chain above test, in promotion order (makeRepo's tiers plus addProtectedLastTier's). */
const protectedChain = ["staging", "prod", "vault"] as const;

/**
 * Sets a protection on `from` and every tier after it in the fixture chain: the chain policies
 * (policy/signing-never-weakens, policy/approvals-never-weaken) refuse a later tier that
 * requires less than the tier it promotes from. The scenarios judge the gate of `from` itself.
 */
export async function protectFrom(
  root: string,
  from: (typeof protectedChain)[number],
  path: string[],
  value: unknown,
): Promise<void> {
  for (const tier of protectedChain.slice(protectedChain.indexOf(from))) {
    await configure(root, `${tier}.yaml`, path, value);
  }
}

/**
 * policy/last-tier-protected (core/environment/policies.ts) refuses a chain whose last tier
 * takes no signature or approval. The scenarios switch prod's signing and approvals off so each
 * can exercise one gate at a time, so the fixture chain ends one tier later: `vault`, a copy of
 * prod with signatures and one recorded approval required. No scenario promotes into it.
 */
async function addProtectedLastTier(root: string): Promise<void> {
  // The sample prod as shipped: signatures required (the scenarios edit only their copy).
  const prod = await readFile(join(repoRoot, "environments", "prod.yaml"), "utf8");
  await writeFile(join(root, "environments", "vault.yaml"), prod);
  await configure(root, "vault.yaml", ["tier"], "vault");
  await configure(root, "vault.yaml", ["marker"], "🜔");
  await configure(root, "vault.yaml", ["promotion", "from"], "prod");
  await configure(root, "vault.yaml", ["approvals"], { required: 1, source: "record" });
}

/** Makes `root` a git repository whose first commit holds everything in it. */
export function commitInitial(root: string): Repo {
  git(root, "init", "-q", "-b", "main");
  git(root, "config", "user.name", "Promotion Test");
  git(root, "config", "user.email", "promotion-test@example.invalid");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "initial: environments and overlays");
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/** A random 40-hex "commit" an artefact is said to be built from. */
export function fakeCommit(): string {
  return randomBytes(20).toString("hex");
}

function skopeoDigest(ref: string): string {
  const out = execFileSync("skopeo", ["inspect", "--tls-verify=false", `docker://${ref}`], {
    encoding: "utf8",
  });
  return (JSON.parse(out) as { Digest: string }).Digest;
}

/** Makes sure local/busybox exists (built by scripts/provision.sh; imported here otherwise). */
export async function ensureBusybox(): Promise<void> {
  try {
    docker("image", "inspect", "--format", "{{.Id}}", "local/busybox");
    return;
  } catch {
    // Not provisioned: import the Debian busybox-static binary as a one-file image.
  }
  const dir = await mkdtemp(join(tmpdir(), "tiers-busybox-"));
  try {
    await mkdir(join(dir, "bin"));
    await cp("/bin/busybox", join(dir, "bin", "busybox"));
    execFileSync("sh", ["-c", `tar -C ${dir} -c . | ${"/usr/bin/docker"} import - local/busybox`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every `repo:tag` this test file pushed (each test file has its own module instance). */
const pushedRefs: string[] = [];
/** The digests behind them, to find the signatures cosign attached to them. */
const pushedDigests: { path: string; digest: string }[] = [];

/** Builds a one-layer image FROM local/busybox, pushes it by tag, returns the served digest. */
export function pushImage(options: {
  service: string;
  commit: string;
  tag?: string;
  dev?: boolean;
}): { repository: string; digest: string; ref: string } {
  const repository = `${registryHost}/${namespace}/${options.service}`;
  const tagged = `${repository}:${options.tag ?? options.commit}`;
  const labels = [
    `org.opencontainers.image.revision=${options.commit}`,
    `org.opencontainers.image.title=tiers-${options.service}`,
    `tiers.service=${options.service}`,
    `tiers.test.nonce=${randomBytes(8).toString("hex")}`,
    cleanupLabel,
    ...(options.dev ? ["tiers.environment=dev"] : []),
  ];
  execFileSync(
    "/usr/bin/docker",
    ["build", "-q", "-t", tagged, ...labels.flatMap((l) => ["--label", l]), "-"],
    {
      input: "FROM local/busybox\n",
      env: { ...process.env, DOCKER_BUILDKIT: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  // Recorded before the push: a push that fails halfway may still have left the tag.
  pushedRefs.push(tagged);
  docker("push", "-q", tagged);
  const digest = skopeoDigest(tagged);
  pushedDigests.push({ path: `${namespace}/${options.service}`, digest });
  return { repository, digest, ref: `${repository}@${digest}` };
}

/**
 * What this test file put in the registry: its tags and digests (a tag pushed twice leaves the
 * first image untagged but stored), plus the tags cosign derives from those digests (`sha256-<hex>.sig|.att|.sbom`, present only where a real cosign signed them).
 */
async function pushedByThisFile(): Promise<PushedTags[]> {
  const groups: PushedTags[] = groupRefs(pushedRefs).map((group) => ({
    ...group,
    digests: pushedDigests.filter((d) => d.path === group.repository).map((d) => d.digest),
  }));
  // One group per repository: a signature copied to another digest's tag (the digest-changed
  // round trip) shares its manifest with the original, and both tags are ours.
  for (const path of new Set(pushedDigests.map((d) => d.path))) {
    const companions = new Set(
      pushedDigests
        .filter((d) => d.path === path)
        .flatMap(({ digest }) =>
          ["sig", "att", "sbom"].map((kind) => `${digest.replace(":", "-")}.${kind}`),
        ),
    );
    const present = (await listTags(registryHost, path)).filter((tag) => companions.has(tag));
    if (present.length) groups.push({ registry: registryHost, repository: path, tags: present });
  }
  return groups;
}

/**
 * Deletes from the registry exactly what this test file pushed (see test/support/registry.ts:
 * manifests go, blobs wait for the registry's garbage collection), and returns the tags still
 * listed afterwards: [] when cleanup worked.
 */
export async function removePushedImages(): Promise<{ report: CleanupReport; left: string[] }> {
  const pushed = await pushedByThisFile();
  const report = await removePushedTags(pushed);
  return { report, left: await remainingTags(pushed) };
}

/** The number of tags this file pushed so far (a cleanup test checks it pushed something). */
export function pushedCount(): number {
  return pushedRefs.length;
}

/** Pushes api and worker images of one commit and writes its artefact record in `root`. */
export function publishArtefact(options: { commit?: string; dev?: boolean } = {}): ArtefactRecord {
  const commit = options.commit ?? fakeCommit();
  const images: ArtefactRecord["images"] = {};
  for (const service of ["api", "worker"]) {
    const image = pushImage({ service, commit, ...(options.dev ? { dev: true } : {}) });
    images[service] = {
      repository: image.repository,
      tag: commit,
      digest: image.digest,
      ref: image.ref,
    };
  }
  return { commit, created: new Date().toISOString(), registry: registryHost, images };
}

/** Writes artefact records into a repository's .tiers/artefacts (as `tiers publish` does). */
export async function writeArtefacts(root: string, ...records: ArtefactRecord[]): Promise<void> {
  const dir = join(root, ".tiers", "artefacts");
  await mkdir(dir, { recursive: true });
  for (const record of records) {
    await writeFile(join(dir, `${record.commit}.json`), serializeArtefactRecord(record));
  }
  const last = records[records.length - 1];
  if (last) await writeFile(join(dir, "latest.json"), serializeArtefactRecord(last));
}

/** Removes every local image these tests built (registry tags go with removePushedImages). */
export function removeTestImages(): void {
  const ids = docker("image", "ls", "--filter", `label=${cleanupLabel}`, "--format", "{{.ID}}")
    .split("\n")
    .filter(Boolean);
  if (ids.length) {
    try {
      docker("image", "rm", "--force", ...new Set(ids));
    } catch {
      // Best effort: an image still used by a parallel build is removed by the next run.
    }
  }
}

/** The overlay's pins of a tier in a repository's working tree. */
export async function overlayDigests(root: string, tier: string): Promise<string[]> {
  const text = await readFile(
    join(root, "k8s", "overlays", tier, "kustomization.yaml"),
    "utf8",
  ).catch(() => "");
  return [...text.matchAll(/digest: (sha256:[0-9a-f]{64})/g)].map((m) => m[1]!);
}

/** A deny window from today's 00:00 UTC for two days: it covers the real clock the test runs on. */
export function freezeFromToday() {
  const today = new Date().toISOString().slice(0, 10);
  const opens = new Date(Date.parse(`${today}T00:00:00Z`) + 2 * 86_400_000);
  return {
    entry: {
      kind: "deny",
      rrule: "FREQ=DAILY;COUNT=1",
      start: `${today}T00:00`,
      duration: "2d",
      time_zone: "UTC",
      reason: "test freeze",
    },
    opens: opens.toISOString().replace(".000Z", "Z"),
  };
}

/**
 * Each artefact passed the test tier, as `tiers record-tests` and a promotion into test leave
 * it: the starting point of scenarios about the tiers above.
 */
export async function passTest(
  root: string,
  records: readonly ArtefactRecord[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): Promise<void> {
  for (const record of records) {
    await recordTestReport({ root, commit: record.commit, passed: true, summary: "ok", env });
    await promote({
      root,
      tier: "test",
      commit: record.commit,
      evidence: "local",
      deploy: "skip",
      env,
    });
  }
}
