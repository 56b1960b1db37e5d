/**
 * Which tier each CI job acts on, read from a CI template's text: the protected environment it
 * runs in (GitHub `environment: <name>` or `{ name }`, GitLab `environment: { name }`), and
 * every `--env <tier>` of its `dagger call`s. Pure; located at the job's key line.
 */
import { isMap, isScalar, type YAMLMap } from "yaml";
import { type Problem, yamlReadProblem } from "../environment/problems.ts";
import { parseYamlDocuments } from "../yaml.ts";
import type { CiJob } from "./consistency.ts";

/** `--env <tier>` words in a dagger call. */
function envFlags(text: string): string[] {
  return [...text.matchAll(/--env[ =]"?([a-z][a-z0-9-]*)"?/g)].map((m) => m[1]!);
}

/**
 * Jobs of a GitHub workflow (`jobs:`) or a GitLab file (top-level mappings) that name a tier.
 * A file that is not YAML, or breaks the YAML limits, is a located problem: its jobs could not
 * be read, so they are never taken as matching the chain.
 */
export function ciJobsOf(file: string, text: string): { jobs: CiJob[]; problems: Problem[] } {
  // Bounded like every YAML read (core/yaml.ts).
  const parsed = parseYamlDocuments(file, text, { merge: true });
  if (!parsed.ok) {
    return {
      jobs: [],
      problems: parsed.problems.map((problem) =>
        yamlReadProblem(problem, `cannot read the CI jobs: ${problem.message}`),
      ),
    };
  }
  const { lineCounter } = parsed.value;
  const doc = parsed.value.documents[0]!;
  if (!isMap(doc.contents)) return { jobs: [], problems: [] };
  const github = doc.has("jobs") && isMap(doc.get("jobs", true));
  const container = (github ? doc.get("jobs", true) : doc.contents) as YAMLMap;
  const jobs: CiJob[] = [];
  for (const pair of container.items) {
    if (!isScalar(pair.key) || !isMap(pair.value)) continue;
    const job = String(pair.key.value);
    if (job.startsWith(".")) continue;
    const line = lineCounter.linePos(pair.key.range?.[0] ?? 0).line;
    const value = pair.value.toJSON() as Record<string, unknown>;
    const environment =
      typeof value.environment === "string"
        ? value.environment
        : typeof (value.environment as { name?: unknown } | undefined)?.name === "string"
          ? String((value.environment as { name: string }).name)
          : undefined;
    const calls = JSON.stringify(value.steps ?? value.script ?? []);
    const tiers = new Set(envFlags(calls));
    if (environment) tiers.add(environment);
    for (const tier of tiers) {
      jobs.push({ file, line, job, tier, protectedEnvironment: tier === environment });
    }
  }
  return { jobs, problems: [] };
}
