/**
 * Parses one YAML file into a plain value plus an origin tree: for every key path, the file,
 * line and column of the key and of its value. Pure: it is handed the text, never reads it.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import { parseYamlDocuments } from "../yaml.ts";
import { type Problem, rules, yamlReadProblem } from "./problems.ts";

export interface Position {
  line: number;
  column: number;
}

/** Where one value was written. */
export interface Origin {
  file: string;
  /** Start of the value (for a mapping or list: its first entry). */
  at: Position;
  /** Start of the key naming this value, when it has one. */
  key?: Position;
}

/** Origins of a value and, for mappings and lists, of each entry by key or index. */
export interface OriginTree {
  origin: Origin;
  children?: Map<string, OriginTree>;
}

/** A value together with where each of its parts was written. */
export interface Located {
  value: unknown;
  origin: OriginTree;
}

export interface ParsedSource {
  file: string;
  /** Absent when the file has a syntax error. */
  located?: Located;
  problems: Problem[];
}

/** Parses `text` (the contents of `file`, a repository-relative path) with locations. */
export function parseSource(file: string, text: string): ParsedSource {
  // Bounded like every YAML read (core/yaml.ts): size, and how far aliases may expand.
  const parsed = parseYamlDocuments(file, text, { uniqueKeys: true, merge: true });
  if (!parsed.ok) {
    return {
      file,
      problems: parsed.problems.map((problem) =>
        yamlReadProblem(
          problem,
          problem.kind === "syntax"
            ? `YAML syntax error: ${lowerFirst(problem.message)}`
            : `YAML input refused: ${problem.message}`,
        ),
      ),
    };
  }
  const { lineCounter } = parsed.value;
  const position = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const [first, extra] = parsed.value.documents;
  const doc = first!;
  if (extra) {
    return {
      file,
      problems: [
        {
          file,
          ...position(extra.range[0]),
          path: "",
          message: "YAML syntax error: a tier file holds one document; remove the second `---`",
          rule: rules.yamlSyntax,
        },
      ],
    };
  }

  const seen = new Set<Node>();
  const problems: Problem[] = [];
  const convert = (node: unknown, fallback: Position, key?: Position): Located => {
    if (isAlias(node)) {
      const target = node.resolve(doc);
      const at = node.range ? position(node.range[0]) : fallback;
      if (target === undefined) {
        problems.push({
          file,
          ...at,
          path: "",
          message: `YAML alias *${node.source} refers to no anchor &${node.source} in this file (anchors do not reach across files)`,
          rule: rules.yamlSyntax,
        });
      }
      return convert(target, at, key);
    }
    const at = isNodeWithRange(node) ? position(node.range[0]) : fallback;
    const origin: Origin = key ? { file, at, key } : { file, at };
    if (isMap(node)) {
      // A cyclic alias cannot be represented as plain data; cut it instead of looping.
      if (seen.has(node)) return { value: {}, origin: { origin } };
      seen.add(node);
      const value: Record<string, unknown> = {};
      const children = new Map<string, OriginTree>();
      // YAML merge keys (`<<: *anchor` or `<<: [*a, *b]`) first: explicit keys then override
      // them, and among merged mappings the first listed wins, as YAML 1.1 defines.
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key) || typeof pair.key.value !== "symbol") continue;
        const merged = convert(pair.value, at);
        const sources = Array.isArray(merged.value)
          ? merged.value.map((v, i) => ({
              value: v,
              origin: merged.origin.children?.get(String(i)),
            }))
          : [merged];
        for (const source of sources) {
          if (
            typeof source.value !== "object" ||
            source.value === null ||
            Array.isArray(source.value)
          ) {
            continue;
          }
          for (const [k, v] of Object.entries(source.value)) {
            if (k in value) continue;
            value[k] = v;
            const child = source.origin?.children?.get(k);
            if (child) children.set(k, child);
          }
        }
      }
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (isScalar(pair.key) && typeof pair.key.value === "symbol") continue;
        const keyNode = pair.key;
        const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const keyAt = isNodeWithRange(keyNode) ? position(keyNode.range[0]) : at;
        const child = convert(pair.value, keyAt, keyAt);
        value[name] = child.value;
        children.set(name, child.origin);
      }
      seen.delete(node);
      return { value, origin: { origin, children } };
    }
    if (isSeq(node)) {
      const value: unknown[] = [];
      const children = new Map<string, OriginTree>();
      node.items.forEach((item, index) => {
        const child = convert(item, at);
        value.push(child.value);
        children.set(String(index), child.origin);
      });
      return { value, origin: { origin, children } };
    }
    if (isScalar(node)) return { value: node.value, origin: { origin } };
    // `key:` with nothing after it is a null value written at the key.
    return { value: null, origin: { origin } };
  };

  const start = { line: 1, column: 1 };
  const located = convert(doc.contents, start);
  return problems.length > 0 ? { file, problems } : { file, located, problems };
}

function isNodeWithRange(node: unknown): node is { range: [number, number, number] } {
  return (
    typeof node === "object" && node !== null && Array.isArray((node as { range?: unknown }).range)
  );
}

function lowerFirst(text: string): string {
  return text.length > 0 ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/** The origin recorded for `path`, or that of its deepest recorded ancestor. */
export function originAt(
  tree: OriginTree,
  path: readonly PropertyKey[],
): {
  origin: Origin;
  exact: boolean;
} {
  let node = tree;
  for (const segment of path) {
    const next = node.children?.get(String(segment));
    if (!next) return { origin: node.origin, exact: false };
    node = next;
  }
  return { origin: node.origin, exact: true };
}
