/**
 * Adopting the tool with a tier model and services other than the sample's, on scratch copies
 * of this repository (snapshotRepo: copied with git, committed in a temp dir), with the real
 * CLI process, git and `kubectl kustomize` (kustomize built into kubectl:
 * https://kubectl.docs.kubernetes.io/references/kubectl/kustomize/). No cluster here, so
 * "plan" stops where it would need published artefacts: it must say what blocks, not crash.
 *
 * The last case follows docs/adopting.md literally: every line of its `sh` blocks, in order.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CliRun, repoRoot, runTiers, snapshotRepo, type TempRepo } from "../support/repo.ts";

const repos: TempRepo[] = [];
afterEach(async () => {
  for (const repo of repos.splice(0)) await repo.remove();
});

async function scratch(): Promise<TempRepo> {
  const repo = await snapshotRepo();
  repos.push(repo);
  return repo;
}

const tiers = (repo: TempRepo, ...args: string[]) => runTiers(repo.root, args);

/** `tiers validate` passed: exit 0 and the "valid" summary line. */
function expectValid(run: CliRun): void {
  expect(run.stderr + run.stdout, "tiers validate").toMatch(/▸ valid: /);
  expect(run.code).toBe(0);
}

/** A plan that may be blocked (nothing published on a scratch copy) but did not crash. */
function expectPlanned(run: CliRun, tier: string): void {
  expect(run.stderr, `tiers plan --env ${tier}`).not.toMatch(/unexpected error|at async/);
  expect([0, 1]).toContain(run.code);
  expect(run.stdout + run.stderr).toContain(tier);
}

function kustomize(repo: TempRepo, tier: string): string {
  return execFileSync("kubectl", ["kustomize", `k8s/overlays/${tier}`], {
    cwd: repo.root,
    encoding: "utf8",
  });
}

/** Every tracked and untracked file's text, to prove a re-run or a refusal changed nothing. */
function treeState(repo: TempRepo): string {
  repo.git("add", "-A");
  return repo.git("write-tree");
}

