#!/usr/bin/env node
// The `tiers` CLI runs the TypeScript sources directly through tsx's loader, so there is no
// build step between `npm ci` and `npx tiers`; tsx caches compiled modules across runs.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/surfaces/cli/main.ts");
process.exitCode = await main(process.argv);
