/**
 * A throw-away copy of the fixture repository (test/fixtures/repo, not the shipped sample: see
 * test/unit/sample.test.ts) holding what `tiers validate` checks: the tier files and every file
 * the model names (overlays, compose files, tfvars, Dockerfiles, CI templates).
 */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const fixtureRepo = resolve(import.meta.dirname, "../fixtures/repo");

/** A new temporary directory holding that copy; the caller removes it. */
export function validatableFixtureCopy(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const path of ["environments", "k8s", "compose", "terraform/live", "services", ".github"]) {
    cpSync(join(fixtureRepo, path), join(dir, path), { recursive: true });
  }
  cpSync(join(fixtureRepo, ".gitlab-ci.yml"), join(dir, ".gitlab-ci.yml"));
  return dir;
}