describe("adopting: the cases an adopting team hits (scratch copies of this repository)", () => {
  it("a qa tier added with `tiers add tier` validates, plans and renders; running it again changes nothing", async () => {
    const repo = await scratch();
    const added = await tiers(
      repo,
      "add",
      "tier",
      "qa",
      "--after",
      "test",
      "--runtime",
      "kubernetes",
    );
    expect(added.code, added.stderr).toBe(0);
    for (const file of [
      "environments/qa.yaml",
      "k8s/overlays/qa/kustomization.yaml",
      "terraform/live/qa.tfvars",
      "docs/environments/qa.md",
      ".github/workflows/release.yml",
      "environments/staging.yaml",
    ]) {
      expect(added.stdout, file).toContain(`wrote ${file}`);
    }
    expect(readFileSync(join(repo.root, "environments/staging.yaml"), "utf8")).toMatch(
      /^ {2}from: qa$/m,
    );
    expectValid(await tiers(repo, "validate"));
    expectPlanned(await tiers(repo, "plan", "--env", "qa"), "qa");
    expect(kustomize(repo, "qa")).toContain("namespace: tiers-qa");
    const release = readFileSync(join(repo.root, ".github/workflows/release.yml"), "utf8");
    expect(release).toContain("environment: qa");

    const before = treeState(repo);
    const again = await tiers(
      repo,
      "add",
      "tier",
      "qa",
      "--after",
      "test",
      "--runtime",
      "kubernetes",
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("nothing to do");
    expect(treeState(repo)).toBe(before);
  });

  it("the three-tier model (staging removed, prod from test) validates once the CI jobs are regenerated", async () => {
    const repo = await scratch();
    repo.git(
      "rm",
      "-r",
      "-q",
      "environments/staging.yaml",
      "k8s/overlays/staging",
      "terraform/live/staging.tfvars",
      "docs/environments/staging.md",
    );
    const prod = join(repo.root, "environments/prod.yaml");
    const text = readFileSync(prod, "utf8");
    expect(text).toMatch(/^ {2}from: staging\b/m);
    execFileSync("sed", ["-i", "s/^  from: staging/  from: test/", prod]);
    const stale = await tiers(repo, "validate");
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(
      /^\.github\/workflows\/release\.yml:\d+:1: .*\[repository\/ci-drift\]$/m,
    );
    expect(stale.stdout).toMatch(/\.gitlab-ci\.yml:\d+:1: .*\[repository\/ci-orphan\]/);

    // prod's admission policy still admits what passed staging (k8s/overlays/prod).
    expect(stale.stdout).toMatch(
      /^k8s\/overlays\/prod\/admission-policy\.yaml:\d+:1: .*\[repository\/admission-policy\]$/m,
    );

    expect((await tiers(repo, "ci", "generate")).code).toBe(0);
    expect((await tiers(repo, "ci", "generate", "--check")).code).toBe(0);
    expect((await tiers(repo, "admission", "generate")).code).toBe(0);
    expectValid(await tiers(repo, "validate"));
    expect(kustomize(repo, "prod")).toContain("tiers.tier: test");
    expectPlanned(await tiers(repo, "plan", "--env", "prod"), "prod");
    expect(kustomize(repo, "prod")).toContain("namespace: tiers-prod");
    expect(readFileSync(join(repo.root, ".gitlab-ci.yml"), "utf8")).not.toContain("staging:");
  });

  it("a third service added with `tiers add service` validates, plans and renders in every overlay", async () => {
    const repo = await scratch();
    const added = await tiers(repo, "add", "service", "billing", "--port", "8090");
    expect(added.code, added.stderr).toBe(0);
    for (const file of [
      "environments/base.yaml",
      "compose/compose.yaml",
      "services/billing/Dockerfile",
      "k8s/base/billing/deployment.yaml",
      "k8s/overlays/prod/kustomization.yaml",
      "k8s/base/network-policies.yaml",
      "docs/services.md",
    ]) {
      expect(added.stdout, file).toContain(`wrote ${file}`);
    }
    expectValid(await tiers(repo, "validate"));
    for (const tier of ["staging", "prod"]) {
      expectPlanned(await tiers(repo, "plan", "--env", tier), tier);
      const rendered = kustomize(repo, tier);
      expect(rendered).toContain(`image: 127.0.0.1:5000/tiers/billing@sha256:${"0".repeat(64)}`);
      expect(rendered).toMatch(new RegExp(`name: tiers-${tier}-allow-billing-ingress`));
    }
    const before = treeState(repo);
    expect((await tiers(repo, "add", "service", "billing", "--port", "8090")).stdout).toContain(
      "nothing to do",
    );
    expect(treeState(repo)).toBe(before);
  });

  it("a missing overlay and an orphan one fail `tiers validate`, each naming its path", async () => {
    const repo = await scratch();
    repo.git("mv", "k8s/overlays/staging", "k8s/overlays/uat");
    const run = await tiers(repo, "validate");
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^k8s\/overlays\/staging\/kustomization\.yaml: .*\[repository\/overlay-missing\]$/m,
    );
    expect(run.stdout).toMatch(/^k8s\/overlays\/uat\/: .*\[repository\/overlay-orphan\]$/m);
  });

  it("a refused scaffold writes nothing", async () => {
    const repo = await scratch();
    const before = treeState(repo);
    const unknown = await tiers(
      repo,
      "add",
      "tier",
      "qa",
      "--after",
      "nosuch",
      "--runtime",
      "kubernetes",
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("--after nosuch: not a declared tier");
    const clash = await tiers(repo, "add", "service", "billing", "--port", "8080");
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain("port 8080 is already api's");
    expect(treeState(repo)).toBe(before);
  });
});

/** The lines of every ```sh block of a Markdown file, in order. */
function shellLines(markdown: string): string[] {
  const lines: string[] = [];
  for (const match of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of match[1]!.split("\n")) {
      const trimmed = line.trim();
      if (trimmed !== "" && !trimmed.startsWith("#")) lines.push(trimmed);
    }
  }
  return lines;
}

describe("docs/adopting.md, followed literally on a scratch copy", () => {
  it("every command of its sh blocks succeeds in order, and the result validates", async () => {
    const repo = await scratch();
    const doc = readFileSync(join(repoRoot, "docs/adopting.md"), "utf8");
    const commands = shellLines(doc);
    expect(commands.length).toBeGreaterThan(8);
    for (const command of commands) {
      // `npx tiers …` is the CLI of this checkout, pointed at the scratch copy; the rest is sh.
      const tolerated = command.endsWith("|| true");
      const tiersArgs = /^npx tiers (.*?)(?: \|\| true)?$/.exec(command)?.[1];
      if (tiersArgs !== undefined) {
        const run = await tiers(repo, ...tiersArgs.split(/\s+/));
        expect(run.stderr, command).not.toMatch(/unexpected error|at async/);
        if (!tolerated) expect(run.code, `${command}\n${run.stdout}${run.stderr}`).toBe(0);
        continue;
      }
      const run = spawnSync("sh", ["-c", command], { cwd: repo.root, encoding: "utf8" });
      expect(run.status, `${command}\n${run.stderr}`).toBe(0);
    }
    expect(existsSync(join(repo.root, "environments/qa.yaml"))).toBe(true);
    expect(existsSync(join(repo.root, "environments/staging.yaml"))).toBe(false);
    expect(repo.git("status", "--porcelain")).toBe("");
  });
});
