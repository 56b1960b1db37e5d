/**
 * A problem found in the environment files, located in the ORIGINAL file a value came from
 * (not the merged result), so an editor can jump straight to the line to fix.
 */
import { TiersError } from "../errors.ts";
import type { YamlProblem } from "../yaml.ts";

/** Rule ids, one per check, so a report can be filtered and each rule documented. */
export const rules = {
  yamlSyntax: "yaml/syntax",
  yamlLimit: "yaml/limit",
  missingFile: "files/missing",
  fileName: "files/name",
  unknownKey: "schema/unknown-key",
  type: "schema/type",
  required: "schema/required",
  invalidValue: "schema/invalid-value",
  tierName: "tier/name-mismatch",
  tierKeyInBase: "tier/key-in-base",
  baseKeyInTier: "tier/key-in-tier-file",
  noDevFeatures: "policy/no-dev-features",
  prodMtls: "policy/prod-mtls",
  prodPersistence: "policy/prod-persistence",
  immutableImage: "policy/immutable-image",
  secretReference: "policy/secret-reference",
  promotionChain: "policy/promotion-chain",
  // The repository against the model (core/repository/consistency.ts).
  overlayMissing: "repository/overlay-missing",
  overlayPin: "repository/overlay-pin",
  overlayOrphan: "repository/overlay-orphan",
  composeMissing: "repository/compose-missing",
  dockerfileMissing: "repository/dockerfile-missing",
  dockerfileTarget: "repository/dockerfile-target",
  tfvarsMissing: "repository/tfvars-missing",
  tfvarsOrphan: "repository/tfvars-orphan",
  ciOrphan: "repository/ci-orphan",
  ciApprovals: "repository/ci-approvals",
  ciDrift: "repository/ci-drift",
  expandContract: "repository/expand-contract",
  admissionPolicy: "repository/admission-policy",
  signingChain: "policy/signing-never-weakens",
  approvalsChain: "policy/approvals-never-weaken",
  lastTierProtected: "policy/last-tier-protected",
  kubernetesGates: "policy/kubernetes-gates",
  tracingSampleRate: "policy/tracing-sample-rate",
  devOnlyFlag: "policy/dev-only-flag",
  unknownFlag: "policy/unknown-flag",
  alertThreshold: "policy/alert-threshold",
} as const;
export type RuleId = (typeof rules)[keyof typeof rules];

export interface Problem {
  /** File the offending value came from, relative to the repository root. */
  file: string;
  /** 1-based line; 0 when `file` is a path that does not exist (nothing to point into). */
  line: number;
  /** 1-based column. */
  column: number;
  /** Dotted key path in the merged tier, e.g. `services.api.replicas`; "" for the file. */
  path: string;
  /** What is wrong and what was expected, as one sentence. */
  message: string;
  rule: RuleId;
  /** The tier the problem was found in, when it is about one tier (policies, tier files). */
  tier?: string;
}

/** `file:line:col: message`: the shape editors and CI annotations parse. */
export function formatProblem(problem: Problem): string {
  if (problem.line === 0) return `${problem.file}: ${problem.message} [${problem.rule}]`;
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.message} [${problem.rule}]`;
}

/** Stable order (file, line, column) and no duplicates, e.g. one base.yaml typo seen by 4 tiers. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique: Problem[] = [];
  for (const p of problems) {
    const key = `${p.file}\0${p.line}\0${p.column}\0${p.rule}\0${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(p);
  }
  return unique.sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.message.localeCompare(b.message),
  );
}

/** The environment configuration is invalid; `problems` lists every located problem. */
export class ConfigError extends TiersError {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`environment configuration has ${count}:\n${problems.map(formatProblem).join("\n")}`, {
      where: "environments/",
      hint: "fix the lines above, then run `tiers validate`",
    });
    this.problems = problems;
  }
}

/** A YAML read the parser refused (core/yaml.ts), as a located problem with its rule. */
export function yamlReadProblem(problem: YamlProblem, message: string): Problem {
  return {
    file: problem.file,
    line: problem.line,
    column: problem.column,
    path: "",
    message,
    rule: problem.kind === "syntax" ? rules.yamlSyntax : rules.yamlLimit,
  };
}
