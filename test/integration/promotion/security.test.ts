/**
 * The security-scan gate, scenario by scenario, on real git repositories and the real local
 * registry (127.0.0.1:5000), with scanner reports recorded in grype's own JSON format
 * (test/fixtures/security/grype/, from anchore/grype's presenter snapshots): grype itself
 * cannot reach its vulnerability database from these machines, so its reports are fed in as
 * a user's CI would hand them over. Every refusal changes nothing and says why.
 */
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { memorySink, Reporter } from "../../../pipelines/src/core/log.ts";
import { renderPlan } from "../../../pipelines/src/core/promotion/plan.ts";
import {
  provenancePath,
  slsaProvenance,
} from "../../../pipelines/src/core/promotion/provenance.ts";
import {
  sbomPath,
  scanRecordPath,
  scanReportPath,
} from "../../../pipelines/src/core/promotion/security.ts";
import { computePlan } from "../../../pipelines/src/engines/host/promotion/plan.ts";
import { promote } from "../../../pipelines/src/engines/host/promotion/promote.ts";
import { recordTestReport } from "../../../pipelines/src/engines/host/promotion/records.ts";
import {
  generateSbom,
  recordEvidence,
  recordScan,
} from "../../../pipelines/src/engines/host/supply-chain.ts";
import { requirePrerequisites } from "../../support/docker.ts";
import { repoRoot, runTiers } from "../../support/repo.ts";
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

const grype = join(import.meta.dirname, "../../fixtures/security/grype");
let good: ArtefactRecord;
const repos: Repo[] = [];
let scratch: string;

beforeAll(async () => {
  await requirePrerequisites();
  await ensureBusybox();
  good = publishArtefact();
  scratch = await mkdtemp(join(tmpdir(), "tiers-scan-"));
});

afterAll(async () => {
  for (const r of repos) await r.remove();
  if (scratch) await rm(scratch, { recursive: true, force: true });
  removeTestImages();
  await removePushedImages();
});

/** A repository whose staging tier lists security-scan with max_severity high. */
async function repo(): Promise<string> {
  const r = await makeRepo(async (root) => {
    await configure(
      root,
      "staging.yaml",
      ["promotion", "gates"],
      ["passage", "not-rejected", "no-dev-image", "approvals", "security-scan"],
    );
    await configure(root, "staging.yaml", ["promotion", "criteria"], {
      security: { max_severity: "high" },
    });
  });
  repos.push(r);
  await writeArtefacts(r.root, good);
  const env = cleanEnv();
  await recordTestReport({ root: r.root, commit: good.commit, passed: true, summary: "ok", env });
  await promote({
    root: r.root,
    tier: "test",
    commit: good.commit,
    evidence: "local",
    deploy: "skip",
    env,
  });
  return r.root;
}

const reporter = () => new Reporter({ sink: memorySink() });

/** Records a grype fixture for a service's digest through the real CLI. */
async function recordFixture(root: string, service: string, fixture: string) {
  const run = await runTiers(
    root,
    [
      "record-scan",
      "--digest",
      good.images[service]!.digest,
      "--report",
      join(grype, fixture),
      "--format",
      "grype",
    ],
    { env: cleanEnv() },
  );
  return run;
}

const staging = (root: string) => ({ root, tier: "staging", commit: good.commit, env: cleanEnv() });
const failing = (gates: Array<{ gate: string; ok: boolean; why: string; service?: string }>) =>
  gates.filter((g) => !g.ok).map((g) => `${g.gate} [${g.service}]: ${g.why}`);

async function expectRefused(root: string, why: RegExp) {
  const head = git(root, "rev-parse", "HEAD");
  const before = await overlayDigests(root, "staging");
  const ctx = await computePlan(staging(root));
  expect(ctx.plan.ok).toBe(false);
  expect(failing(ctx.plan.gates).join("\n")).toMatch(why);
  await expect(promote({ ...staging(root), deploy: "skip" })).rejects.toThrow(/security-scan/);
  expect(git(root, "rev-parse", "HEAD")).toBe(head);
  expect(await overlayDigests(root, "staging")).toEqual(before);
  expect(git(root, "status", "--porcelain", "--", "k8s", "releases")).toBe("");
  return ctx.plan;
}

