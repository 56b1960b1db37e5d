/**
 * No tier or service name in code (issue 12): the sample's tiers and services are data in
 * environments/*.yaml and services/*, so pipelines/src may not hold a string literal equal to
 * one of them. The names are read from the sample at test time (a team's own names are then
 * guarded too); literals are found with the TypeScript parser, so comments and prose do not
 * count, only strings the code can act on.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = resolve(import.meta.dirname, "../..");

/**
 * Literals that equal a sample name by coincidence of vocabulary, each with why it is not that
 * name: `file` relative to the root, `text` the literal, and the declaration it belongs to.
 */
const vocabulary: ReadonlyArray<{ file: string; text: string; why: string }> = [
  {
    file: "pipelines/src/core/artefact.ts",
    text: "test",
    why: "buildTargets: the Dockerfile stage names (production, development, test)",
  },
  {
    file: "pipelines/src/core/artefact.ts",
    text: "dev",
    why: "developmentImageLabel: the tiers.environment label value of a development build",
  },
  {
    file: "pipelines/src/core/environment/schema.ts",
    text: "test",
    why: "nodeEnvs: the values NODE_ENV takes (development, test, production)",
  },
  {
    file: "pipelines/src/tools/terraform.ts",
    text: "test",
    why: "the `terraform test` subcommand",
  },
  {
    file: "pipelines/src/core/ci/tier-jobs.ts",
    text: "staging",
    why: "GitLab's fixed deployment tier names (production, staging, testing, development)",
  },
];

/** Tier names (environments/*.yaml) and service names (base.yaml services, services/*). */
function sampleNames(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(join(root, "environments"))) {
    if (file.endsWith(".yaml") && file !== "base.yaml") names.add(file.replace(/\.yaml$/, ""));
  }
  const base = parse(readFileSync(join(root, "environments/base.yaml"), "utf8")) as {
    services?: Record<string, unknown>;
  };
  for (const service of Object.keys(base.services ?? {})) names.add(service);
  for (const entry of readdirSync(join(root, "services"), { withFileTypes: true })) {
    if (entry.isDirectory() && existsSync(join(root, "services", entry.name, "Dockerfile"))) {
      names.add(entry.name);
    }
  }
  return names;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** `file:line: "literal"` for each string literal (or literal type) equal to one of `names`. */
function literalsNamed(file: string, text: string, names: ReadonlySet<string>): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const hits: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) &&
      names.has(node.text) &&
      // An import specifier is a module path, never a name the code acts on.
      !ts.isImportDeclaration(node.parent) &&
      !ts.isExportDeclaration(node.parent)
    ) {
      const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      hits.push(`${relative(root, file)}:${line}: "${node.text}"`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return hits;
}

describe("sample: no tier or service name of the sample in pipelines/src", () => {
  it("no string literal equals a tier or service name of the sample", () => {
    const names = sampleNames();
    expect([...names].length).toBeGreaterThan(0);
    const allowed = (hit: string) =>
      vocabulary.some((v) => hit.startsWith(`${v.file}:`) && hit.endsWith(`: "${v.text}"`));
    const hits = sources(join(root, "pipelines/src")).flatMap((file) =>
      literalsNamed(file, readFileSync(file, "utf8"), names).filter((hit) => !allowed(hit)),
    );
    expect(hits, "derive the tier or service from the model instead").toEqual([]);
  });

  it("each vocabulary exception still exists exactly once (so the list cannot hide new uses)", () => {
    const names = sampleNames();
    for (const v of vocabulary) {
      if (!names.has(v.text)) continue;
      const hits = literalsNamed(
        join(root, v.file),
        readFileSync(join(root, v.file), "utf8"),
        new Set([v.text]),
      );
      expect(hits, `${v.file} "${v.text}": ${v.why}`).toHaveLength(1);
    }
  });

  it("finds literals and literal types, not comments or import paths", () => {
    const code = [
      '// the "prod" tier is only mentioned here',
      'import x from "prod";',
      'const a = "prod";',
      'type T = "dev" | "other";',
      "const b = `staging`;",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the probe is source text holding a template
      "const c = `${a}-prod`;",
    ].join("\n");
    expect(
      literalsNamed(join(root, "x.ts"), code, new Set(["prod", "dev", "staging"])).map((h) =>
        h.replace(/^x\.ts:/, ""),
      ),
    ).toEqual(['3: "prod"', '4: "dev"', '5: "staging"']);
  });
});
