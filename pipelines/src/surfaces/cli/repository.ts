/**
 * The I/O half of `tiers validate`'s repository checks and of `tiers ci generate`: reads what
 * the model names (overlays, compose files, Dockerfiles, tfvars, CI templates) through a
 * RepositoryReader and hands the facts to core, which decides. A file that exists but cannot be
 * read is an error naming it, never "absent" (engines/host/repository-reader.ts).
 */
import { spliceBlocks } from "../../core/ci/blocks.ts";
import { type CiVendor, ciFiles, generatedBlocks } from "../../core/ci/tier-jobs.ts";
import type { EnvironmentModel, Problem } from "../../core/environment/index.ts";
import { admissionFile } from "../../core/manifests/admission.ts";
import { readPins, readResources } from "../../core/promotion/overlay.ts";
import { ciJobsOf } from "../../core/repository/ci-jobs.ts";
import {
  checkRepository,
  type DockerfileStage,
  dockerfileStages,
  layout,
  type RepositoryFacts,
} from "../../core/repository/consistency.ts";
import type { RepositoryReader } from "../../engines/host/repository-reader.ts";

/** Everything checkRepository needs, read through `reader`. */
export async function readRepositoryFacts(
  reader: RepositoryReader,
  model: EnvironmentModel,
): Promise<RepositoryFacts> {
  const files = new Set<string>();
  const overlayDirs = await reader.names(layout.overlaysDir, true);
  const overlayPins: Record<string, ReturnType<typeof readPins> | string> = {};
  const overlayResources: Record<string, ReturnType<typeof readResources>> = {};
  const admissionPolicies: Record<string, string> = {};
  for (const dir of overlayDirs) {
    const file = layout.overlay(dir);
    const text = await reader.text(file);
    const policy = await reader.text(`${layout.overlaysDir}/${dir}/${admissionFile}`);
    if (policy !== undefined) admissionPolicies[dir] = policy;
    if (text === undefined) continue;
    files.add(file);
    try {
      overlayPins[dir] = readPins(text, file);
      overlayResources[dir] = readResources(text, file);
    } catch (error) {
      overlayPins[dir] = (error as Error).message;
    }
  }
  const tfvarsTiers = (await reader.names(layout.tfvarsDir, false))
    .filter((name) => name.endsWith(".tfvars"))
    .map((name) => name.replace(/\.tfvars$/, ""));
  for (const name of model.order) {
    for (const file of [layout.composeBase, layout.composeOverride(name)]) {
      if ((await reader.text(file)) !== undefined) files.add(file);
    }
  }
  const dockerfiles: Record<string, DockerfileStage[]> = {};
  for (const tier of Object.values(model.tiers)) {
    for (const spec of Object.values(tier.services)) {
      const file = spec.build?.dockerfile;
      if (!file || file in dockerfiles) continue;
      const text = await reader.text(file);
      if (text === undefined) continue;
      files.add(file);
      dockerfiles[file] = dockerfileStages(text);
    }
  }
  const present: string[] = [];
  const ciJobs = [];
  const ciProblems = [];
  for (const file of Object.values(ciFiles)) {
    const text = await reader.text(file);
    if (text === undefined) continue;
    present.push(file);
    const read = ciJobsOf(file, text);
    ciJobs.push(...read.jobs);
    ciProblems.push(...read.problems);
  }
  return {
    files,
    overlayDirs,
    tfvarsTiers,
    overlayPins,
    overlayResources,
    admissionPolicies,
    dockerfileStages: dockerfiles,
    ciFiles: present,
    ciJobs,
    ciProblems,
  };
}

export interface CiGeneration {
  /** Files whose generated blocks changed (written unless checking). */
  changed: string[];
  /** Drift (when checking) and marker problems, located. */
  problems: Problem[];
}

/**
 * Regenerates the tier blocks of every CI file that exists. With `check`, writes nothing and
 * reports each block that differs; without, writes only when every file's markers are sound.
 */
export async function generateCi(
  reader: RepositoryReader,
  model: EnvironmentModel,
  options: { check: boolean; write?: (file: string, text: string) => Promise<void> },
): Promise<CiGeneration> {
  const changed: string[] = [];
  const problems: Problem[] = [];
  const writes: { file: string; text: string }[] = [];
  for (const [vendor, file] of Object.entries(ciFiles) as [CiVendor, string][]) {
    const text = await reader.text(file);
    if (text === undefined) continue;
    const result = spliceBlocks(file, text, generatedBlocks(model, vendor));
    problems.push(...result.problems);
    if (result.text !== text) {
      changed.push(file);
      writes.push({ file, text: result.text });
      if (options.check) problems.push(...result.drift);
    }
  }
  if (!options.check && problems.length === 0 && options.write) {
    for (const { file, text } of writes) await options.write(file, text);
  }
  return { changed, problems };
}

/** The repository checks of `tiers validate`: files against the model, then CI drift. */
export async function checkRepositoryAt(
  reader: RepositoryReader,
  model: EnvironmentModel,
): Promise<Problem[]> {
  const facts = await readRepositoryFacts(reader, model);
  const ci = await generateCi(reader, model, { check: true });
  return [...checkRepository(model, facts), ...ci.problems];
}
