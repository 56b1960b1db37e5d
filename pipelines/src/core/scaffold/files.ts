/**
 * What scaffolding shares: the files it reads (a snapshot the surface hands in), the files it
 * would write, and the refusal that names why nothing was written. Pure.
 */
import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { spliceBlocks } from "../ci/blocks.ts";
import { type CiVendor, ciFiles, generatedBlocks } from "../ci/tier-jobs.ts";
import type { EnvironmentModel } from "../environment/model.ts";
import { formatProblem } from "../environment/problems.ts";
import { TiersError } from "../errors.ts";

/** Repository-relative path → text, of the files a scaffold reads. */
export type Snapshot = ReadonlyMap<string, string>;

/** Repository-relative path → new text; only files whose text changes are listed. */
export type Writes = Map<string, string>;

/** A scaffold that cannot apply: nothing was written. */
export class ScaffoldRefused extends TiersError {}

export function refuse(message: string, hint: string, where?: string): never {
  throw new ScaffoldRefused(message, { hint, ...(where ? { where } : {}) });
}

/** Records `text` for `path` unless the snapshot already holds exactly that text. */
export function write(writes: Writes, snapshot: Snapshot, path: string, text: string): void {
  if (snapshot.get(path) === text) return;
  writes.set(path, text);
}

/** Every word `from` (not part of a longer name) replaced by `to`. */
export function renameWord(text: string, from: string, to: string): string {
  const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(`(?<![A-Za-z0-9_-])${escaped}(?![A-Za-z0-9_])`, "g"), to);
}

/**
 * `text` with the scalar at `path` set to `value`, every other character as written: the
 * `yaml` Document API locates the scalar and only its characters are replaced (toString()
 * would reflow flow lists and move comments). A missing key is added through the Document API.
 */
export function setScalar(text: string, path: readonly string[], value: string): string {
  const doc = parseDocument(text, { keepSourceTokens: true });
  const node = doc.getIn(path, true);
  if (isScalar(node) && node.range) {
    const [start, end] = node.range;
    const plain = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(value) ? value : JSON.stringify(value);
    return `${text.slice(0, start)}${plain}${text.slice(end)}`;
  }
  doc.setIn(path, value);
  return doc.toString();
}

/** Offset of the start of the line holding `offset`. */
function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Offset just after the last non-blank line ending at or before `offset`. */
function contentEnd(text: string, offset: number): number {
  let end = offset;
  while (end > 0 && /\s/.test(text[end - 1]!)) end--;
  const newline = text.indexOf("\n", end);
  return newline < 0 ? text.length : newline;
}

function collectionAt(text: string, path: readonly string[]) {
  const doc = parseDocument(text, { keepSourceTokens: true });
  const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
  return node;
}

/**
 * The lines of entry `key` of the mapping at `path` (its key line up to the next key), so a
 * scaffold can copy an existing entry, comments and anchors included.
 */
export function entryLines(text: string, path: readonly string[], key: string): string | undefined {
  const map = collectionAt(text, path);
  if (!isMap(map)) return undefined;
  const index = map.items.findIndex((p) => isScalar(p.key) && String(p.key.value) === key);
  const pair = map.items[index];
  if (!pair || !isScalar(pair.key) || !pair.key.range) return undefined;
  const start = lineStart(text, pair.key.range[0]);
  const next = map.items[index + 1];
  const nextKey = next && isScalar(next.key) ? next.key.range : undefined;
  const valueEnd = (pair.value as { range?: [number, number, number] } | null)?.range?.[1];
  const end = nextKey
    ? contentEnd(text, lineStart(text, nextKey[0]))
    : contentEnd(text, valueEnd ?? pair.key.range[1]);
  return text.slice(start, end);
}

/**
 * `text` with `entry` (written at column 0, several lines allowed) appended as the last entry
 * of the mapping or list at `path`, indented like its siblings; everything else untouched.
 * Undefined when there is no such block collection.
 */
export function appendEntry(
  text: string,
  path: readonly string[],
  entry: string,
): string | undefined {
  const node = collectionAt(text, path);
  if (!(isMap(node) || isSeq(node)) || node.flow || node.items.length === 0) return undefined;
  const first = node.items[0]!;
  const firstStart = isMap(node)
    ? (first as { key: { range?: [number, number, number] } }).key.range?.[0]
    : (first as { range?: [number, number, number] }).range?.[0];
  if (firstStart === undefined || !node.range) return undefined;
  const lineOfFirst = lineStart(text, firstStart);
  // A list item's column is that of its dash, before the value.
  const indent = /^[ ]*/.exec(text.slice(lineOfFirst))![0];
  const end = contentEnd(text, node.range[1]);
  const body = entry
    .trimEnd()
    .split("\n")
    .map((line) => (line === "" ? "" : `${indent}${line}`))
    .join("\n");
  return `${text.slice(0, end)}\n${body}${text.slice(end)}`;
}

/**
 * The CI files' generated blocks for a model a scaffold computed (the tier jobs follow the
 * chain, the scan steps the built services), written where the repository has the files; a
 * file whose markers are broken refuses the whole scaffold.
 */
export function writeCiBlocks(writes: Writes, snapshot: Snapshot, model: EnvironmentModel): void {
  for (const [vendor, file] of Object.entries(ciFiles) as [CiVendor, string][]) {
    const text = writes.get(file) ?? snapshot.get(file);
    if (text === undefined) continue;
    const spliced = spliceBlocks(file, text, generatedBlocks(model, vendor));
    if (spliced.problems.length > 0) {
      refuse(
        `cannot regenerate the CI tier jobs:\n${spliced.problems.map(formatProblem).join("\n")}`,
        "restore the generated-block markers, then run again",
        file,
      );
    }
    if (spliced.text !== text) write(writes, snapshot, file, spliced.text);
  }
}
