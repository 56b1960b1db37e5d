/**
 * The admission policy on the real kubectl (kustomize built in), offline, on the
 * promotion-chain fixture (test/fixtures/promotion-chain: staging and prod on kubernetes, key
 * mode) copied to a scratch directory: each overlay renders the generated Kyverno
 * NamespacedImageValidatingPolicy into its tier's namespace, it passes the offline schema and
 * policy checks, and a hand edit is caught both in the rendered overlay and by
 * `tiers validate`, which names the file. No cluster here, so no Kyverno: the policy is
 * rendered and schema-checked, never admitted; test names say so.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EnvironmentModel, loadModel } from "../../pipelines/src/core/environment/index.ts";
import {
  admissionPolicy,
  checkAdmissionDrift,
  checkPolicies,
  type KubeObject,
  parseManifests,
  validateSchemas,
} from "../../pipelines/src/core/manifests/index.ts";
import { runHost } from "../../pipelines/src/engines/host/run.ts";
import * as kubectl from "../../pipelines/src/tools/kubectl.ts";
import { tiers } from "../support/cli.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const fixture = join(repoRoot, "test/fixtures/promotion-chain");
let work: string;
let model: EnvironmentModel;

async function render(dir: string, tier: string): Promise<KubeObject[]> {
  const result = await runHost(kubectl.kustomize(`k8s/overlays/${tier}`), {
    root: dir,
    reject: false,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return parseManifests(result.stdout, `k8s/overlays/${tier}`);
}

async function scratch(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(fixture, dir, { recursive: true });
  return dir;
}

const policies = (objects: KubeObject[]) =>
  objects.filter((o) => o.kind === "NamespacedImageValidatingPolicy");

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "tiers-admit-"));
  model = await loadModel(fixture);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the admission policy on the real kubectl kustomize (no cluster here: rendered and schema-checked, not admitted)", () => {
  it.each(["staging", "prod"])(
    "%s renders it into the tier's namespace, prefixed, with the generated spec",
    async (tier) => {
      const objects = await render(await scratch(`render-${tier}`), tier);
      const [policy, ...others] = policies(objects);
      expect(others).toEqual([]);
      expect(policy?.metadata.name).toBe(`tiers-${tier}-admission`);
      // Namespaced, so Kyverno applies it to this tier's pods only (ivpol/engine/predicate.go).
      expect(policy?.metadata.namespace).toBe(`tiers-${tier}`);
      expect(policy?.spec).toEqual(admissionPolicy(model.tiers[tier]!)!.spec);
      expect(checkAdmissionDrift(objects, model.tiers[tier]!)).toEqual([]);
    },
  );

  it.each(["staging", "prod"])(
    "%s: the rendered policy passes the offline schema check and the tier policies",
    async (tier) => {
      const objects = await render(await scratch(`checks-${tier}`), tier);
      const ids = policies(objects).map((o) => `${o.kind}/${o.metadata.name}`);
      expect(ids).toHaveLength(1);
      const about = (f: { object: string }) => ids.includes(f.object);
      expect(validateSchemas(objects).filter(about)).toEqual([]);
      expect(checkPolicies(objects).filter(about)).toEqual([]);
    },
  );

  it("a hand-edited policy (signer of another tier accepted) is drift in the render and in tiers validate", async () => {
    const dir = await scratch("edited");
    const file = join(dir, "k8s/overlays/prod/admission-policy.yaml");
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace("tiers.tier: staging", "tiers.tier: test"),
    );
    const findings = checkAdmissionDrift(await render(dir, "prod"), model.tiers.prod!);
    expect(findings.map((f) => `${f.rule} ${f.object} ${f.path}`)).toEqual([
      "drift/admission NamespacedImageValidatingPolicy/tiers-prod-admission spec",
    ]);

    const result = await tiers("--root", dir, "validate", "--json");
    expect(result.code).toBe(1);
    const problems = (JSON.parse(result.stdout) as { file: string; rule: string }[]).filter(
      (p) => p.rule === "repository/admission-policy",
    );
    expect(problems.map((p) => p.file)).toEqual(["k8s/overlays/prod/admission-policy.yaml"]);

    // `tiers admission generate` writes the generated policy back; the drift is gone. (The CLI
    // runs in-process here: validate's exit code stays in process.exitCode until reset.)
    process.exitCode = 0;
    const generated = await tiers("--root", dir, "admission", "generate");
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toContain("wrote k8s/overlays/prod/admission-policy.yaml");
    expect(checkAdmissionDrift(await render(dir, "prod"), model.tiers.prod!)).toEqual([]);
    const again = await tiers("--root", dir, "admission", "generate");
    expect(again.stdout).toContain("admission policies unchanged");
  });

  it("an overlay that drops the file from resources: renders without it, and both checks say so", async () => {
    const dir = await scratch("unlisted");
    const file = join(dir, "k8s/overlays/staging/kustomization.yaml");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/ {2}- admission-policy\.yaml[^\n]*\n/, ""));
    const objects = await render(dir, "staging");
    expect(policies(objects)).toEqual([]);
    expect(checkAdmissionDrift(objects, model.tiers.staging!).map((f) => f.object)).toEqual([
      "overlay staging",
    ]);
    const result = await tiers("--root", dir, "validate", "--json");
    const problems = (JSON.parse(result.stdout) as { file: string; rule: string }[]).filter(
      (p) => p.rule === "repository/admission-policy",
    );
    expect(problems.map((p) => p.file)).toEqual(["k8s/overlays/staging/kustomization.yaml"]);

    // `tiers admission generate` lists it again, on its own line; nothing else of the file moves.
    process.exitCode = 0;
    const generated = await tiers("--root", dir, "admission", "generate");
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toContain(
      "listed admission-policy.yaml in k8s/overlays/staging/kustomization.yaml resources:",
    );
    const relisted = await readFile(file, "utf8");
    expect(relisted.replace(/ {2}- admission-policy\.yaml\n/, "")).toBe(
      text.replace(/ {2}- admission-policy\.yaml[^\n]*\n/, ""),
    );
    expect(policies(await render(dir, "staging"))).toHaveLength(1);
  });

  it("signing turned off: generate removes the policy and its resources: entry, and the overlay still renders", async () => {
    const dir = await scratch("signing-off");
    const tierFile = join(dir, "environments/staging.yaml");
    await writeFile(
      tierFile,
      (await readFile(tierFile, "utf8")).replace(
        "signing:\n  required: true\n  mode: key\n  key: file:KEYS/staging/cosign.key\n",
        "signing:\n  required: false\n",
      ),
    );
    const overlay = join(dir, "k8s/overlays/staging/kustomization.yaml");
    const before = await readFile(overlay, "utf8");
    const generated = await tiers("--root", dir, "admission", "generate");
    expect(generated.code, generated.stderr).toBe(0);
    expect(generated.stdout).toContain(
      "removed k8s/overlays/staging/admission-policy.yaml (signing.required is off)",
    );
    const after = await readFile(overlay, "utf8");
    expect(after).toBe(before.replace(/ {2}- admission-policy\.yaml[^\n]*\n/, ""));
    // Before this, the entry stayed and kustomize failed on the missing file.
    expect(policies(await render(dir, "staging"))).toEqual([]);
    const again = await tiers("--root", dir, "admission", "generate");
    expect(again.stdout).toContain("admission policies unchanged");
  });

  it("a flow-style resources: list is refused, naming the overlay, and no file changes", async () => {
    const dir = await scratch("flow");
    const overlay = join(dir, "k8s/overlays/staging/kustomization.yaml");
    const text = await readFile(overlay, "utf8");
    const flow = text.replace(
      /resources:\n(?: {2}- [^\n]*\n)+/,
      "resources: [namespace.yaml, database-secret.yaml, ../../base, monitoring.yaml]\n",
    );
    await writeFile(overlay, flow);
    const policyFile = join(dir, "k8s/overlays/prod/admission-policy.yaml");
    await writeFile(policyFile, "# stale\n");
    const generated = await tiers("--root", dir, "admission", "generate");
    expect(generated.code).not.toBe(0);
    expect(generated.stderr).toContain("k8s/overlays/staging/kustomization.yaml");
    expect(generated.stderr).toContain("flow list");
    expect(await readFile(overlay, "utf8")).toBe(flow);
    expect(await readFile(policyFile, "utf8")).toBe("# stale\n"); // prod was not written either
    process.exitCode = 0;
  });
});

describe("the shipped sample's overlays carry their admission policy (sample, no cluster here: rendered, not admitted)", () => {
  it.each(["staging", "prod"])(
    "k8s/overlays/%s renders the policy its config generates",
    async (tier) => {
      const sample = await loadModel(repoRoot);
      const objects = await render(repoRoot, tier);
      expect(policies(objects).map((o) => o.metadata.name)).toEqual([`tiers-${tier}-admission`]);
      expect(checkAdmissionDrift(objects, sample.tiers[tier]!)).toEqual([]);
    },
  );
});
