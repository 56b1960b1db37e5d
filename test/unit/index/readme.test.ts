/**
 * The README documents every `dagger call` with its flags (issue 4). This keeps that table equal
 * to the module as Dagger's own introspector reads it: a function, argument or cache policy
 * added, renamed or removed in pipelines/src/index.ts fails here until the README says so.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { introspect } from "../../support/dagger/introspect.ts";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const module = introspect(
  fileURLToPath(new URL("../../../pipelines/src/index.ts", import.meta.url)),
  "Tiers",
);

/** `dagger call` flags are the argument names in kebab case. */
const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

interface Row {
  call: string;
  flags: string[];
  never: boolean;
}

function tableRows(text: string): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const line of text.split("\n")) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    // Dagger's CLI spells functions in kebab case (`infra-plan`); the module names them in camel.
    const call = /^`([a-z][a-z-]*)(.*)`$/.exec(cells[1] ?? "");
    if (!call || call[1] === "dagger" || cells.length < 6) continue; // the header names `dagger call`
    const flags = [...`${call[2]} ${cells[2]}`.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!);
    rows.set(
      call[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
      { call: cells[1]!, flags, never: cells[5] === "**never**" },
    );
  }
  return rows;
}

describe("the README's dagger call table matches the module (no Dagger engine here)", () => {
  const rows = tableRows(readme);

  it("has one row per function and no row for a function that does not exist", () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(module.functions).sort());
  });

  it("lists exactly each function's arguments as flags", () => {
    for (const fn of Object.values(module.functions)) {
      const documented = [...new Set(rows.get(fn.name)?.flags ?? [])]
        .filter((f) => f !== "ports")
        .sort();
      expect(documented, `dagger call ${fn.name}`).toEqual(
        fn.arguments.map((a) => kebab(a.name)).sort(),
      );
    }
  });

  it("marks exactly the uncached functions as never cached", () => {
    for (const fn of Object.values(module.functions)) {
      expect(rows.get(fn.name)?.never, `dagger call ${fn.name}`).toBe(fn.cache === "never");
    }
  });

  it("can fail: a row missing a flag is noticed", () => {
    const broken = tableRows(readme.replace("`--kube-context`, ", ""));
    expect(broken.get("deploy")?.flags).not.toContain("kube-context");
    expect(module.functions.deploy?.arguments.map((a) => kebab(a.name))).toContain("kube-context");
  });
});
