/**
 * The environment model, remembered by content. Validating the tier files is a pure function of
 * their names and texts (core/environment/model.ts `validateSources`) and of the code doing it,
 * so a result computed once is valid for every later run that hands in the same bytes to the
 * same build. Composing the YAML with positions and running zod and the policies is most of a
 * cold `tiers validate` (docs/pipeline.md "Measured"); reading and hashing 15 KB is not.
 *
 * The key is a SHA-256 over the build stamp (the hash of the CLI's own sources,
 * pipelines/bin/build-cli.js) and every environment file's name and text. Nothing else is
 * trusted: no modification time, no file list from an earlier run. Unbundled code (tsx,
 * vitest) has no build stamp and never uses the cache unless a test hands one in.
 *
 * The cache is machine-local state under `.tiers/cache/` (git-ignored with the rest of .tiers).
 * A missing, unreadable, truncated or foreign entry is a miss, never an error; a failed write
 * changes nothing but the next run's speed.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { readEnvironmentSources } from "../../core/environment/load.ts";
import type {
  EnvironmentModel,
  SourceFile,
  ValidationResult,
} from "../../core/environment/model.ts";
import { ConfigError } from "../../core/environment/problems.ts";
import { atomicWrite } from "./atomic-write.ts";

declare const __TIERS_BUILD_STAMP__: string | undefined;

/** The stamp of the running CLI build, or undefined when the sources run unbundled. */
export const runningBuildStamp: string | undefined =
  typeof __TIERS_BUILD_STAMP__ === "string" ? __TIERS_BUILD_STAMP__ : undefined;

/** Where the remembered result lives, under a repository root. */
export const modelCacheFile = (root: string) => `${root}/.tiers/cache/environment-model.json`;

/** Where `tiers validate` remembers its repository checks' answer (read-trace.ts). */
export const repositoryCheckCacheFile = (root: string) =>
  `${root}/.tiers/cache/repository-check.json`;

/** Where `tiers status` remembers its ladder (promotion/ladder-cache.ts), per view. */
export const ladderCacheFile = (root: string, history: boolean) =>
  `${root}/.tiers/cache/status${history ? "-with-history" : ""}.json`;

/** Format of the entry; bump when its shape changes. */
const entryVersion = 1;

interface Entry {
  version: number;
  key: string;
  /** SHA-256 of `result` as written, so a torn or edited entry reads as a miss. */
  sha256: string;
  result: string;
}

/** The content key of `sources` as validated by the build `stamp`. */
export function modelKey(stamp: string, sources: readonly SourceFile[]): string {
  const hash = createHash("sha256").update(`tiers-model ${entryVersion}\0${stamp}\0`);
  for (const { file, text } of [...sources].sort((a, b) => a.file.localeCompare(b.file))) {
    hash.update(`${file}\0${Buffer.byteLength(text)}\0${text}\0`);
  }
  return hash.digest("hex");
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function readEntry(path: string, key: string): Promise<ValidationResult | undefined> {
  try {
    const entry = JSON.parse(await readFile(path, "utf8")) as Partial<Entry>;
    if (entry.version !== entryVersion || entry.key !== key) return undefined;
    if (typeof entry.result !== "string" || entry.sha256 !== sha256(entry.result)) return undefined;
    const result = JSON.parse(entry.result) as ValidationResult;
    return Array.isArray(result.problems) ? result : undefined;
  } catch {
    return undefined;
  }
}

export interface ModelCacheOptions {
  /** Build stamp the entries belong to; default the running build's (none when unbundled). */
  stamp?: string | undefined;
  /** Where the entry lives; default `.tiers/cache/environment-model.json` under the root. */
  file?: string;
  /** The validation to remember (tests count its calls). */
  validate?: (sources: readonly SourceFile[]) => ValidationResult;
}

/** A validation and the content key it was remembered under (none when unbundled). */
export interface KeyedValidation {
  result: ValidationResult;
  /** modelKey of the build and sources: what any answer derived from the model depends on. */
  key?: string;
}

/**
 * `validateSources` of the environment files under `root`, from the cache when the same build
 * validated the same bytes before, with the key it is remembered under. The result is what
 * validating would return, problems included.
 */
export async function validateRepositoryKeyed(
  root: string,
  options: ModelCacheOptions = {},
): Promise<KeyedValidation> {
  // Loaded only on a miss: a hit needs neither the YAML composer nor zod and the policies, so a
  // command that needs nothing else of them (doctor) does not pay for loading them.
  const validate = async (sources: readonly SourceFile[]) =>
    (options.validate ?? (await import("../../core/environment/model.ts")).validateSources)(
      sources,
    );
  const sources = await readEnvironmentSources(root);
  const stamp = "stamp" in options ? options.stamp : runningBuildStamp;
  if (!stamp) return { result: await validate(sources) };
  const file = options.file ?? modelCacheFile(root);
  const key = modelKey(stamp, sources);
  const remembered = await readEntry(file, key);
  if (remembered) return { result: remembered, key };
  const result = await validate(sources);
  const text = JSON.stringify(result);
  const entry: Entry = { version: entryVersion, key, sha256: sha256(text), result: text };
  await atomicWrite(file, JSON.stringify(entry)).catch(() => undefined);
  return { result, key };
}

/** `validateRepositoryKeyed`'s result alone. */
export async function validateRepositoryCached(
  root: string,
  options: ModelCacheOptions = {},
): Promise<ValidationResult> {
  return (await validateRepositoryKeyed(root, options)).result;
}

/** The validated model of `root` (cached as above); throws ConfigError listing every problem. */
export async function loadModelCached(
  root: string,
  options: ModelCacheOptions = {},
): Promise<EnvironmentModel> {
  const { model, problems } = await validateRepositoryCached(root, options);
  if (!model) throw new ConfigError(problems);
  return model;
}