describe("security-scan gate (real git, real registry, grype reports in grype's own JSON format)", () => {
  it("grype report with a Critical finding, recorded by `tiers record-scan` (real CLI), is refused above max_severity high", async () => {
    const root = await repo();
    const run = await recordFixture(root, "api", "TestJsonDirsPresenter.golden");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/recorded grype report of sha256:.*: 1 critical, 1 low/);
    expect(git(root, "log", "-1", "--format=%s")).toMatch(
      /^scan sha256:.*grype \[not provided\], 1 critical, 1 low/,
    );
    await recordFixture(root, "worker", "dir-low-only.golden");
    const plan = await expectRefused(
      root,
      /security-scan \[api\]: 1 finding\(s\) above high: CVE-1999-0002 \(critical, package-2@2\.2\.2\)/,
    );
    // The worker's report has only a Low finding: its gate passes.
    expect(plan.gates.find((g) => g.gate === "security-scan" && g.service === "worker")?.ok).toBe(
      true,
    );
    // The plan shows the scan summary next to the gates.
    expect(renderPlan(plan).join("\n")).toMatch(
      /scan \[api\]: grype \[not provided\]: 1 critical, 1 low/,
    );
  });

  it("grype reports with nothing above high let the digests in; the passage keeps the verdict; plan shows SBOM (real npm sbom) and provenance", async () => {
    const root = await repo();
    for (const service of ["api", "worker"]) {
      expect((await recordFixture(root, service, "dir-low-only.golden")).code).toBe(0);
    }
    // The SBOM and provenance publish records, made here for the registry's busybox digests:
    // the SBOM by the real `npm sbom` from this project's lock file.
    const sbom = await generateSbom(repoRoot, "services/api");
    await recordEvidence({
      root,
      env: cleanEnv(),
      reporter: reporter(),
      commit: good.commit,
      attester: { attest: false, why: "not under test here" },
      evidence: ["api", "worker"].map((service) => {
        const image = good.images[service]!;
        const predicate = slsaProvenance({
          builderId: "urn:tiers:engine:host",
          source: { uri: "file:///repo", commit: good.commit },
          service,
          dockerfile: `services/${service}/Dockerfile`,
          context: ".",
          target: "production",
          buildArgs: { BASE_IMAGE: "local/node:22", TIERS_GIT_SHA: good.commit },
          labels: {},
          baseImage: { ref: "local/node:22", imageId: `sha256:${"e".repeat(64)}` },
          inputs: [{ path: "package-lock.json", sha256: "f".repeat(64) }],
          invocationId: "urn:uuid:test",
          startedOn: new Date().toISOString(),
          finishedOn: new Date().toISOString(),
        });
        return {
          service,
          ref: image.ref,
          digest: image.digest,
          sbom: { path: sbomPath(image.digest), content: sbom },
          provenance: {
            path: provenancePath(image.digest),
            content: JSON.stringify(predicate),
            predicate,
          },
        };
      }),
    });
    const ctx = await computePlan(staging(root));
    expect(failing(ctx.plan.gates)).toEqual([]);
    const text = renderPlan(ctx.plan).join("\n");
    expect(text).toMatch(
      /sbom \[api\]: CycloneDX 1\.5, \d+ installed component\(s\) \(releases\/sboms\/sha256-/,
    );
    expect(text).toMatch(
      new RegExp(
        `provenance \\[api\\]: built by urn:tiers:engine:host from ${good.commit.slice(0, 12)} \\(services/api/Dockerfile → production\\), base local/node:22`,
      ),
    );
    expect(text).toMatch(/✓ security-scan \[api\]: nothing above high: 1 low/);
    expect(text.indexOf("evidence (releases/):")).toBeLessThan(text.indexOf("gates:"));
    await promote({ ...staging(root), deploy: "skip" });
    const passage = git(
      root,
      "show",
      `HEAD:releases/passages/staging/${good.images.api!.digest.replace(":", "-")}.yaml`,
    );
    expect(passage).toMatch(/gate: security-scan\n\s+ok: true/);
  });

  it("missing evidence fails closed: no scan recorded for the digest names the file", async () => {
    const root = await repo();
    await expectRefused(
      root,
      new RegExp(
        `security-scan \\[api\\]: no scan recorded for sha256:.*\\(${scanRecordPath(good.images.api!.digest)}\\)`,
      ),
    );
  });

  it("unreadable evidence fails closed: a committed report that is not grype JSON, and a record that is not a scan record, each named", async () => {
    const root = await repo();
    await recordFixture(root, "api", "dir-low-only.golden");
    await recordFixture(root, "worker", "dir-low-only.golden");
    const api = good.images.api!.digest;
    const worker = good.images.worker!.digest;
    await writeFile(join(root, scanReportPath(api, "grype")), '{"matches": "truncated');
    await writeFile(join(root, scanRecordPath(worker)), "kind: scan\nformat: trivy\n");
    git(root, "commit", "-qam", "break the scan evidence");
    const plan = await expectRefused(
      root,
      /security-scan \[api\]: scan report cannot be read: releases\/scans\/sha256-/,
    );
    expect(failing(plan.gates).join("\n")).toMatch(
      /security-scan \[worker\]: scan record cannot be read: releases\/scans\/sha256-[0-9a-f]{64}\.yaml.*format/,
    );
  });

  it("an uncommitted scan opens nothing: records count only once in git", async () => {
    const root = await repo();
    const api = good.images.api!.digest;
    const report = scanReportPath(api, "grype");
    await mkdir(join(root, "releases", "scans"), { recursive: true });
    await copyFile(join(grype, "dir-low-only.golden"), join(root, report));
    await writeFile(
      join(root, scanRecordPath(api)),
      `kind: scan\ndigest: ${api}\nformat: grype\nreport: ${report}\nscanner: { name: grype, version: x }\nrecorded_by: me\nrecorded_at: now\n`,
    );
    const ctx = await computePlan(staging(root));
    expect(failing(ctx.plan.gates).join("\n")).toMatch(/security-scan \[api\]: no scan recorded/);
  });

  it("record-scan --commit --service (what CI runs after scanning by the commit's tag) records under the digest the artefact record names", async () => {
    const root = await repo();
    const scan = (args: string[]) =>
      runTiers(root, ["record-scan", ...args, "--report", join(grype, "dir-low-only.golden")], {
        env: cleanEnv(),
      });
    const head = git(root, "rev-parse", "HEAD");
    const unknown = await scan(["--commit", good.commit, "--service", "no-such-service"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain(
      `the artefact record of ${good.commit} has no image of no-such-service`,
    );
    const unpublished = await scan(["--commit", "f".repeat(40), "--service", "api"]);
    expect(unpublished.code).not.toBe(0);
    expect(unpublished.stderr).toContain(`no artefact record of ${"f".repeat(40)}`);
    const both = await scan([
      "--digest",
      good.images.api!.digest,
      "--commit",
      good.commit,
      "--service",
      "api",
    ]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain("not both");
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    const run = await scan(["--commit", good.commit, "--service", "api"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const hex = good.images.api!.digest.replace("sha256:", "");
    expect(git(root, "ls-tree", "--name-only", "HEAD", "releases/scans/")).toContain(
      `releases/scans/sha256-${hex}.grype.json`,
    );
  });

  it("record-scan refuses a grype image report of another digest, and one that is not grype JSON, recording nothing", async () => {
    const root = await repo();
    const head = git(root, "rev-parse", "HEAD");
    await expect(
      recordScan({
        root,
        digest: good.images.api!.digest,
        report: join(grype, "TestJsonImgsPresenter.golden"),
        format: "grype",
        reporter: reporter(),
        env: cleanEnv(),
      }),
    ).rejects.toThrow(/is a scan of sha256:ca738abb.*, not of sha256:.*nothing was recorded/);
    await writeFile(join(scratch, "trivy.json"), JSON.stringify({ SchemaVersion: 2, Results: [] }));
    const run = await runTiers(
      root,
      ["record-scan", "--digest", good.images.api!.digest, "--report", join(scratch, "trivy.json")],
      { env: cleanEnv() },
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/not a grype JSON report: matches/);
    expect(git(root, "rev-parse", "HEAD")).toBe(head);
    expect(git(root, "status", "--porcelain", "--", "releases")).toBe("");
  });
});
