/**
 * Deep merge of a tier file over the base, carrying origins along so every merged value still
 * knows the file, line and column it was written at.
 *
 * The rule (documented in docs/environments/index.md):
 * - a mapping in the tier file merges into the base mapping key by key, recursively;
 * - anything else in the tier file (a scalar, a list, or null) replaces the base value whole,
 *   so a list is never concatenated and `key: null` sets the value to null;
 * - a few mappings are one value, not a bag of keys, and are replaced whole too: each entry of
 *   `secrets` (a reference must never be half base, half tier). See `atomicPaths`.
 */
import type { Located, OriginTree } from "./source.ts";

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Paths (with `*` for any key) whose mapping a tier file replaces instead of merging into. */
export const atomicPaths: readonly (readonly string[])[] = [["secrets", "*"]];

function isAtomic(path: readonly string[]): boolean {
  return atomicPaths.some(
    (pattern) =>
      pattern.length === path.length && pattern.every((p, i) => p === "*" || p === path[i]),
  );
}

/** Merges `over` onto `base`; neither input is modified. */
export function deepMerge(base: Located, over: Located, path: readonly string[] = []): Located {
  if (!isMapping(base.value) || !isMapping(over.value) || isAtomic(path)) return over;
  const value: Record<string, unknown> = { ...base.value };
  const children = new Map<string, OriginTree>(base.origin.children ?? []);
  for (const [key, overValue] of Object.entries(over.value)) {
    const overOrigin = over.origin.children?.get(key) ?? over.origin;
    const baseOrigin = base.origin.children?.get(key);
    if (key in base.value && baseOrigin) {
      const merged = deepMerge(
        { value: base.value[key], origin: baseOrigin },
        { value: overValue, origin: overOrigin },
        [...path, key],
      );
      value[key] = merged.value;
      children.set(key, merged.origin);
    } else {
      value[key] = overValue;
      children.set(key, overOrigin);
    }
  }
  // The merged mapping as a whole is attributed to the tier file: a missing key is the
  // tier's to add, since base.yaml is shared.
  return { value, origin: { origin: over.origin.origin, children } };
}
