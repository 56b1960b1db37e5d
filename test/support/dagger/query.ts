/**
 * The ONE place that reads the Dagger SDK's private query chain.
 *
 * No Dagger engine can run on the build machines, but the SDK builds queries lazily: every
 * `container.withX(...)` returns a new object whose private context holds the chain of
 * `{operation, args}` selected so far (`obj._ctx._queryTree`, verified with 0.21.9). Tests read
 * that chain to assert what a function would ask the engine to do. If a later SDK renames the
 * private fields, this file is the only thing to fix.
 */

/** One selected field, with its arguments; nested Dagger objects are described recursively. */
export interface Op {
  operation: string;
  args: Record<string, unknown>;
}

/** A Dagger object found inside an argument (a Secret, a Service, a Directory ...). */
export interface NestedObject {
  /** The SDK class name, e.g. `Secret`, `Service`, `Directory`, `Container`. */
  kind: string;
  chain: Op[];
}

type QueryNode = { operation: string; args?: Record<string, unknown> };

function rawChain(value: unknown): QueryNode[] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const ctx = (value as { _ctx?: { _queryTree?: unknown } })._ctx;
  const tree = ctx?._queryTree;
  return Array.isArray(tree) ? (tree as QueryNode[]) : undefined;
}

/** True for SDK objects (anything carrying a lazy query chain). */
export function isDaggerObject(value: unknown): boolean {
  return rawChain(value) !== undefined;
}

function describeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(describeValue);
  const chain = rawChain(value);
  if (chain) {
    return {
      kind: (value as object).constructor.name,
      chain: chain.map(describeOp),
    } satisfies NestedObject;
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "__metadata")
        .map(([key, v]) => [key, describeValue(v)]),
    );
  }
  return value;
}

function describeOp(node: QueryNode): Op {
  return {
    operation: node.operation,
    args: (describeValue(node.args ?? {}) as Record<string, unknown>) ?? {},
  };
}

/** The chain of operations a Dagger object would send, with nested objects described. */
export function chainOf(object: unknown): Op[] {
  const chain = rawChain(object);
  if (!chain) throw new Error("not a Dagger object: no lazy query chain found");
  return chain.map(describeOp);
}

/** The operations named `operation`, in order. */
export function opsNamed(object: unknown, operation: string): Op[] {
  return chainOf(object).filter((op) => op.operation === operation);
}

/** Every `withExec` argument vector, in order. */
export function execs(object: unknown): string[][] {
  return opsNamed(object, "withExec").map((op) => op.args.args as string[]);
}

/** Labels set with `withLabel`, later ones winning (as in the image config). */
export function labels(object: unknown): Record<string, string> {
  return Object.fromEntries(
    opsNamed(object, "withLabel").map((op) => [op.args.name as string, op.args.value as string]),
  );
}

/** Plain environment variables set with `withEnvVariable`. */
export function envVariables(object: unknown): Record<string, string> {
  return Object.fromEntries(
    opsNamed(object, "withEnvVariable").map((op) => [
      op.args.name as string,
      op.args.value as string,
    ]),
  );
}

/** The kind (SDK class) of a nested object argument, e.g. `Secret`. */
export function kindOf(value: unknown): string | undefined {
  return typeof value === "object" && value !== null && "kind" in value
    ? String((value as NestedObject).kind)
    : undefined;
}

/**
 * Everything in the object's own chain that is NOT inside a nested Secret: exec args, env,
 * labels, file contents ... A secret's plaintext may only ever appear inside the Secret object
 * (where `setSecret` put it in tests); this text must never contain it.
 */
export function visibleText(object: unknown): string {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value === "object" && value !== null) {
      if (kindOf(value) === "Secret") return "<secret>";
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strip(v)]));
    }
    return value;
  };
  return JSON.stringify(strip(chainOf(object)));
}

/** The logical name a test gave a secret with `dag.setSecret(name, value)`. */
export function secretName(value: unknown): string | undefined {
  if (kindOf(value) !== "Secret") return undefined;
  const set = (value as NestedObject).chain.find((op) => op.operation === "setSecret");
  return set?.args.name as string | undefined;
}
