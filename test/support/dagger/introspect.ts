/**
 * Reads the module the way the Dagger TypeScript runtime does before it registers functions:
 * with the SDK's own introspector (the code that turns `@func`, `@argument`, doc comments and
 * `cache` options into the function definitions `dagger functions` prints).
 *
 * The full `scan()` needs Dagger's generated client (`sdk/client.gen.ts`), which only exists
 * inside the engine, so this helper uses the introspector's object reader directly: same
 * decorator parsing, same doc-comment extraction, no type resolution. It imports SDK internals
 * (dist paths), so like query.ts it is the one place to fix if a later SDK moves them.
 */
import { fileURLToPath } from "node:url";
import type ts from "typescript";
import { DaggerObject } from "../../../node_modules/@dagger.io/dagger/dist/src/module/introspector/dagger_module/object.js";
import { AST } from "../../../node_modules/@dagger.io/dagger/dist/src/module/introspector/typescript_module/ast.js";
// The SDK's own TypeScript (it may differ from the project's): syntax kinds must match its AST.
import sdkTs from "../../../node_modules/@dagger.io/dagger/node_modules/typescript/lib/typescript.js";

export interface IntrospectedArgument {
  name: string;
  description: string;
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
  arguments: IntrospectedArgument[];
}

export interface IntrospectedObject {
  name: string;
  description: string;
  constructorArguments: IntrospectedArgument[];
  functions: Record<string, IntrospectedFunction>;
}

type RawArgument = {
  name: string;
  description: string;
  isOptional: boolean;
  defaultValue: unknown;
  defaultPath?: string;
  ignore?: string[];
};

function argumentsOf(raw: Record<string, RawArgument> | undefined): IntrospectedArgument[] {
  return Object.values(raw ?? {}).map((a) => ({
    name: a.name,
    description: a.description,
    optional: a.isOptional,
    defaultValue: a.defaultValue,
    defaultPath: a.defaultPath,
    ignore: a.ignore,
  }));
}

/** The module's main object as Dagger's introspector reads it from `file`. */
export function introspect(file: string | URL, className: string): IntrospectedObject {
  const path = typeof file === "string" ? file : fileURLToPath(file);
  const ast = new AST([path], []);
  const found = ast.findResolvedNodeByName(className, sdkTs.SyntaxKind.ClassDeclaration);
  if (!found) throw new Error(`class ${className} not found in ${path}`);
  const object = new DaggerObject(found.node as ts.ClassDeclaration, ast) as unknown as {
    name: string;
    description: string;
    _constructor?: { arguments?: Record<string, RawArgument> };
    methods: Record<
      string,
      { name: string; description: string; cache?: string; arguments: Record<string, RawArgument> }
    >;
  };
  const functions: Record<string, IntrospectedFunction> = {};
  for (const [name, method] of Object.entries(object.methods)) {
    functions[name] = {
      name,
      description: method.description,
      cache: method.cache,
      arguments: argumentsOf(method.arguments),
    };
  }
  return {
    name: object.name,
    description: object.description,
    constructorArguments: argumentsOf(object._constructor?.arguments),
    functions,
  };
}
