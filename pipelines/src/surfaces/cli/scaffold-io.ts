/**
 * The I/O of `tiers add`: a snapshot of the files scaffolding may read or change, and the
 * all-or-nothing write of what it computed. Every new text is first written next to its
 * target (`<file>.tiers-new`), and only once all of them are on disk is each renamed over its
 * target, so a refusal or a failed write leaves the repository as it was.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Reporter } from "../../core/log.ts";
import { pipelineMarker } from "../../core/markers.ts";
import type { Writes } from "../../core/scaffold/files.ts";

/** Directories (and files) whose text scaffolding reads, relative to the root. */
const scanned = [
  "environments",
  "docs/environments",
  "docs/services.md",
  "k8s",
  "compose",
  "terraform/live",
  "services",
  "templates",
  ".github/workflows",
  ".gitlab-ci.yml",
];

async function walk(root: string, path: string, out: Map<string, string>): Promise<void> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(join(root, path), { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code !== "ENOTDIR") throw error;
    out.set(path, await readFile(join(root, path), "utf8"));
    return;
  }
  for (const entry of entries) {
    if (entry.name === "node_modules" || entry.name.startsWith(".tiers")) continue;
    const child = `${path}/${entry.name}`;
    if (entry.isDirectory()) await walk(root, child, out);
    else if (entry.isFile()) out.set(child, await readFile(join(root, child), "utf8"));
  }
}

/** The texts of every scanned file under `root`. */
export async function snapshotOf(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const path of scanned) await walk(root, path, out);
  return out;
}

/** Writes every file or none; prints each path written (or that nothing changed). */
export async function applyWrites(root: string, writes: Writes, reporter: Reporter): Promise<void> {
  if (writes.size === 0) {
    reporter.info(undefined, "nothing to do: the repository already has it", pipelineMarker);
    return;
  }
  const staged: string[] = [];
  try {
    for (const [path, text] of writes) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, `${path}.tiers-new`), text);
      staged.push(path);
    }
  } catch (error) {
    for (const path of staged) await rm(join(root, `${path}.tiers-new`), { force: true });
    throw error;
  }
  for (const path of [...writes.keys()].sort()) {
    await rename(join(root, `${path}.tiers-new`), join(root, path));
    reporter.info(undefined, `wrote ${path}`, pipelineMarker);
  }
}
