/**
 * Reads the module the way the Dagger TypeScript runtime does before it registers functions:
 * with the SDK's own introspector (the code that turns `@func`, `@check`, `@argument`, doc
 * comments and `cache` options into the function definitions `dagger functions` prints).
 *
 * The full `scan()` needs Dagger's generated client (`sdk/client.gen.ts`), which only exists
 * inside the engine, so this helper uses the introspector's object reader directly and then
 * resolves core-type references (Directory, Secret, GitRepository ...) the way
 * `DaggerModule.resolveReferences` does for classes of the generated client (sdk/typescript/src/
 * module/introspector/dagger_module/module.ts): as `{ kind: OBJECT_KIND, name }`. A name counts
 * as a core type when the SDK's client exports a class of that name, which is how
 * entrypoint/load.ts `loadValue` finds core types at run time. It imports SDK internals (dist paths), so like query.ts it is the
 * one place to fix if a later SDK moves them.
 */
import { fileURLToPath } from "node:url";
import type ts from "typescript";
import * as clientGen from "../../../node_modules/@dagger.io/dagger/dist/src/api/client.gen.js";
import { DaggerObject } from "../../../node_modules/@dagger.io/dagger/dist/src/module/introspector/dagger_module/object.js";
import { AST } from "../../../node_modules/@dagger.io/dagger/dist/src/module/introspector/typescript_module/ast.js";
// The SDK's own TypeScript (it may differ from the project's): syntax kinds must match its AST.
import sdkTs from "../../../node_modules/@dagger.io/dagger/node_modules/typescript/lib/typescript.js";

/** A resolved type: its kind (`STRING_KIND`, `BOOLEAN_KIND`, `OBJECT_KIND` ...) and name. */
export interface IntrospectedType {
  kind: string;
  name?: string;
}

export interface IntrospectedArgument {
  name: string;
  description: string;
  type: IntrospectedType;
  optional: boolean;
  defaultValue: unknown;
  defaultPath: string | undefined;
  ignore: string[] | undefined;
}

export interface IntrospectedFunction {
  name: string;
  description: string;
  /** The `cache` option of `@func({ cache })`, undefined for the engine's default. */
  cache: string | undefined;
  /** Decorated with `@check()`: `dagger check` runs it. */
  isCheck: boolean;
  arguments: IntrospectedArgument[];
}

export interface IntrospectedObject {
  name: string;
  description: string;
  constructorArguments: IntrospectedArgument[];
  functions: Record<string, IntrospectedFunction>;
  /** The SDK's own object definition (what the runtime's invoke/load code works from). */
  definition: unknown;
}

type RawArgument = {
  name: string;
  description: string;
  type?: IntrospectedType;
  isOptional: boolean;
  defaultValue: unknown;
  defaultPath?: string;
  ignore?: string[];
};

type RawObject = {
  name: string;
  description: string;
  _constructor?: { arguments?: Record<string, RawArgument> };
  methods: Record<
    string,
    {
      name: string;
      description: string;
      cache?: string;
      isCheck?: boolean;
      arguments: Record<string, RawArgument>;
    }
  >;
  getReferences(): string[];
  propagateReferences(references: Record<string, IntrospectedType>): void;
};

function argumentsOf(raw: Record<string, RawArgument> | undefined): IntrospectedArgument[] {
  return Object.values(raw ?? {}).map((a) => {
    if (!a.type) throw new Error(`argument ${a.name}: type not resolved`);
    return {
      name: a.name,
      description: a.description,
      type: a.type,
      optional: a.isOptional,
      defaultValue: a.defaultValue,
      defaultPath: a.defaultPath,
      ignore: a.ignore,
    };
  });
}

/** The module's main object as Dagger's introspector reads it from `file`. */
export function introspect(file: string | URL, className: string): IntrospectedObject {
  const path = typeof file === "string" ? file : fileURLToPath(file);
  const ast = new AST([path], []);
  const found = ast.findResolvedNodeByName(className, sdkTs.SyntaxKind.ClassDeclaration);
  if (!found) throw new Error(`class ${className} not found in ${path}`);
  const object = new DaggerObject(found.node as ts.ClassDeclaration, ast) as unknown as RawObject;
  const references: Record<string, IntrospectedType> = {};
  for (const reference of object.getReferences()) {
    // A class of the generated client, as entrypoint/load.ts looks core types up at run time.
    if (typeof (clientGen as Record<string, unknown>)[reference] !== "function") {
      throw new Error(`${className} references ${reference}, which is not a Dagger core type`);
    }
    references[reference] = { kind: "OBJECT_KIND", name: reference };
  }
  object.propagateReferences(references);
  const functions: Record<string, IntrospectedFunction> = {};
  for (const [name, method] of Object.entries(object.methods)) {
    functions[name] = {
      name,
      description: method.description,
      cache: method.cache,
      isCheck: method.isCheck === true,
      arguments: argumentsOf(method.arguments),
    };
  }
  return {
    name: object.name,
    description: object.description,
    constructorArguments: argumentsOf(object._constructor?.arguments),
    functions,
    definition: object,
  };
}

/** `dagger call` flags are the argument names in kebab case (cmd/dagger module_inspect.go `cliName`). */
export const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Function names as `dagger call` spells them (the same `cliName` conversion). */
export const commandName = kebab;
