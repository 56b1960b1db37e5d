/**
 * `tiers admission generate`: writes each Kubernetes tier's admission policy
 * (k8s/overlays/<tier>/admission-policy.yaml, a Kyverno NamespacedImageValidatingPolicy) from
 * its `signing` block and `promotion.from` (core/manifests/admission.ts), and removes the file
 * of a tier that no longer requires signatures. `tiers validate` reports the drift
 * (repository/admission-policy) this fixes.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { admissionFile, admissionFiles } from "../../../core/manifests/admission.ts";
import { pipelineMarker } from "../../../core/markers.ts";
import { layout } from "../../../core/repository/consistency.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";
import { readIfExists } from "../repository.ts";

export const registerAdmission: RegisterCommand = (program) => {
  const admission = program
    .command("admission")
    .description("the cluster's admission policies, generated from the tier model")
    .addHelpText(
      "after",
      `
Examples:
  $ tiers admission generate   rewrite k8s/overlays/<tier>/admission-policy.yaml from environments/`,
    );
  admission
    .command("generate")
    .description(
      "write k8s/overlays/<tier>/admission-policy.yaml for every kubernetes tier that requires signatures",
    )
    .addHelpText(
      "after",
      `
The policy makes the cluster (Kyverno, docs/k8s.md#admission) refuse a pod whose image from the
tier's registry has no signature by the tier's signer annotated <project>.tier=<previous tier>.
The overlay's kustomization.yaml must list admission-policy.yaml under resources:.

Examples:
  $ tiers admission generate                   after changing a tier's signing or promotion.from
  $ tiers --root ../other admission generate   another checkout`,
    )
    .action(async (_options: unknown, command: Command) => {
      const cli = contextFrom(command);
      const { root, reporter } = cli;
      const model = await cli.model();
      let changed = 0;
      for (const name of model.order) {
        const tier = model.tiers[name]!;
        if (tier.runtime !== "kubernetes") continue;
        const file = `${layout.overlaysDir}/${name}/${admissionFile}`;
        const want = admissionFiles(tier)[admissionFile];
        if ((await readIfExists(root, layout.overlay(name))) === undefined) {
          // No overlay to put it in: `tiers validate` names the missing overlay itself.
          if (want !== undefined)
            reporter.warn(name, `skipped: ${layout.overlay(name)} does not exist`, tier.marker);
          continue;
        }
        const got = await readIfExists(root, file);
        if (want === got) continue;
        changed++;
        if (want === undefined) {
          await rm(join(root, file));
          reporter.info(name, `removed ${file} (signing.required is off)`, tier.marker);
        } else {
          await writeFile(join(root, file), want);
          reporter.info(name, `wrote ${file}`, tier.marker);
        }
      }
      if (changed === 0) reporter.info(undefined, "admission policies unchanged", pipelineMarker);
    });
};
