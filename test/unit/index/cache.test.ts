/**
 * What Dagger caches, held to the engine's rule: a function without a cache option is cached
 * with a one-week lifetime (dagger core/typedef.go: `FunctionCachePolicyDefault` →
 * `spec.TTL = MaxFunctionCacheTTLSeconds`, core/modfunc.go: 7 * 24 * 60 * 60), so a function
 * that pushes, signs, promotes, deploys, records or rolls back must be `cache: "never"` or a
 * second identical call would return the first result and do nothing. The side effects are
 * found in each function's own body (the TypeScript AST of pipelines/src/index.ts), so a new
 * function that pushes fails here until it is uncached. (No Dagger engine here.)
 */
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { moduleFile } from "../../support/dagger/help.ts";
import { introspect } from "../../support/dagger/introspect.ts";

const module = introspect(moduleFile, "Tiers");

/** The builders that push, sign, deploy or record (engines/dagger/*). */
const sideEffects: Record<string, RegExp> = {
  push: /push: true/,
  publish: /\bpublishImages\(/,
  sign: /\bsignPassage\(/,
  deploy: /\bdeployWithDagger\(/,
};

/** Each method of class Tiers with the side effects its body names. */
function effectsByMethod(source: string): Record<string, string[]> {
  const file = ts.createSourceFile("index.ts", source, ts.ScriptTarget.Latest, true);
  const out: Record<string, string[]> = {};
  const visit = (node: ts.Node) => {
    if (ts.isMethodDeclaration(node) && node.body && ts.isIdentifier(node.name)) {
      const body = node.body.getText(file);
      out[node.name.text] = Object.entries(sideEffects)
        .filter(([, pattern]) => pattern.test(body))
        .map(([name]) => name);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

describe("caching follows the engine's rule (core/typedef.go, core/modfunc.go; no Dagger engine here)", () => {
  const effects = effectsByMethod(readFileSync(moduleFile, "utf8"));

  it("finds the side effects of the functions that have them", () => {
    const effectful = Object.entries(effects)
      .filter(([name, found]) => module.functions[name] && found.length > 0)
      .map(([name]) => name)
      .sort();
    expect(effectful).toEqual(
      ["deploy", "promote", "publish", "recordScan", "recordTests", "rollback", "sign"].sort(),
    );
  });

  it("never caches a function with a side effect", () => {
    for (const [name, found] of Object.entries(effects)) {
      if (!module.functions[name] || found.length === 0) continue;
      expect(module.functions[name]?.cache, `${name} (${found.join(", ")})`).toBe("never");
    }
  });

  it("never caches plan and verify either: they read live state (registry, git remote)", () => {
    expect(module.functions.plan?.cache).toBe("never");
    expect(module.functions.verify?.cache).toBe("never");
  });

  it("keeps test cached and free of side effects: recording is record-tests", () => {
    expect(module.functions.test?.cache).toBeUndefined();
    expect(effects.test).toEqual([]);
    expect(module.functions.test?.arguments.map((a) => a.name)).not.toContain("record");
  });

  it("can fail: a cached function that pushes is noticed", () => {
    const source = "class Tiers { async test() { return this.p.promotion([], { push: true }); } }";
    expect(effectsByMethod(source).test).toEqual(["push"]);
  });

  it("makes validate and test the module's checks (@check, what `dagger check` runs)", () => {
    const checks = Object.values(module.functions).filter((f) => f.isCheck);
    expect(checks.map((f) => f.name).sort()).toEqual(["test", "validate"]);
    // `dagger check` calls a check with no arguments: none may be required.
    for (const fn of checks) {
      for (const arg of fn.arguments) {
        expect(
          arg.optional || arg.defaultValue !== undefined || arg.defaultPath !== undefined,
        ).toBe(true);
      }
    }
  });
});
