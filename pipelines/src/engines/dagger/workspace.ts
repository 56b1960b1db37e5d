/**
 * How the repository reaches the Dagger functions, and how core code (which reads files from a
 * path) gets to read it.
 *
 * The module takes the repository as a `Directory` with an ignore list, so dependencies, build
 * output and machine-local state never enter the engine's cache keys; it takes the git history
 * separately as a `GitRepository`, so a new commit does not invalidate every build step that
 * only needs the source tree. Core loaders (environment model, overlays, records) are pure
 * functions of files, so the function exports the filtered directory into its own runtime
 * container and hands them that path — the same loaders the CLI runs on the host.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Directory } from "@dagger.io/dagger";

/**
 * Paths kept out of the repository argument. `.git` is out on purpose: the commit comes from
 * the separate GitRepository argument (or `--commit`), so builds stay cached across commits
 * that do not touch their inputs. `.tiers/` holds machine-local settings and caches.
 */
export const repositoryIgnore = [
  "**/node_modules",
  "**/dist",
  "**/coverage",
  "**/*.log",
  "**/.env",
  ".git",
  ".tiers",
  "pipelines/sdk",
] as const;

/** Exports the filtered repository into the runtime container; returns the local path. */
export async function materialize(source: Directory): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tiers-workspace-"));
  await source.export(dir);
  return dir;
}
