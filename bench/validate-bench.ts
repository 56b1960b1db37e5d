/**
 * How long `tiers validate` takes on the shipped tiers: cold processes (what a user and CI
 * see, including Node, tsx and npx start-up) and in-process validation (the model's own cost).
 * Prints figures only; the target is well under a second for a cold `npx tiers validate`.
 *
 *   npx tsx bench/validate-bench.ts [--cold N] [--warm N]
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { validateRepository } from "../pipelines/src/core/environment/index.ts";

const root = resolve(import.meta.dirname, "..");

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`${name} needs a positive integer\n`);
    process.exit(2);
  }
  return value;
}

function figures(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const pick = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  const ms = (v: number) => `${v.toFixed(1)} ms`.padStart(10);
  return `${label.padEnd(38)} n=${String(samples.length).padStart(3)}  min ${ms(sorted[0]!)}  median ${ms(pick(0.5))}  p95 ${ms(pick(0.95))}`;
}

function cold(command: string, args: string[], runs: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(command, args, {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    samples.push(performance.now() - started);
    if (result.status !== 0) {
      process.stderr.write(
        `${command} ${args.join(" ")} exited ${result.status}:\n${result.stdout}${result.stderr}`,
      );
      process.exit(1);
    }
  }
  return samples;
}

const coldRuns = option("--cold", 10);
const warmRuns = option("--warm", 50);

// The validate command registered alone: what a cold validate would cost if the CLI loaded
// only the command it runs (the gap to the line above is the other commands' imports).
const validateAlone = `
  const { register } = await import("tsx/esm/api");
  register();
  const { Command } = await import("commander");
  const { registerValidate } = await import(process.argv[1]);
  const program = new Command("tiers").option("--root <dir>").option("--no-color");
  registerValidate(program);
  await program.parseAsync(["node", "tiers", "validate"]);
`;
const validateModule = pathToFileURL(
  join(root, "pipelines/src/surfaces/cli/commands/validate.ts"),
).href;

const lines = [
  figures("npx tiers validate (cold process)", cold("npx", ["tiers", "validate"], coldRuns)),
  figures(
    "node pipelines/bin/tiers.js validate",
    cold(process.execPath, ["pipelines/bin/tiers.js", "validate"], coldRuns),
  ),
  figures(
    "validate command alone (cold process)",
    cold(process.execPath, ["--input-type=module", "-e", validateAlone, validateModule], coldRuns),
  ),
];

const warm: number[] = [];
for (let i = 0; i < warmRuns; i++) {
  const started = performance.now();
  const { problems } = await validateRepository(root);
  warm.push(performance.now() - started);
  if (problems.length > 0) {
    process.stderr.write(
      `the shipped environments have ${problems.length} problems; run tiers validate\n`,
    );
    process.exit(1);
  }
}
lines.push(figures("validateRepository (in-process)", warm));

// A cold `tiers validate` loads every command module before it runs, so a heavy top-level
// import in any command slows validate down. Show each module's own import cost (median of
// fresh processes), so the one to make lazy is obvious.
const commandsDir = join(root, "pipelines/src/surfaces/cli/commands");
const importProbe = `
  const { register } = await import("tsx/esm/api");
  register();
  const started = performance.now();
  await import(process.argv[1]);
  process.stdout.write(String(performance.now() - started));
`;
lines.push("", "import cost of each CLI command module (fresh process, median of 3):");
for (const file of readdirSync(commandsDir)
  .filter((f) => f.endsWith(".ts"))
  .sort()) {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const result = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", importProbe, pathToFileURL(join(commandsDir, file)).href],
      { cwd: join(root, "pipelines"), encoding: "utf8" },
    );
    samples.push(Number(result.stdout));
  }
  const median = [...samples].sort((a, b) => a - b)[1]!;
  lines.push(`  commands/${file.padEnd(20)} ${median.toFixed(0).padStart(6)} ms`);
}
process.stdout.write(`${lines.join("\n")}\n`);
