/**
 * The only I/O of the environment model: reading `environments/*.yaml` under a repository
 * root. Everything else is pure and takes the texts this returns.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { environmentsDir } from "./files.ts";
import type { SourceFile } from "./model.ts";

/**
 * Reads every `environments/*.yaml` file (and any `*.yml`, so validation can say to rename it
 * rather than ignore it); file names in the result are repository-relative.
 */
export async function readEnvironmentSources(root: string): Promise<SourceFile[]> {
  let names: string[];
  try {
    names = await readdir(join(root, environmentsDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const yamlFiles = names.filter((n) => n.endsWith(".yaml") || n.endsWith(".yml")).sort();
  return Promise.all(
    yamlFiles.map(async (name) => ({
      file: `${environmentsDir}/${name}`,
      text: await readFile(join(root, environmentsDir, name), "utf8"),
    })),
  );
}
