/**
 * Writes each Kubernetes tier's generated observability files into its overlay:
 * k8s/overlays/<tier>/monitoring.yaml (ServiceMonitors, PrometheusRule) and flags.env (the
 * `flags` ConfigMap), from the merged tier config by core/observability/kubernetes.ts.
 * Run after changing environments/: `npx tsx scripts/render-observability.ts`. The manifest
 * drift check (test/integration/k8s.test.ts) fails until the overlays are regenerated.
 * An argument renders another checkout or a fixture instead, e.g.
 * `npx tsx scripts/render-observability.ts test/fixtures/promotion-chain`.
 */
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadModel } from "../pipelines/src/core/environment/index.ts";
import { overlayDir } from "../pipelines/src/core/manifests/index.ts";
import { observabilityFiles } from "../pipelines/src/core/observability/kubernetes.ts";

const root = process.argv[2] ? resolve(process.argv[2]) : resolve(import.meta.dirname, "..");
const model = await loadModel(root);
for (const name of model.order) {
  const tier = model.tiers[name]!;
  if (tier.runtime !== "kubernetes") continue;
  for (const [file, text] of Object.entries(observabilityFiles(tier))) {
    const path = join(root, overlayDir(name), file);
    await writeFile(path, text);
    console.log(`wrote ${path}`);
  }
}
