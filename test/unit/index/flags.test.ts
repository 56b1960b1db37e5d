/**
 * Every argument of the module parses under `dagger call` (no Dagger CLI here: the rules are
 * read from its source, see calls.ts for the files). A function argument named like a flag
 * `dagger call` adds to every subcommand (`--json`, `--output`) or like a global flag makes
 * cobra fail with `flag already exists: <name>` before anything runs (cmd/dagger/flags.go
 * `AddFlag`); that is how `plan --json` broke the Plan step of the release jobs.
 */
import { describe, expect, it } from "vitest";
import { callFlags, globalFlags, subcommandFlags } from "../../support/dagger/calls.ts";
import { moduleFile } from "../../support/dagger/help.ts";
import { type IntrospectedObject, introspect, kebab } from "../../support/dagger/introspect.ts";

const module = introspect(moduleFile, "Tiers");

/** The flags of `module` that collide with a flag the Dagger CLI defines itself. */
function collisions(object: IntrospectedObject): string[] {
  const reserved = new Set<string>([...globalFlags, ...callFlags, ...subcommandFlags]);
  const ctor = object.constructorArguments.map((a) => kebab(a.name));
  const found = ctor.filter((flag) => reserved.has(flag)).map((f) => `(constructor) --${f}`);
  for (const fn of Object.values(object.functions)) {
    for (const flag of fn.arguments.map((a) => kebab(a.name))) {
      if (reserved.has(flag)) found.push(`${fn.name} --${flag}`);
      // Legal for cobra (constructor flags are local to `call`), but a flag that means one
      // thing before the function and another after it is a trap.
      if (ctor.includes(flag)) found.push(`${fn.name} --${flag} shadows the module flag`);
    }
  }
  return found;
}

describe("argument names under dagger call (flag rules from Dagger's source; no Dagger CLI here)", () => {
  it("no argument collides with --json/--output, call's own flags or a global flag", () => {
    expect(collisions(module)).toEqual([]);
  });

  it("can fail: plan's old `json` argument is caught", () => {
    const plan = module.functions.plan!;
    const broken: IntrospectedObject = {
      ...module,
      functions: {
        ...module.functions,
        plan: { ...plan, arguments: [...plan.arguments, { ...plan.arguments[0]!, name: "json" }] },
      },
    };
    expect(collisions(broken)).toEqual(["plan --json"]);
  });

  it("plan takes --format text|json instead", () => {
    const format = module.functions.plan?.arguments.find((a) => a.name === "format");
    expect(format?.defaultValue).toBe("text");
  });
});
