/**
 * The README's `dagger call` table is generated from the module as Dagger's own introspector
 * reads it (help.ts), and every `dagger call` example in README.md and docs/*.md parses
 * against the module the way the Dagger CLI builds its flags (calls.ts, rules from
 * cmd/dagger). A function, argument, default or cache policy added, renamed or removed in
 * pipelines/src/index.ts fails here until the docs say so. (No Dagger CLI or engine here.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkCall, markdownCalls } from "../../support/dagger/calls.ts";
import { callTable, moduleFile, tableIn } from "../../support/dagger/help.ts";
import { commandName, introspect } from "../../support/dagger/introspect.ts";
import { repositoryRoot } from "../../support/dagger/offline.ts";

const readme = readFileSync(join(repositoryRoot, "README.md"), "utf8");
const module = introspect(moduleFile, "Tiers");
const docs = readdirSync(join(repositoryRoot, "docs"))
  .filter((file) => file.endsWith(".md"))
  .map((file) => ({
    file: `docs/${file}`,
    text: readFileSync(join(repositoryRoot, "docs", file), "utf8"),
  }));

describe("the README's dagger call table is the module's (no Dagger engine here)", () => {
  it("is exactly what help.ts generates from the introspected module", () => {
    expect(tableIn(readme), "regenerate with `npx tsx test/support/dagger/help.ts`").toBe(
      callTable(module),
    );
  });

  it("can fail: a flag renamed in the module no longer matches", () => {
    const plan = module.functions.plan!;
    const renamed = {
      ...module,
      functions: {
        ...module.functions,
        plan: {
          ...plan,
          arguments: plan.arguments.map((a) => (a.name === "format" ? { ...a, name: "json" } : a)),
        },
      },
    };
    expect(callTable(renamed)).not.toBe(tableIn(readme));
  });

  it("has a tiers/make twin row for every function and none for a missing one", () => {
    const twins = [...readme.matchAll(/^\| `([a-z-]+)` \| `tiers /gm)].map((m) => m[1]);
    expect(twins.sort()).toEqual(Object.keys(module.functions).map(commandName).sort());
  });
});

describe("every dagger call example in README.md and docs/ parses against the module", () => {
  for (const { file, text } of [{ file: "README.md", text: readme }, ...docs]) {
    const calls = markdownCalls(text);
    if (calls.length === 0) continue;
    it(`${file} (${calls.length} calls)`, () => {
      for (const call of calls) checkCall(call, module);
    });
  }

  it("can fail: the old `plan --json` and a module flag after the function are refused", () => {
    expect(() => checkCall("dagger call plan --env prod --json", module)).toThrow(
      /plan has no --json/,
    );
    expect(() => checkCall("dagger call promote --env prod --registry R", module)).toThrow(
      /give it before the function/,
    );
    expect(() => checkCall("dagger call promote", module)).toThrow(/needs --env/);
  });
});
