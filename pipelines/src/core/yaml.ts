/**
 * The one way the project parses YAML (tier files, records under releases/, overlays, compose
 * files, rendered manifests): every read goes through here, so every read is bounded the same.
 *
 * Two limits, both from core/limits.ts: the file's size, checked before parsing, and how far
 * aliases expand. The `yaml` package bounds expansion only inside `toJS` (its `maxAliasCount`
 * option, https://eemeli.org/yaml/#options) and without a position; callers that walk the
 * document themselves (environment/source.ts) would not be protected. So the expansion is also
 * measured here on the node tree, in one pass memoised per anchor, and the first alias that
 * pushes it over the limit is reported at its `file:line:col`.
 */
import {
  type Document,
  type DocumentOptions,
  isAlias,
  isCollection,
  isPair,
  LineCounter,
  type Node,
  type ParseOptions,
  parseAllDocuments,
  parseDocument,
  type SchemaOptions,
  type ToJSOptions,
} from "yaml";
import { firstLine, TiersError } from "./errors.ts";
import { inputLimit, inputVariable } from "./limits.ts";

/** A YAML input refused: not YAML, too big, or expanding past the limit. Located. */
export interface YamlProblem {
  kind: "syntax" | "too-large" | "alias-expansion";
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `file:line:col` */
export function yamlWhere(problem: YamlProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}`;
}

export type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

export interface ParsedYaml {
  documents: Document.Parsed[];
  lineCounter: LineCounter;
}

/**
 * Parses every document of `text` (the contents of `file`) within the limits. Returns the
 * documents, or every problem found, each located; never throws on bad input.
 */
export function parseYamlDocuments(
  file: string,
  text: string,
  options: YamlOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): { ok: true; value: ParsedYaml } | { ok: false; problems: YamlProblem[] } {
  const maxBytes = inputLimit("yaml-bytes", env);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) {
    return {
      ok: false,
      problems: [
        {
          kind: "too-large",
          file,
          line: 1,
          column: 1,
          message: `file is ${bytes} bytes, over the ${maxBytes}-byte limit for YAML input (${inputVariable("yaml-bytes")})`,
        },
      ],
    };
  }
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { ...options, lineCounter, prettyErrors: false });
  // An empty text has no document; it reads as one empty document (null), as `parse("")` does.
  const list =
    Array.isArray(documents) && documents.length > 0
      ? documents
      : [parseDocument("", { ...options, lineCounter: new LineCounter() })];
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problems: YamlProblem[] = [];
  for (const doc of list) {
    for (const error of doc.errors) {
      problems.push({
        kind: "syntax",
        file,
        ...at(error.pos[0]),
        message: firstLine(error.message),
      });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const maxNodes = inputLimit("yaml-nodes", env);
  let total = 0;
  const aliasName = (node: Node) => (isAlias(node) ? `alias *${node.source}` : "a collection");
  for (const doc of list) {
    const over = expansionOverflow(doc, maxNodes - total);
    if (over.alias) {
      const offset = over.alias.range?.[0] ?? 0;
      problems.push({
        kind: "alias-expansion",
        file,
        ...at(offset),
        message: `${aliasName(over.alias)} expands the document past ${maxNodes} nodes; YAML aliases may not multiply content like this (${inputVariable("yaml-nodes")})`,
      });
      return { ok: false, problems };
    }
    total += over.size;
  }
  return { ok: true, value: { documents: list, lineCounter } };
}

/**
 * The node count of `doc` with every alias replaced by its target, or the first alias at which
 * the count passes `budget`. Memoised per node, so a bomb is measured in time linear in its text.
 */
function expansionOverflow(doc: Document, budget: number): { size: number; alias?: Node } {
  const sizes = new Map<unknown, number>();
  let overflow: Node | undefined;
  const visiting = new Set<unknown>();
  const sizeOf = (node: unknown): number => {
    if (overflow) return 0;
    if (node === null || node === undefined) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let size = 1;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      // A cyclic alias is reported by the reader that converts it; count it once here.
      size = target && !visiting.has(target) ? sizeOf(target) : 1;
      if (size > budget && !overflow) overflow = node;
    } else if (isCollection(node)) {
      visiting.add(node);
      for (const item of node.items) {
        size += isPair(item) ? sizeOf(item.key) + sizeOf(item.value) : sizeOf(item);
        if (size > budget) {
          overflow ??= firstAlias(item) ?? firstAlias(node) ?? (node as Node);
          break;
        }
      }
      visiting.delete(node);
    }
    sizes.set(node, size);
    return size;
  };
  const size = sizeOf(doc.contents);
  return overflow ? { size, alias: overflow } : { size };
}

function firstAlias(node: unknown): Node | undefined {
  if (isAlias(node)) return node;
  if (!isCollection(node)) return undefined;
  for (const item of node.items) {
    const found = isPair(item)
      ? (firstAlias(item.key) ?? firstAlias(item.value))
      : firstAlias(item);
    if (found) return found;
  }
  return undefined;
}

/** Exactly one document (as `parseDocument` reads), within the limits; a located error else. */
export function parseYamlDocument(
  file: string,
  text: string,
  options: YamlOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): { doc: Document.Parsed; lineCounter: LineCounter } {
  const parsed = parseYamlDocuments(file, text, options, env);
  if (!parsed.ok) throw yamlError(parsed.problems);
  const [doc, extra] = parsed.value.documents;
  if (extra) {
    const { line, col } = parsed.value.lineCounter.linePos(extra.range[0]);
    throw new TiersError("expected one YAML document, found more than one", {
      where: `${file}:${line}:${col}`,
    });
  }
  return { doc: doc!, lineCounter: parsed.value.lineCounter };
}

/** The plain value of a one-document YAML file, within the limits; a located error else. */
export function parseYaml(
  file: string,
  text: string,
  options: YamlOptions & ToJSOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): unknown {
  const { doc } = parseYamlDocument(file, text, options, env);
  return toPlain(doc, env);
}

/** `doc.toJS` with the package's own alias cap from the limits table, as a second fence. */
export function toPlain(doc: Document, env: NodeJS.ProcessEnv = process.env): unknown {
  return doc.toJS({ maxAliasCount: inputLimit("yaml-aliases", env) });
}

/** The error for refused YAML: the first problem's place, every problem in the message. */
export function yamlError(problems: readonly YamlProblem[]): TiersError {
  const first = problems[0]!;
  const what =
    first.kind === "syntax"
      ? "is not valid YAML"
      : first.kind === "too-large"
        ? "is too large"
        : "expands too far";
  return new TiersError(`${first.file} ${what}: ${first.message}`, {
    where: yamlWhere(first),
    hint:
      first.kind === "syntax"
        ? "fix the file (or restore it from git) and run again"
        : "the file is not what tiers writes or reads; restore it from git",
  });
}
