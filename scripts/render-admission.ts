/**
 * Writes the admission policy of each Kubernetes tier whose config requires signatures into its
 * overlay: k8s/overlays/<tier>/admission-policy.yaml (a Kyverno NamespacedImageValidatingPolicy),
 * from the merged tier config by core/manifests/admission.ts. Removes a stale one from a tier
 * that no longer requires signatures. Run after changing a tier's `signing` or `promotion.from`:
 * `npx tsx scripts/render-admission.ts [--root DIR]` (DIR: another repository, e.g. an example).
 * `tiers validate` reports drift until the overlays are regenerated; the overlay's
 * kustomization.yaml must list the file under `resources:` (validate says so too).
 */
import { rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadModel } from "../pipelines/src/core/environment/index.ts";
import {
  admissionFile,
  admissionFiles,
  overlayDir,
} from "../pipelines/src/core/manifests/index.ts";

const flag = process.argv.indexOf("--root");
const root = resolve(flag >= 0 ? process.argv[flag + 1]! : join(import.meta.dirname, ".."));
const model = await loadModel(root);
for (const name of model.order) {
  const tier = model.tiers[name]!;
  if (tier.runtime !== "kubernetes") continue;
  const files = admissionFiles(tier);
  for (const [file, text] of Object.entries(files)) {
    const path = join(root, overlayDir(name), file);
    await writeFile(path, text);
    console.log(`wrote ${path}`);
  }
  if (!(admissionFile in files)) {
    await rm(join(root, overlayDir(name), admissionFile), { force: true });
  }
}
