#!/usr/bin/env node
// The `tiers` CLI runs a JavaScript build of its TypeScript sources (see build-cli.js): `npm ci`
// builds it, and a run whose sources changed since rebuilds first, so a stale build never runs.
import { ensureBuilt } from "./build-cli.js";

let entry;
try {
  entry = await ensureBuilt();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv);
