/**
 * From file texts to a validated environment model. Pure: the caller hands in
 * `{ file, text }` pairs (see load.ts for reading them from a repository), so tests feed
 * strings and every problem is located in the original file.
 */
import { defaultMarkers } from "../markers.ts";
import { type ChainLink, promotionChain } from "./chain.ts";
import { describeValue, type IssueProblem, problemsFromIssue } from "./issues.ts";
import { deepMerge, isMapping } from "./merge.ts";
import { checkChainPolicies, checkPolicies, type UncheckedTier } from "./policies.ts";
import { type Problem, rules, sortProblems } from "./problems.ts";
import { productionTier } from "./roles.ts";
import { baseOnlyKeys, type Tier, tierOnlyKeys, tierSchema } from "./schema.ts";
import { type Located, type OriginTree, originAt, parseSource } from "./source.ts";

/** The validated environments of a repository. */
export interface EnvironmentModel {
  project: string;
  /** Tier names in promotion order, derived from each tier's `promotion.from`. */
  order: string[];
  /** Each tier merged over the base and validated. */
  tiers: Record<string, Tier>;
}

/** One environment file's text, named by its path relative to the repository root. */
export interface SourceFile {
  file: string;
  text: string;
}

export interface ValidationResult {
  /** Present only when there are no problems at all. */
  model?: EnvironmentModel;
  problems: Problem[];
}

import { baseFile, environmentsDir } from "./files.ts";

export { baseFile, environmentsDir } from "./files.ts";

/** The tier a file declares by its name: `environments/prod.yaml` → `prod`. */
export function tierOfFile(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.yaml$/, "");
}

/** Validates the base file plus every tier file and derives the promotion order. */
export function validateSources(sources: readonly SourceFile[]): ValidationResult {
  const problems: Problem[] = [];
  // A `.yml` file would silently not be a tier; say so instead of ignoring it.
  for (const source of sources.filter((s) => !s.file.endsWith(".yaml"))) {
    problems.push({
      ...fileProblem(
        source.file,
        `environment files end in .yaml; rename ${source.file} to ${source.file.replace(/\.[^./]+$/, ".yaml")}`,
      ),
      rule: rules.fileName,
    });
  }
  const parsed = sources
    .filter((s) => s.file.endsWith(".yaml"))
    .map((s) => parseSource(s.file, s.text));
  for (const p of parsed) problems.push(...p.problems);

  const base = parsed.find((p) => p.file === baseFile);
  const tierFiles = parsed
    .filter((p) => p.file !== baseFile)
    .sort((a, b) => a.file.localeCompare(b.file));
  if (!base) {
    problems.push(fileProblem(baseFile, `missing ${baseFile}: it holds what every tier shares`));
  }
  if (tierFiles.length === 0) {
    problems.push(
      fileProblem(
        `${environmentsDir}/`,
        `no tier files in ${environmentsDir}/: add one <tier>.yaml per tier, e.g. dev.yaml`,
      ),
    );
  }

  let baseLocated: Located | undefined = base?.located;
  if (baseLocated) {
    if (baseLocated.value === null) baseLocated = { ...baseLocated, value: {} };
    if (!isMapping(baseLocated.value)) {
      problems.push(topLevelProblem(baseFile, baseLocated));
      baseLocated = undefined;
    } else {
      for (const key of tierOnlyKeys) {
        if (!(key in baseLocated.value)) continue;
        const { origin } = originAt(baseLocated.origin, [key]);
        problems.push({
          file: baseFile,
          ...(origin.key ?? origin.at),
          path: key,
          message: `"${key}" describes one tier, so it belongs in each tier file, not in ${baseFile}`,
          rule: rules.tierKeyInBase,
        });
      }
    }
  }

  const tiers: Record<string, Tier> = {};
  const origins: Record<string, OriginTree> = {};
  const links: ChainLink[] = [];
  // The production tier is the end of the chain, known before any tier's policies run. While
  // the chain is broken there is no end to hold to them; the chain's own problem fails first.
  const production = productionTier(
    promotionChain(
      preliminaryLinks(tierFiles),
      tierFiles.map((f) => tierOfFile(f.file)),
    ).order ?? [],
  );
  for (const source of tierFiles) {
    const name = tierOfFile(source.file);
    let located = source.located;
    if (!located) continue;
    if (located.value === null) located = { ...located, value: {} };
    if (!isMapping(located.value)) {
      problems.push(topLevelProblem(source.file, located));
      continue;
    }
    const own = located.value;
    for (const key of baseOnlyKeys) {
      if (!(key in own)) continue;
      const { origin } = originAt(located.origin, [key]);
      problems.push({
        file: source.file,
        ...(origin.key ?? origin.at),
        path: key,
        message: `"${key}" is the same for every tier (resource names and images derive from it), so set it in ${baseFile} only`,
        rule: rules.baseKeyInTier,
        tier: name,
      });
    }

    if (own.tier !== undefined && own.tier !== name) {
      const { origin } = originAt(located.origin, ["tier"]);
      problems.push({
        file: source.file,
        ...origin.at,
        path: "tier",
        message: `tier is ${describeValue(own.tier)} but the file is ${source.file}; a tier file is named after its tier, so set tier: ${name} or rename the file`,
        rule: rules.tierName,
        tier: name,
      });
    }
    const from = isMapping(own.promotion) ? own.promotion.from : undefined;
    if (typeof from === "string" || from === null) {
      links.push({
        tier: name,
        from,
        origin: originAt(located.origin, ["promotion", "from"]).origin,
      });
    }

    if (!baseLocated) continue;
    const merged = deepMerge(baseLocated, located);
    const value = merged.value as Record<string, unknown>;
    // The marker defaults from core/markers.ts; a tier without a default must declare one.
    if (value.marker === undefined && defaultMarkers[name]) {
      value.marker = defaultMarkers[name];
    }
    const result = tierSchema.safeParse(value);
    const policyProblems = checkPolicies(name, value as UncheckedTier, merged.origin, {
      production: production === name,
    });
    problems.push(...policyProblems);
    if (!result.success) {
      // An unknown flag lacks base.yaml's default and description; its policy problem says so.
      const unknownFlags = policyProblems
        .filter((p) => p.rule === rules.unknownFlag)
        .map((p) => `${p.path}.`);
      const found = result.error.issues
        .flatMap((issue) =>
          problemsFromIssue(issue, {
            schema: tierSchema,
            value,
            origins: merged.origin,
            tier: name,
          }),
        )
        .filter((p) => !unknownFlags.some((prefix) => `${p.path}.`.startsWith(prefix)));
      problems.push(...withoutEchoes(found).map((p) => attributeTier(p, name)));
      continue;
    }
    tiers[name] = result.data;
    origins[name] = merged.origin;
  }

  const chain = promotionChain(
    links,
    tierFiles.map((f) => tierOfFile(f.file)),
  );
  problems.push(...chain.problems);
  if (chain.order?.every((name) => tiers[name])) {
    problems.push(
      ...checkChainPolicies(
        chain.order,
        Object.fromEntries(
          chain.order.map((name) => [name, { tier: tiers[name]!, origins: origins[name]! }]),
        ),
      ),
    );
  }

  // Every problem located in a tier file is about that tier (syntax errors included).
  const sorted = sortProblems(
    problems.map((p) =>
      p.tier === undefined &&
      p.file !== baseFile &&
      p.file.endsWith(".yaml") &&
      p.file !== `${environmentsDir}/`
        ? { ...p, tier: tierOfFile(p.file) }
        : p,
    ),
  );
  if (sorted.length > 0 || !chain.order) return { problems: sorted };
  const project = tiers[chain.order[0]!]!.project;
  return { model: { project, order: chain.order, tiers }, problems: [] };
}

