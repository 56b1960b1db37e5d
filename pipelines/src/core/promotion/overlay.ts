/**
 * The overlay pin: `images[].digest` in `k8s/overlays/<tier>/kustomization.yaml`. It is the only
 * field promotion edits, so the edit is surgical: the `yaml` Document API locates the digest
 * scalar and only its characters are replaced (or one `digest:` line is inserted), keeping every
 * comment, blank line, quote style and indentation of the file as the team wrote it.
 */
import { isMap, isScalar, isSeq, type Scalar, type YAMLMap } from "yaml";
import { TiersError } from "../errors.ts";
import { parseYamlDocuments, yamlWhere } from "../yaml.ts";
import { isDigest } from "./refs.ts";

/** The overlay file of a tier, relative to the repository root. */
export function overlayPath(tier: string): string {
  return `k8s/overlays/${tier}/kustomization.yaml`;
}

/** One `images:` entry of a kustomization. */
export interface OverlayPin {
  /** Position in the `images:` list. */
  index: number;
  /** The image name the base manifests use (what kustomize matches). */
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
  /** 1-based line of the entry, for error messages. */
  line: number;
}

function located(where: string, line?: number): string {
  return line ? `${where}:${line}` : where;
}

function parseOverlay(text: string, where: string) {
  const parsed = parseYamlDocuments(where, text, { keepSourceTokens: true });
  if (!parsed.ok) {
    const first = parsed.problems[0]!;
    throw new TiersError(
      first.kind === "syntax"
        ? `overlay is not valid YAML: ${first.message}`
        : `overlay refused: ${first.message}`,
      {
        where: yamlWhere(first),
        hint: "fix the file (or restore it with `git checkout -- <file>`) and run again",
      },
    );
  }
  const [doc, extra] = parsed.value.documents;
  if (extra) {
    throw new TiersError(`overlay must hold exactly one YAML document`, {
      where,
      hint: "fix the file (or restore it with `git checkout -- <file>`) and run again",
    });
  }
  return { doc: doc!, lineCounter: parsed.value.lineCounter };
}

/** One `resources:` entry of a kustomization: a file or directory kustomize includes. */
export interface OverlayResource {
  path: string;
  /** 1-based line of the entry. */
  line: number;
}

/**
 * The `resources:` of an overlay, with their lines, so `tiers validate` can say which
 * generated file an overlay forgot to include. A missing list means none.
 */
export function readResources(text: string, where: string): OverlayResource[] {
  const { doc, lineCounter } = parseOverlay(text, where);
  const resources = doc.get("resources", true);
  if (resources === undefined || resources === null) return [];
  if (!isSeq(resources)) {
    throw new TiersError("`resources:` must be a list of paths", { where });
  }
  return resources.items.map((item) => {
    const range = (item as { range?: [number, number, number] } | null)?.range;
    return {
      path: isScalar(item) ? String(item.value) : "",
      line: range ? lineCounter.linePos(range[0]).line : 0,
    };
  });
}

/**
 * The overlay text with `path` listed under `resources:` (or not), changed as surgically as a
 * pin: one `- <path>` line is inserted after the last entry, with its indentation, or the
 * entry's own line is removed; every other character stays. With no `resources:` list, one is
 * appended. A flow-style list (`resources: [a, b]`) cannot be edited by lines and is refused,
 * naming the file, rather than rewritten.
 */
