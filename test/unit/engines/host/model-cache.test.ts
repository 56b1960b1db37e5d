/**
 * The environment model remembered by content, on real files (a copy of the chain fixture): a
 * result is reused only for the same bytes validated by the same build, and an entry that is
 * torn, edited or foreign is a miss, never a wrong model.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type SourceFile,
  type ValidationResult,
  validateSources,
} from "../../../../pipelines/src/core/environment/model.ts";
import {
  loadModelCached,
  modelCacheFile,
  runningBuildStamp,
  validateRepositoryCached,
} from "../../../../pipelines/src/engines/host/model-cache.ts";

const fixture = join(import.meta.dirname, "../../../fixtures/environments/chain");

let root: string;
let calls: number;
const counting = (sources: readonly SourceFile[]): ValidationResult => {
  calls++;
  return validateSources(sources);
};
const options = (stamp = "build-a") => ({ stamp, validate: counting });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "tiers-model-cache-"));
  await cp(fixture, join(root, "environments"), { recursive: true });
  calls = 0;
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the environment model cache", () => {
  it("validates once, then answers the same bytes from the cache with an equal model", async () => {
    const first = await validateRepositoryCached(root, options());
    const second = await validateRepositoryCached(root, options());
    expect(calls).toBe(1);
    expect(first.model).toBeDefined();
    expect(second).toStrictEqual(first);
  });

  it("validates again after any byte of a tier file changes, and after a new build", async () => {
    await validateRepositoryCached(root, options());
    const file = join(root, "environments/dev.yaml");
    await writeFile(file, `${await readFile(file, "utf8")}# a comment\n`);
    await validateRepositoryCached(root, options());
    expect(calls).toBe(2);
    await validateRepositoryCached(root, options("build-b"));
    expect(calls).toBe(3);
  });

  it("validates again when a tier file is added or removed", async () => {
    await validateRepositoryCached(root, options());
    await rm(join(root, "environments/prod.yaml"));
    const without = await validateRepositoryCached(root, options());
    expect(calls).toBe(2);
    expect(without.problems.length).toBeGreaterThan(0); // staging was promoted into by prod
  });

  it("remembers problems too, and loadModelCached throws them as a ConfigError", async () => {
    const file = join(root, "environments/dev.yaml");
    await writeFile(file, `${await readFile(file, "utf8")}no_such_key: 1\n`);
    await expect(loadModelCached(root, options())).rejects.toThrow(/no_such_key/);
    await expect(loadModelCached(root, options())).rejects.toThrow(/no_such_key/);
    expect(calls).toBe(1);
  });

  it("reads a torn, edited or foreign entry as a miss and replaces it", async () => {
    const good = await validateRepositoryCached(root, options());
    const path = modelCacheFile(root);
    const entry = JSON.parse(await readFile(path, "utf8"));
    const variants = [
      (await readFile(path, "utf8")).slice(0, 100), // torn write
      JSON.stringify({ ...entry, result: entry.result.replace('"dev"', '"xxx"') }), // edited
      JSON.stringify({ ...entry, version: 0 }), // an older format
      "[]",
    ];
    for (const text of variants) {
      await writeFile(path, text);
      expect(await validateRepositoryCached(root, options())).toStrictEqual(good);
    }
    expect(calls).toBe(1 + variants.length);
    await validateRepositoryCached(root, options());
    expect(calls).toBe(1 + variants.length); // the last miss wrote a good entry again
  });

  it("never uses the cache without a build stamp (sources run unbundled, as here)", async () => {
    expect(runningBuildStamp).toBeUndefined();
    await validateRepositoryCached(root, { stamp: undefined, validate: counting });
    await validateRepositoryCached(root, { stamp: undefined, validate: counting });
    expect(calls).toBe(2);
  });

  it("still answers when the cache cannot be written (read-only checkout)", async () => {
    const result = await validateRepositoryCached(root, {
      ...options(),
      file: join(root, "environments/dev.yaml", "environment-model.json"), // under a file: ENOTDIR
    });
    expect(result.model).toBeDefined();
  });
});
