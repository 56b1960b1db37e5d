#!/usr/bin/env node
// The `tiers` CLI runs a JavaScript build of its TypeScript sources (see build-cli.js): `npm ci`
// builds it, and a run whose sources changed since rebuilds first, so a stale build never runs.
import { ensureBuilt } from "./build-cli.js";

// A reader that stops early (`tiers status | head`) closes the pipe. Node ignores SIGPIPE, so the
// next write fails with EPIPE; stop quietly then, as a shell tool does, instead of a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

let entry;
try {
  entry = await ensureBuilt();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv);
