/**
 * The shape of pipelines/src as the architecture promises it (docs/architecture.md): no import
 * cycle between source files, and no source file over 600 lines except the Dagger module entry
 * (which the Dagger issue slims). Imports are read with the TypeScript compiler's own
 * pre-processor (`ts.preProcessFile`), which lists every import, re-export and dynamic import.
 * zod's values come only through core/zod.ts, which switches its schema compiler off before any
 * schema is built and offers only the names core/zod-names.ts lists (why: those files).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const src = join(root, "pipelines/src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** File -> the source files it imports (relative specifiers only; packages are not ours). */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith("."))
      .map((name) => resolve(dirname(file), name))
      .filter((path) => known.has(path));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, each as the list of files around it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push(stack.slice(stack.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found.map((cycle) => cycle.map((f) => relative(root, f)));
}

describe("pipelines/src as a tree", () => {
  const files = sourceFiles(src);

  it("has source files to check", () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it("has no import cycle between source files", () => {
    expect(cycles(importGraph(files))).toEqual([]);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts"]],
    ]);
    expect(cycles(graph)).toHaveLength(1);
  });

  it("keeps every source file at 600 lines or fewer, except the Dagger module entry", () => {
    const long = files
      .filter((f) => relative(src, f) !== "index.ts")
      .map((f) => ({ file: relative(root, f), lines: readFileSync(f, "utf8").split("\n").length }))
      .filter((f) => f.lines > 600);
    expect(long).toEqual([]);
  });

  it("imports zod's values only through core/zod.ts (type imports are free)", () => {
    const gate = new Set(["core/zod.ts", "core/zod-names.ts"]);
    const direct = files
      .filter((f) => !gate.has(relative(src, f)))
      .filter((f) =>
        /^(import|export)\s+(?!type\b)[^;]*from\s+"zod(\/[^"]*)?";/m.test(readFileSync(f, "utf8")),
      )
      .map((f) => relative(root, f));
    expect(direct).toEqual([]);
  });
});
