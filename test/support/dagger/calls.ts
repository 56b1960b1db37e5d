/**
 * `dagger call` command lines, parsed the way the Dagger CLI builds them, so every example in
 * the docs and every CI template line is checked against the module as its introspector reads
 * it. The flag sets below are read from Dagger's source (dagger/dagger, branch backport-0.21):
 * - cmd/dagger/main.go `installGlobalFlags` (on the root command, inherited by all) and the
 *   root's `--help`/`-h`;
 * - cmd/dagger/module.go `moduleAddFlags` (on `call`: --mod/-m, --no-mod/-M, --allow-llm,
 *   --eager-runtime);
 * - cmd/dagger/functions.go: `--output`/`-o` and `--json`/`-j`, persistent flags of `call`
 *   that every function subcommand inherits. A function argument with one of these names
 *   fails `flag already exists` (cmd/dagger/flags.go `AddFlag`; dagger/dagger#7032).
 * Constructor arguments become flags of `call` itself (given before the function); function
 * arguments become flags of the function's subcommand (functions.go `addFlagsForFunction`).
 */
import { expect } from "vitest";
import { isRequired } from "./help.ts";
import {
  commandName,
  type IntrospectedArgument,
  type IntrospectedObject,
  kebab,
} from "./introspect.ts";

/** Global flags of the dagger CLI, long and short names (main.go `installGlobalFlags`). */
export const globalFlags = [
  "workdir",
  "verbose",
  "v",
  "quiet",
  "q",
  "silent",
  "s",
  "debug",
  "d",
  "progress",
  "lock",
  "interactive",
  "i",
  "interactive-command",
  "web",
  "w",
  "no-exit",
  "E",
  "auto-apply",
  "y",
  "x-release",
  "dot-output",
  "dot-focus-field",
  "dot-show-internal",
  "cloud",
  "scale-out",
  "help",
  "h",
] as const;

/** Flags `dagger call` defines for itself (module.go `moduleAddFlags`). */
export const callFlags = ["mod", "m", "no-mod", "M", "allow-llm", "eager-runtime"] as const;

/** Flags every function subcommand inherits from `call` (functions.go ~247-249). */
export const subcommandFlags = ["output", "o", "json", "j"] as const;

export interface ParsedCall {
  /** Flags given before the function: constructor arguments. */
  constructor: Record<string, string>;
  fn: string;
  /** The function's own flags. */
  flags: Record<string, string>;
  /** What follows the function (a chained core function such as `terminal`), if anything. */
  chained: string[];
}

const boolFlag = (args: readonly IntrospectedArgument[], flag: string) =>
  args.some((a) => kebab(a.name) === flag && a.type.kind === "BOOLEAN_KIND");

/** Reads `--name value` / `--name=value` / bool `--name` pairs until a word that is no flag. */
function readFlags(
  words: readonly string[],
  start: number,
  args: readonly IntrospectedArgument[],
): { flags: Record<string, string>; next: number } {
  const flags: Record<string, string> = {};
  let i = start;
  while (i < words.length && words[i]!.startsWith("--")) {
    const [name, inline] = words[i]!.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (inline !== undefined) flags[name] = inline;
    else if (boolFlag(args, name)) flags[name] = "true";
    else {
      flags[name] = (words[i + 1] ?? "").replace(/^"|"$/g, "");
      i++;
    }
    i++;
  }
  return { flags, next: i };
}

/** Splits a command line into words, keeping a GitHub expression `${{ a || b }}` as one word. */
export function words(line: string): string[] {
  const collapsed = line.replace(
    /\$\{\{([^}]*)\}\}/g,
    (_, inner: string) => `\${{${inner.replace(/\s+/g, "")}}}`,
  );
  return collapsed.trim().split(/\s+/);
}

/**
 * Parses `[dagger [global flags] call] [constructor flags] <function> [flags] [chained …]` and
 * fails, naming the line, on an unknown function or flag or a missing required flag.
 */
export function checkCall(line: string, module: IntrospectedObject): ParsedCall {
  let all = words(line.replace(/#.*$/, ""));
  if (all[0] === "dagger") {
    const call = all.indexOf("call");
    expect(call, `${line}: not a dagger call`).toBeGreaterThan(0);
    for (const global of all.slice(1, call)) {
      expect(globalFlags as readonly string[], `${line}: global flag ${global}`).toContain(
        global.replace(/^--?/, "").split("=")[0],
      );
    }
    all = all.slice(call + 1);
  }
  const ctor = readFlags(all, 0, module.constructorArguments);
  const known = new Set(module.constructorArguments.map((a) => kebab(a.name)));
  for (const flag of Object.keys(ctor.flags)) {
    expect(known.has(flag), `${line}: --${flag} is not a module (constructor) flag`).toBe(true);
  }
  const name = all[ctor.next] ?? "";
  const fn = Object.values(module.functions).find((f) => commandName(f.name) === name);
  expect(fn, `${line}: no function ${name} in pipelines/src/index.ts`).toBeDefined();
  const own = readFlags(all, ctor.next + 1, fn!.arguments);
  const args = new Set(fn!.arguments.map((a) => kebab(a.name)));
  for (const flag of Object.keys(own.flags)) {
    const where = known.has(flag) ? " (a module flag: give it before the function)" : "";
    expect(args.has(flag), `${line}: ${name} has no --${flag}${where}`).toBe(true);
  }
  for (const arg of fn!.arguments.filter(isRequired)) {
    expect(own.flags, `${line}: ${name} needs --${kebab(arg.name)}`).toHaveProperty(
      kebab(arg.name),
    );
  }
  return { constructor: ctor.flags, fn: name, flags: own.flags, chained: all.slice(own.next) };
}

/** Every `dagger call …` line of the fenced shell blocks in a Markdown text. */
export function markdownCalls(text: string): string[] {
  const calls: string[] = [];
  for (const block of text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split("\n")) {
      if (/^\s*dagger (?:.* )?call\b/.test(line)) calls.push(line.trim());
    }
  }
  return calls;
}
