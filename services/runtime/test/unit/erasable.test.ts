import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const src = resolve(import.meta.dirname, "../../src");

// Service images run these sources with Node's type stripping, which only removes type
// syntax: enums, namespaces, parameter properties and type-only imports written as value
// imports would break there while still passing under vitest. The compiler's own flags say so.
describe("@tiers/runtime sources run under Node type stripping (compiler check, no Node 22 here)", () => {
  it("uses only erasable syntax, type-only imports marked as such, and .ts import paths", () => {
    const files = readdirSync(src)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => join(src, f));
    const program = ts.createProgram(files, {
      erasableSyntaxOnly: true,
      verbatimModuleSyntax: true,
      allowImportingTsExtensions: true,
      noEmit: true,
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
      skipLibCheck: true,
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(diagnostics).toEqual([]);
  });
});