/**
 * A misspelt key yields two issues: the unknown key and the missing key it was meant to be.
 * The first already says "did you mean", so the second is only noise and is dropped.
 */
function withoutEchoes(problems: IssueProblem[]): Problem[] {
  const meant = new Set(problems.map((p) => p.suggestion).filter((s) => s !== undefined));
  return problems
    .filter((p) => !(p.rule === rules.required && meant.has(p.path)))
    .map(({ suggestion: _, ...p }) => p);
}

/** Problems found in a tier file belong to that tier; those in base.yaml to every tier. */
function attributeTier(problem: Problem, tier: string): Problem {
  return problem.file === baseFile ? problem : { ...problem, tier };
}

function fileProblem(file: string, message: string): Problem {
  return { file, line: 1, column: 1, path: "", message, rule: rules.missingFile };
}

function topLevelProblem(file: string, located: Located): Problem {
  const origin: OriginTree = located.origin;
  return {
    file,
    ...origin.origin.at,
    path: "",
    message: `expected a mapping of keys at the top of ${file}, got ${describeValue(located.value)}`,
    rule: rules.type,
  };
}

/** Each readable tier file's `promotion.from`, before any tier is merged or checked. */
function preliminaryLinks(tierFiles: readonly { file: string; located?: { value: unknown } }[]) {
  const links: ChainLink[] = [];
  for (const source of tierFiles) {
    const value = source.located?.value;
    const promotion = isMapping(value) ? value.promotion : undefined;
    const from = isMapping(promotion) ? promotion.from : undefined;
    if (typeof from === "string" || from === null) {
      links.push({
        tier: tierOfFile(source.file),
        from,
        origin: { file: source.file, at: { line: 1, column: 1 } },
      });
    }
  }
  return links;
}
