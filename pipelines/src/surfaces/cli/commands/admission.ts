/**
 * `tiers admission generate`: writes each Kubernetes tier's admission policy
 * (k8s/overlays/<tier>/admission-policy.yaml, a Kyverno NamespacedImageValidatingPolicy) from
 * its `signing` block and `promotion.from` (core/manifests/admission.ts), and removes the file
 * of a tier that no longer requires signatures, and keeps the overlay's `resources:` entry for
 * it in step (a listed file that does not exist would break `kubectl kustomize`). `tiers
 * validate` reports the drift (repository/admission-policy) this fixes.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { admissionFile, admissionFiles } from "../../../core/manifests/admission.ts";
import { pipelineMarker } from "../../../core/markers.ts";
import { setResourceListed } from "../../../core/promotion/overlay.ts";
import { layout } from "../../../core/repository/consistency.ts";
import { readIfExists } from "../../../engines/host/repository-files.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

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
It also adds admission-policy.yaml to (or removes it from) the overlay's resources: list,
touching only that line.

Examples:
  $ tiers admission generate                   after changing a tier's signing or promotion.from
  $ tiers --root ../other admission generate   another checkout`,
    )
    .action(async (_options: unknown, command: Command) => {
      const cli = contextFrom(command);
      const { root, reporter } = cli;
      const model = await cli.model();
      // Every edit is computed before any file is written: an overlay that cannot be edited (a
      // flow list) refuses the whole run and leaves every tier's files as they were.
      const writes: Array<{
        tier: string;
        marker: string;
        file: string;
        text?: string;
        note: string;
      }> = [];
      for (const name of model.order) {
        const tier = model.tiers[name]!;
        if (tier.runtime !== "kubernetes") continue;
        const file = `${layout.overlaysDir}/${name}/${admissionFile}`;
        const want = admissionFiles(tier)[admissionFile];
        const overlayFile = layout.overlay(name);
        const overlayText = await readIfExists(root, overlayFile);
        if (overlayText === undefined) {
          // No overlay to put it in: `tiers validate` names the missing overlay itself.
          if (want !== undefined)
            reporter.warn(name, `skipped: ${overlayFile} does not exist`, tier.marker);
          continue;
        }
        const got = await readIfExists(root, file);
        const overlay = setResourceListed(
          overlayText,
          admissionFile,
          want !== undefined,
          overlayFile,
        );
        const marker = tier.marker;
        if (want === undefined && got !== undefined) {
          writes.push({
            tier: name,
            marker,
            file,
            note: `removed ${file} (signing.required is off)`,
          });
        } else if (want !== undefined && want !== got) {
          writes.push({ tier: name, marker, file, text: want, note: `wrote ${file}` });
        }
        if (overlay !== overlayText) {
          const verb = want === undefined ? "removed" : "listed";
          writes.push({
            tier: name,
            marker,
            file: overlayFile,
            text: overlay,
            note: `${verb} ${admissionFile} in ${overlayFile} resources:`,
          });
        }
      }
      for (const write of writes) {
        if (write.text === undefined) await rm(join(root, write.file));
        else await writeFile(join(root, write.file), write.text);
        reporter.info(write.tier, write.note, write.marker);
      }
      const changed = writes.length;
      if (changed === 0) reporter.info(undefined, "admission policies unchanged", pipelineMarker);
    });
};
