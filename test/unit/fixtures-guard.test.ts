/**
 * The tool's own tests run on fixtures (test/fixtures/), never on the shipped sample, so a team
 * that changes the sample's tiers or services keeps a green suite (issue 12). Only files named
 * `sample*` may look at the repository root's environments/, k8s/, compose/ or terraform/.
 *
 * Read with the TypeScript compiler's parser, so comments and prose do not count: a name bound
 * to the repository root (an import of one of the support files' root constants, or a
 * `resolve(import.meta.dirname, "../..")` / `new URL("../..", import.meta.url)` that lands on
 * the root) may not be joined with one of those directories, nor handed to a loader that reads
 * them (loadModel, loadTopology, validateRepository, the CLI's --root).
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../..");
const sampleDirs = ["environments", "k8s", "compose", "terraform"];
/** Exported constants of the support files that hold the repository root. */
const rootExports = new Set(["repoRoot", "repositoryRoot"]);
/** Functions that read a tier model, compose files or overlays from the root they are given. */
const loaders = new Set([
  "loadModel",
  "loadModelCached",
  "loadTopology",
  "validateRepository",
  "validateRepositoryCached",
  "servicesToBuild",
]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const isSample = (file: string) => basename(file).startsWith("sample");

function literal(node: ts.Node | undefined): string | undefined {
  return node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))
    ? node.text
    : undefined;
}

/** True when `path` names one of the sample's configuration directories (or a file in one). */
const intoSample = (path: string) => sampleDirs.some((d) => path === d || path.startsWith(`${d}/`));

/** Names in `source` bound to the repository root. */
function rootNames(file: string, source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  const landsOnRoot = (rel: string) => resolve(dirname(file), rel).replace(/\/$/, "") === repoRoot;
  const visit = (node: ts.Node) => {
    if (ts.isImportSpecifier(node) && rootExports.has((node.propertyName ?? node.name).text)) {
      names.add(node.name.text);
    }
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const text = node.initializer.getText(source);
      const rel = /(?:resolve\(import\.meta\.dirname, |new URL\()"([./]+)"/.exec(text)?.[1];
      if (rel && landsOnRoot(rel)) names.add(node.name.text);
      if (/process\.cwd\(\)/.test(text)) names.add(node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/** `file:line: what` for each use of the root that reaches into the sample's configuration. */
function sampleReads(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const roots = rootNames(file, source);
  const found: string[] = [];
  const where = (node: ts.Node) =>
    `${relative(repoRoot, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const isRoot = (node: ts.Node | undefined) =>
    !!node && ts.isIdentifier(node) && roots.has(node.text);
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression.getText(source).split(".").at(-1)!;
      const [first, second] = node.arguments;
      if ((callee === "join" || callee === "resolve") && isRoot(first)) {
        const path = literal(second);
        if (path !== undefined && intoSample(path.replace(/^\.\//, ""))) {
          found.push(`${where(node)}: ${node.getText(source)}`);
        }
      }
      if (loaders.has(callee) && isRoot(first)) found.push(`${where(node)}: ${callee}(root)`);
      node.arguments.forEach((arg, i) => {
        if (literal(arg) === "--root" && isRoot(node.arguments[i + 1])) {
          found.push(`${where(node)}: --root at the repository root`);
        }
      });
    }
    if (ts.isTemplateExpression(node)) {
      node.templateSpans.forEach((span) => {
        if (isRoot(span.expression) && intoSample(span.literal.text.replace(/^\//, ""))) {
          found.push(`${where(node)}: ${node.getText(source)}`);
        }
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("the tool's tests run on fixtures, not on the shipped sample", () => {
  it("no unit test outside files named sample* reads the root's environments/, k8s/, compose/ or terraform/", () => {
    const offenders = files(join(repoRoot, "test/unit"))
      .filter((f) => !isSample(f))
      .flatMap(sampleReads);
    expect(
      offenders,
      "use test/fixtures/repo (fixtureRepo / fixtureRoot) or move the test into a sample* file",
    ).toEqual([]);
  });

  it("neither do the helpers the unit tests share (test/support)", () => {
    expect(files(join(repoRoot, "test/support")).flatMap(sampleReads)).toEqual([]);
  });

  it("the guard sees each way of reaching the sample (a check that it can fail)", () => {
    const dir = join(repoRoot, "test/unit");
    const probe = (body: string) => {
      const file = join(dir, "probe.test.ts");
      const source = ts.createSourceFile(file, body, ts.ScriptTarget.Latest, true);
      return rootNames(file, source).size;
    };
    expect(probe('const root = resolve(import.meta.dirname, "../..");')).toBe(1);
    expect(probe('const root = fileURLToPath(new URL("../../", import.meta.url));')).toBe(1);
    expect(probe('const root = resolve(import.meta.dirname, "../fixtures/repo");')).toBe(0);
    expect(probe('import { repoRoot } from "./fixtures.ts";')).toBe(1);
    expect(sampleReads(join(dir, "core/manifests/checks.test.ts"))).toEqual([]);
    expect(sampleReads(join(dir, "sample.test.ts")).length).toBeGreaterThan(0);
  });
});
