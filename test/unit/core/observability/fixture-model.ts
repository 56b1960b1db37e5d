import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EnvironmentModel } from "../../../../pipelines/src/core/environment/index.ts";
import { validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import { asSources, repoRoot } from "../environment/fixtures.ts";

const dir = join(repoRoot, "test/fixtures/observability/environments");

/**
 * The observability fixture's tier model (test/fixtures/observability/environments), after
 * `change` edits its files by name; throws with the problems when it does not validate.
 */
export function model(
  change: (files: Record<string, string>) => void = () => {},
): EnvironmentModel {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir)) files[name] = readFileSync(join(dir, name), "utf8");
  change(files);
  const result = validateSources(asSources(files));
  if (!result.model) throw new Error(JSON.stringify(result.problems));
  return result.model;
}
