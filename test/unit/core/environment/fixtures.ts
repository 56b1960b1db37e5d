/**
 * Test helpers: the fixture repository's environment files as strings, edits that must apply, and an
 * independent way to find where a text sits (line, column) so expected locations are computed
 * from the fixture, not from the code under test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { SourceFile } from "../../../../pipelines/src/core/environment/index.ts";

export const repoRoot = resolve(import.meta.dirname, "../../../..");

/**
 * The fixture repository (test/fixtures/repo): a frozen copy of the sample's configuration, so
 * these tests keep passing whatever tier model or services a team gives the repository itself.
 */
export const fixtureRepo = join(repoRoot, "test/fixtures/repo");

/** The fixture repository's environments/*.yaml, keyed by file name (`prod.yaml`). */
export function fixtureFiles(): Record<string, string> {
  const dir = join(fixtureRepo, "environments");
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith(".yaml"))) {
    files[name] = readFileSync(join(dir, name), "utf8");
  }
  return files;
}

export function asSources(files: Record<string, string>): SourceFile[] {
  return Object.entries(files).map(([name, text]) => ({ file: `environments/${name}`, text }));
}

/** Replaces `from` by `to`, failing loudly when the fixture no longer contains `from`. */
export function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture does not contain ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

/** Removes the first line that starts with `start` (comments after the value included). */
export function removeLine(text: string, start: string): string {
  const lines = text.split("\n");
  const index = lines.findIndex((l) => l.startsWith(start));
  if (index < 0) throw new Error(`fixture has no line starting with ${JSON.stringify(start)}`);
  lines.splice(index, 1);
  return lines.join("\n");
}

/**
 * 1-based line and column of `part` inside the first line containing `line`
 * (`part` defaults to the whole `line`).
 */
export function locate(text: string, line: string, part = line): { line: number; column: number } {
  const lines = text.split("\n");
  const index = lines.findIndex((l) => l.includes(line));
  if (index < 0) throw new Error(`no line contains ${JSON.stringify(line)}`);
  const within = lines[index]!.indexOf(line);
  const column = lines[index]!.indexOf(part, within);
  if (column < 0) throw new Error(`${JSON.stringify(part)} not on the line`);
  return { line: index + 1, column: column + 1 };
}
