/**
 * Reading a repository's files where "absent" and "could not be read" must stay apart: a file
 * or directory that does not exist is absent, anything else that stops the read is an error
 * naming it. The repository reader (repository-reader.ts) and git-head.ts read through these.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { TiersError } from "../../core/errors.ts";

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
