/**
 * The names of zod this project uses, and nothing else: `core/zod.ts` exports them as the `z`
 * namespace every schema imports. Named, not zod's own `z`: zod's namespace object carries every
 * export, its 40-odd locales included, and a bundler must keep all of them once the namespace is
 * imported; esbuild made that 582 KB of the CLI bundle, against 124 KB for named imports of the
 * same schemas. Each name used here is bundled; a name missing here is a type error at its use.
 */

export type { infer, ZodType } from "zod";
export {
  array,
  boolean,
  discriminatedUnion,
  enum,
  iso,
  literal,
  looseObject,
  number,
  object,
  record,
  strictObject,
  string,
  toJSONSchema,
  union,
  unknown,
  url,
} from "zod";