export function setResourceListed(
  text: string,
  path: string,
  listed: boolean,
  where: string,
): string {
  const { doc } = parseOverlay(text, where);
  const resources = doc.get("resources", true);
  const entries = isSeq(resources) ? resources.items : [];
  const present = entries.filter((item) => isScalar(item) && String(item.value) === path);
  if (listed === present.length > 0) return text;
  const lineOf = (offset: number) => {
    const start = text.lastIndexOf("\n", offset - 1) + 1;
    const next = text.indexOf("\n", offset);
    return { start, end: next === -1 ? text.length : next + 1 };
  };
  const withNewline = text.length === 0 || text.endsWith("\n") ? text : `${text}\n`;
  if (resources === undefined || resources === null) {
    return `${withNewline}resources:\n  - ${path}\n`;
  }
  if (isScalar(resources) && resources.value === null && listed) {
    // `resources:` with nothing after it: the entry goes on the line after the key.
    const pair = isMap(doc.contents)
      ? doc.contents.items.find((p) => isScalar(p.key) && p.key.value === "resources")
      : undefined;
    const keyRange = (pair?.key as Scalar | undefined)?.range;
    if (!keyRange) throw new TiersError("cannot locate `resources:` in the overlay", { where });
    const key = lineOf(keyRange[0]);
    const head = key.end === text.length ? withNewline : text.slice(0, key.end);
    return `${head}  - ${path}\n${text.slice(key.end)}`;
  }
  if (!isSeq(resources)) throw new TiersError("`resources:` must be a list of paths", { where });
  if (resources.flow) {
    throw new TiersError(
      `\`resources:\` is a flow list, which cannot be edited without rewriting it; ${listed ? "add" : "remove"} ${path} by hand`,
      { where },
    );
  }
  if (!listed) {
    let out = text;
    for (const item of [...present].reverse()) {
      const { start, end } = lineOf((item as Scalar).range![0]);
      out = out.slice(0, start) + out.slice(end);
    }
    return out;
  }
  const at = (entries.at(-1) as Scalar | undefined)?.range?.[0];
  if (at === undefined) throw new TiersError("cannot locate `resources:` entries", { where });
  const line = lineOf(at);
  const indent = text.slice(line.start, at).replace(/- *$/, "");
  const after = line.end === text.length && !text.endsWith("\n") ? "\n" : "";
  return `${text.slice(0, line.end)}${after}${indent}- ${path}\n${text.slice(line.end)}`;
}

/** Reads every image pin of an overlay. A missing `images:` list means no pins yet. */
export function readPins(text: string, where: string): OverlayPin[] {
  const { doc, lineCounter } = parseOverlay(text, where);
  const images = doc.get("images", true);
  if (images === undefined || images === null) return [];
  if (!isSeq(images)) {
    throw new TiersError("`images:` must be a list of {name, newName, digest}", {
      where,
    });
  }
  return images.items.map((item, index) => {
    const range = (item as { range?: [number, number, number] } | null)?.range;
    const line = range ? lineCounter.linePos(range[0]).line : 0;
    if (!isMap(item)) {
      throw new TiersError(`images[${index}] must be a mapping with name/newName/digest`, {
        where: located(where, line),
      });
    }
    const str = (key: string): string | undefined => {
      const value = item.get(key);
      return value === undefined || value === null ? undefined : String(value);
    };
    const name = str("name");
    if (!name) {
      throw new TiersError(`images[${index}] has no \`name\``, { where: located(where, line) });
    }
    const pin: OverlayPin = { index, name, line };
    const newName = str("newName");
    const newTag = str("newTag");
    const digest = str("digest");
    if (newName !== undefined) pin.newName = newName;
    if (newTag !== undefined) pin.newTag = newTag;
    if (digest !== undefined) pin.digest = digest;
    return pin;
  });
}

function lastSegment(name: string | undefined): string | undefined {
  return name?.split("/").pop()?.split(":")[0];
}

/**
 * The pin of a service: the entry whose `newName` is the artefact's repository, else the one
 * whose image name (or new name) ends in `/<service>`.
 */
export function findPin(
  pins: readonly OverlayPin[],
  service: string,
  repository?: string,
): OverlayPin | undefined {
  if (repository) {
    const exact = pins.find((pin) => pin.newName === repository);
    if (exact) return exact;
  }
  return pins.find(
    (pin) =>
      pin.name === service ||
      lastSegment(pin.name) === service ||
      lastSegment(pin.newName) === service,
  );
}

/** A digest to write into entry `index` of `images:`. */
export interface PinEdit {
  index: number;
  digest: string;
}

/**
 * Returns the overlay text with the given digests pinned and nothing else changed. Existing
 * `digest:` values are replaced in place; a missing one is inserted as a new line under the
 * entry, at the entry's indentation. The result is re-read to prove only the pins moved.
 */
