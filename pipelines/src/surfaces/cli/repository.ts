/**
 * The I/O half of `tiers validate`'s repository checks and of `tiers ci generate`: reads what
 * the model names (overlays, compose files, Dockerfiles, tfvars, CI templates) and hands the
 * facts to core, which decides. A file that exists but cannot be read is an error naming it,
 * never "absent".
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { spliceBlocks } from "../../core/ci/blocks.ts";
import { type CiVendor, ciFiles, generatedBlocks } from "../../core/ci/tier-jobs.ts";
import type { EnvironmentModel, Problem } from "../../core/environment/index.ts";
import { TiersError } from "../../core/errors.ts";
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

/** The file's text, or undefined when it does not exist; any other failure throws. */
export async function readIfExists(root: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(root, file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new TiersError(`cannot read ${file}: ${(error as Error).message}`, { where: file });
  }
}

export async function listDir(root: string, dir: string, dirs: boolean): Promise<string[]> {
  try {
    const entries = await readdir(join(root, dir), { withFileTypes: true });
    return entries
      .filter((e) => (dirs ? e.isDirectory() : e.isFile()))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new TiersError(`cannot list ${dir}: ${(error as Error).message}`, { where: dir });
  }
}

/** Everything checkRepository needs, read from the repository at `root`. */
export async function readRepositoryFacts(
  root: string,
  model: EnvironmentModel,
): Promise<RepositoryFacts> {
  const files = new Set<string>();
  const overlayDirs = await listDir(root, layout.overlaysDir, true);
  const overlayPins: Record<string, ReturnType<typeof readPins> | string> = {};
  const overlayResources: Record<string, ReturnType<typeof readResources>> = {};
  const admissionPolicies: Record<string, string> = {};
  for (const dir of overlayDirs) {
    const file = layout.overlay(dir);
    const text = await readIfExists(root, file);
    const policy = await readIfExists(root, `${layout.overlaysDir}/${dir}/${admissionFile}`);
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
  const tfvarsTiers = (await listDir(root, layout.tfvarsDir, false))
    .filter((name) => name.endsWith(".tfvars"))
    .map((name) => name.replace(/\.tfvars$/, ""));
  for (const name of model.order) {
    for (const file of [layout.composeBase, layout.composeOverride(name)]) {
      if ((await readIfExists(root, file)) !== undefined) files.add(file);
    }
  }
  const dockerfiles: Record<string, DockerfileStage[]> = {};
  for (const tier of Object.values(model.tiers)) {
    for (const spec of Object.values(tier.services)) {
      const file = spec.build?.dockerfile;
      if (!file || file in dockerfiles) continue;
      const text = await readIfExists(root, file);
      if (text === undefined) continue;
      files.add(file);
      dockerfiles[file] = dockerfileStages(text);
    }
  }
  const present: string[] = [];
  const ciJobs = [];
  const ciProblems = [];
  for (const file of Object.values(ciFiles)) {
    const text = await readIfExists(root, file);
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
  root: string,
  model: EnvironmentModel,
  options: { check: boolean; write?: (file: string, text: string) => Promise<void> },
): Promise<CiGeneration> {
  const changed: string[] = [];
  const problems: Problem[] = [];
  const writes: { file: string; text: string }[] = [];
  for (const [vendor, file] of Object.entries(ciFiles) as [CiVendor, string][]) {
    const text = await readIfExists(root, file);
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
export async function checkRepositoryAt(root: string, model: EnvironmentModel): Promise<Problem[]> {
  const facts = await readRepositoryFacts(root, model);
  const ci = await generateCi(root, model, { check: true });
  return [...checkRepository(model, facts), ...ci.problems];
}
