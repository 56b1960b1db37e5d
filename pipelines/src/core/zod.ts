/**
 * zod as every schema here imports it: jitless. zod 4 compiles each object schema with
 * `new Function` on its first parse (the "fast path": `const jit = !core.globalConfig.jitless`,
 * read when the schema is constructed, node_modules/zod/v4/core/schemas.js). Every process of
 * this project is short-lived (a CLI command, a Dagger function call, a test file) and parses
 * each schema a few times, so the compile is pure start-up cost: measured here, the first
 * validation of the sample model took about a fifth less without it.
 *
 * Being the one module that imports zod's values, this one evaluates before any schema is built
 * (ES modules evaluate their imports first), and a command that builds no schema never loads
 * zod at all (`tiers --help`, a cached `tiers validate`). Which of zod's names it offers, and
 * why not zod's own `z`: zod-names.ts.
 */
import { config } from "zod";

config({ jitless: true });

export * as z from "./zod-names.ts";
