/**
 * Turns zod issues on a merged tier into located problems: the message says what is wrong,
 * what was expected and what was found; the location is the original YAML the value came from.
 */
import type { z } from "zod";
import { isMapping } from "./merge.ts";
import { type Problem, rules } from "./problems.ts";
import { type OriginTree, originAt } from "./source.ts";
import { closest, didYouMean } from "./suggest.ts";

type Issue = z.core.$ZodIssue;
// zod keeps a schema's structure in `_zod.def`; only the few fields walked here are typed.
interface SchemaDef {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  valueType?: unknown;
  options?: unknown[];
  element?: unknown;
}

function defOf(schema: unknown): SchemaDef | undefined {
  return (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;
}

/** Schemas that a value at `path` may match (several under a union). */
function schemasAt(schema: unknown, path: readonly PropertyKey[]): unknown[] {
  let current: unknown[] = [schema];
  const unwrap = (s: unknown): unknown[] => {
    const def = defOf(s);
    if (!def) return [];
    if (def.type === "optional" || def.type === "nullable" || def.type === "default") {
      return unwrap(def.innerType);
    }
    if (def.type === "pipe") return unwrap(def.in);
    if (def.type === "union") return (def.options ?? []).flatMap(unwrap);
    return [s];
  };
  current = current.flatMap(unwrap);
  for (const segment of path) {
    const next: unknown[] = [];
    for (const s of current) {
      const def = defOf(s)!;
      if (def.type === "object" && def.shape && String(segment) in def.shape) {
        next.push(def.shape[String(segment)]);
      } else if (def.type === "record") next.push(def.valueType);
      else if (def.type === "array") next.push(def.element);
    }
    current = next.flatMap(unwrap);
  }
  return current;
}

/** The keys a mapping at `path` may have, for "did you mean". */
export function knownKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(schema, path)) {
    const def = defOf(s);
    if (def?.type === "object" && def.shape) for (const k of Object.keys(def.shape)) keys.add(k);
  }
  return [...keys];
}

export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isMapping(current)) current = current[String(segment)];
    else return undefined;
  }
  return current;
}

/** `services.api.ports.http`; list indexes as `[0]`. */
export function pathText(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number" || /^\d+$/.test(String(segment)))
      text += `[${String(segment)}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** How a user would name what they wrote: `the string "3"`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (isMapping(value)) return "a mapping";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `the number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  return typeof value;
}

const expectedWords: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  null: "null",
};

export interface IssueContext {
  schema: unknown;
  value: unknown;
  origins: OriginTree;
  tier: string;
}

/** A problem plus, for an unknown key, the path of the key it most likely meant. */
export type IssueProblem = Problem & { suggestion?: string };

/** Located problems for one zod issue (an unknown-keys issue yields one per key). */
export function problemsFromIssue(issue: Issue, context: IssueContext): IssueProblem[] {
  const path = issue.path;
  const here = pathText(path);
  const { origin, exact } = originAt(context.origins, path);
  const located = (
    at: { line: number; column: number },
    file: string,
    rule: Problem["rule"],
    message: string,
    problemPath = here,
  ): IssueProblem => ({ file, ...at, path: problemPath, message, rule });
  const actual = valueAt(context.value, path);

  // A key nobody wrote: whatever zod expected of it, the fix is to add it.
  if (
    actual === undefined &&
    !exact &&
    (issue.code === "invalid_type" || issue.code === "invalid_value")
  ) {
    const expected =
      issue.code === "invalid_type"
        ? (expectedWords[issue.expected] ?? issue.expected)
        : `one of ${issue.values.map(String).join(", ")}`;
    const parent = pathText(path.slice(0, -1));
    const key = String(path[path.length - 1] ?? "");
    const inside = parent === "" ? "" : ` in ${parent}`;
    const marker =
      key === "marker"
        ? `; tier "${context.tier}" has no default marker, so set one, e.g. marker: "◆"`
        : key === "tier" && path.length === 1
          ? `; add tier: ${context.tier}, the name of the file`
          : "";
    return [
      located(
        origin.at,
        origin.file,
        rules.required,
        `missing required key "${key}"${inside} (expected ${expected})${marker}`,
      ),
    ];
  }

  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(context.schema, path);
      return issue.keys.map((key) => {
        const keyPath = [...path, key];
        const found = originAt(context.origins, keyPath).origin;
        const where = here === "" ? "at the top level" : `in ${here}`;
        const expected = known.length > 0 ? `; expected one of: ${known.join(", ")}` : "";
        const hint = didYouMean(key, known);
        const meant = closest(key, known);
        const problem = located(
          found.key ?? found.at,
          found.file,
          rules.unknownKey,
          `unknown key "${key}" ${where}${hint || expected}`,
          pathText(keyPath),
        );
        return meant === undefined
          ? problem
          : { ...problem, suggestion: pathText([...path, meant]) };
      });
    }
    case "invalid_type": {
      const expected = expectedWords[issue.expected] ?? issue.expected;
      return [
        located(
          origin.at,
          origin.file,
          rules.type,
          `${here || "top level"}: expected ${expected}, got ${describeValue(actual)}`,
        ),
      ];
    }
    case "invalid_value": {
      const options = issue.values.map((v) => String(v));
      const hint = typeof actual === "string" ? didYouMean(actual, options) : "";
      return [
        located(
          origin.at,
          origin.file,
          rules.invalidValue,
          `${here}: expected one of ${options.join(", ")}, got ${describeValue(actual)}${hint}`,
        ),
      ];
    }
    case "invalid_union": {
      // Report the branch the user most plausibly meant: the one with the fewest issues
      // that at least agrees on the shape (mapping versus scalar).
      const branches = issue.errors.filter(
        (errors) => !errors.some((e) => e.code === "invalid_type" && e.path.length === 0),
      );
      const best = [...branches].sort((a, b) => a.length - b.length)[0];
      if (best) {
        return best.flatMap((inner) =>
          problemsFromIssue({ ...inner, path: [...path, ...inner.path] } as Issue, context),
        );
      }
      return [
        located(
          origin.at,
          origin.file,
          rules.type,
          `${here}: got ${describeValue(actual)}, which matches none of the accepted forms`,
        ),
      ];
    }
    case "invalid_key": {
      const key = String(path[path.length - 1]);
      const keyOrigin = origin.key ?? origin.at;
      const why = issue.issues[0]?.message ?? "invalid key";
      return [
        located(
          keyOrigin,
          origin.file,
          rules.invalidValue,
          `key "${key}" in ${pathText(path.slice(0, -1))}: ${why}`,
        ),
      ];
    }
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? "at least" : "at most";
      const what =
        issue.origin === "string" ? " characters" : issue.origin === "array" ? " entries" : "";
      return [
        located(
          origin.at,
          origin.file,
          rules.invalidValue,
          `${here}: expected ${bound} ${String(issue.code === "too_small" ? issue.minimum : issue.maximum)}${what}, got ${describeValue(actual)}`,
        ),
      ];
    }
    case "invalid_format": {
      const expected =
        issue.format === "regex"
          ? issue.message
          : issue.format === "url"
            ? "expected a URL"
            : `expected ${issue.format}`;
      return [
        located(
          origin.at,
          origin.file,
          rules.invalidValue,
          `${here}: ${expected}, got ${describeValue(actual)}`,
        ),
      ];
    }
    default:
      return [
        located(
          origin.at,
          origin.file,
          rules.invalidValue,
          here === "" ? issue.message : `${here}: ${issue.message}`,
        ),
      ];
  }
}