export function setPins(text: string, edits: readonly PinEdit[], where: string): string {
  for (const edit of edits) {
    if (!isDigest(edit.digest)) {
      throw new TiersError(`refusing to pin "${edit.digest}": not a sha256 digest`, { where });
    }
  }
  const { doc } = parseOverlay(text, where);
  const images = doc.get("images", true);
  if (!isSeq(images)) {
    throw new TiersError("overlay has no `images:` list to pin", {
      where,
      hint: "add an images: entry (name, newName, digest) per service; promotion only edits digest",
    });
  }
  // Splice from the end of the file backwards so earlier offsets stay valid.
  const splices: Array<{ start: number; end: number; insert: string }> = [];
  for (const edit of edits) {
    const item = images.items[edit.index];
    if (!isMap(item)) {
      throw new TiersError(`images[${edit.index}] does not exist or is not a mapping`, { where });
    }
    splices.push(spliceFor(text, item as YAMLMap, edit.digest));
  }
  splices.sort((a, b) => b.start - a.start);
  let out = text;
  for (const s of splices) out = out.slice(0, s.start) + s.insert + out.slice(s.end);

  // Prove the edit: same entries, same everything, only the requested digests differ.
  const before = readPins(text, where);
  const after = readPins(out, where);
  const wanted = new Map(edits.map((e) => [e.index, e.digest]));
  const consistent =
    before.length === after.length &&
    after.every((pin, i) => {
      const old = before[i]!;
      const digest = wanted.get(i) ?? old.digest;
      return (
        pin.name === old.name &&
        pin.newName === old.newName &&
        pin.newTag === old.newTag &&
        pin.digest === digest
      );
    });
  if (!consistent) {
    throw new TiersError(
      "internal: the pin edit would change more than the digests; nothing written",
      {
        where,
        hint: "report this with the overlay file attached",
      },
    );
  }
  return out;
}

function spliceFor(text: string, item: YAMLMap, digest: string) {
  const existing = item.items.find((pair) => isScalar(pair.key) && pair.key.value === "digest");
  const emptyValue =
    existing &&
    (existing.value === null ||
      (isScalar(existing.value) &&
        existing.value.range !== undefined &&
        existing.value.range !== null &&
        existing.value.range[0] === existing.value.range[1]));
  if (existing && !emptyValue && isScalar(existing.value) && existing.value.range) {
    const value = existing.value as Scalar;
    const [start, end] = value.range!;
    const quote = value.type === "QUOTE_DOUBLE" ? '"' : value.type === "QUOTE_SINGLE" ? "'" : "";
    return { start, end, insert: `${quote}${digest}${quote}` };
  }
  if (existing && emptyValue && isScalar(existing.key) && existing.key.range) {
    // `digest:` with an empty value: write the value right after the colon.
    const keyEnd = existing.key.range[1];
    const colon = text.indexOf(":", keyEnd);
    return { start: colon + 1, end: colon + 1, insert: ` ${digest}` };
  }
  // No digest key: insert a line after the entry's last pair, aligned with its first key.
  const firstKey = item.items[0]?.key;
  const last = item.items[item.items.length - 1];
  if (!isScalar(firstKey) || !firstKey.range || !last) {
    throw new TiersError("an images: entry is empty; cannot place a digest in it");
  }
  const lineStart = text.lastIndexOf("\n", firstKey.range[0] - 1) + 1;
  const column = firstKey.range[0] - lineStart;
  const lastNode = (
    isScalar(last.value) || isMap(last.value) || isSeq(last.value) ? last.value : last.key
  ) as { range?: [number, number, number] } | null;
  const valueEnd = lastNode?.range?.[1] ?? firstKey.range[1];
  let eol = text.indexOf("\n", valueEnd);
  if (eol < 0) eol = text.length;
  const flowItem = text[lineStart + column - 2] === "{" || text.slice(lineStart, eol).includes("{");
  if (flowItem) {
    throw new TiersError(
      "flow-style images: entries ({...}) cannot be pinned without reformatting",
      {
        hint: "write the entry in block style (one key per line)",
      },
    );
  }
  return { start: eol, end: eol, insert: `\n${" ".repeat(column)}digest: ${digest}` };
}
