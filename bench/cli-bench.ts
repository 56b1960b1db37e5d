/**
 * How fast the `tiers` CLI answers, as ratios to a baseline measured in the same run: cold
 * processes of the built CLI (`node pipelines/bin/tiers.js`, what `npx tiers` runs) against
 * `node -e 0`. Prints figures and ratios against the targets of issue 13; asserts nothing.
 *
 *   npx tsx bench/cli-bench.ts [--runs N]
 *
 * Runs are interleaved (one of each command per round), so a busy shared machine slows every
 * command alike and the ratios stay comparable; the medians are printed.
 *
 * `plan` runs on a snapshot of the working tree against the real local registry: the bench
 * pushes one tiny image (FROM local/busybox) to `<registry>/tiers-bench-<pid>/api`, plans
 * `--env staging --digest` it, and deletes the tag afterwards. Every tool the CLI starts goes
 * through a logging shim (TIERS_<TOOL>_BIN), so the bench also prints how many registry and git
 * reads plan made, how many repeated an earlier read, and how many overlapped another.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseDocument } from "yaml";
import { validateRepository } from "../pipelines/src/core/environment/index.ts";
import {
  ladderCacheFile,
  modelCacheFile,
  repositoryCheckCacheFile,
} from "../pipelines/src/engines/host/model-cache.ts";
import { dockerBin } from "../test/support/docker.ts";
import { manifestDigest, removePushedTags } from "../test/support/registry.ts";
import { snapshotRepo } from "../test/support/repo.ts";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "pipelines/bin/tiers.js");
const registry = process.env.TIERS_REGISTRY ?? "127.0.0.1:5000";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`${name} needs a positive integer\n`);
    process.exit(2);
  }
  return value;
}

const median = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One cold process; exits the bench when the command fails unexpectedly. */
function timedRun(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; okCodes?: number[] } = {},
): number {
  const started = performance.now();
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  const ms = performance.now() - started;
  if (!(options.okCodes ?? [0]).includes(result.status ?? -1)) {
    process.stderr.write(
      `${command} ${args.join(" ")} exited ${result.status}:\n${result.stdout}${result.stderr}`,
    );
    process.exit(1);
  }
  return ms;
}

/** A shim per tool that logs `tool start end args` (ns) and runs the real program. */
function toolShims(dir: string): { env: NodeJS.ProcessEnv; log: string } {
  const log = join(dir, "calls.log");
  const env: NodeJS.ProcessEnv = {};
  for (const [tool, real] of [
    ["git", "git"],
    ["skopeo", "skopeo"],
    ["docker", dockerBin],
    ["cosign", "cosign"],
    ["kubectl", "kubectl"],
    ["terraform", "terraform"],
  ] as const) {
    const shim = join(dir, tool);
    writeFileSync(
      shim,
      `#!/bin/sh\ns=$(date +%s%N)\n${real} "$@"\nrc=$?\necho "${tool} $s $(date +%s%N) $*" >> ${log}\nexit $rc\n`,
    );
    chmodSync(shim, 0o755);
    env[`TIERS_${tool.toUpperCase()}_BIN`] = shim;
  }
  return { env, log };
}

interface ToolCall {
  tool: string;
  start: number;
  end: number;
  args: string;
}

function readCalls(log: string): ToolCall[] {
  let text = "";
  try {
    text = readFileSync(log, "utf8");
  } catch {
    return []; // no tool ran
  }
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [tool, start, end, ...args] = line.split(" ");
      return {
        tool: tool!,
        start: Number(start) / 1e6,
        end: Number(end) / 1e6,
        args: args.join(" "),
      };
    });
}

/** Calls, repeats (same tool and arguments as an earlier call), calls overlapping another. */
function callFigures(calls: ToolCall[]) {
  const seen = new Set<string>();
  let repeats = 0;
  for (const call of calls) {
    const key = `${call.tool} ${call.args}`;
    if (seen.has(key)) repeats++;
    seen.add(key);
  }
  const concurrent = calls.filter((a) =>
    calls.some((b) => a !== b && a.start < b.end && b.start < a.end),
  ).length;
  const busy = calls.reduce((sum, call) => sum + (call.end - call.start), 0);
  return { count: calls.length, repeats, concurrent, busy };
}

const runs = option("--runs", 7);
// Builds the CLI if needed and says where: the chunks the runs below load (see loadedKb).
const buildDir = dirname(
  join(
    root,
    execFileSync(process.execPath, [join(root, "pipelines/bin/build-cli.js")], {
      encoding: "utf8",
      cwd: root,
    }).trim(),
  ),
);

// --- plan fixture: a snapshot repo and one tiny image in the real registry -----------------
const repo = await snapshotRepo();
const namespace = `tiers-bench-${process.pid}`;
const baseFile = join(repo.root, "environments/base.yaml");
const base = parseDocument(readFileSync(baseFile, "utf8"));
base.setIn(["registry", "namespace"], namespace);
writeFileSync(baseFile, base.toString());
repo.commitAll("bench: own registry namespace");
const imageRef = `${registry}/${namespace}/api:bench`;
const context = mkdtempSync(join(tmpdir(), "tiers-bench-image-"));
writeFileSync(
  join(context, "Dockerfile"),
  `FROM local/busybox\nLABEL tiers.bench="${Date.now()}"\n`,
);
execFileSync(dockerBin, ["build", "-q", "-t", imageRef, context], { stdio: "ignore" });
execFileSync(dockerBin, ["push", "-q", imageRef], { stdio: "ignore" });
const digest = await manifestDigest(registry, `${namespace}/api`, "bench");
if (!digest) throw new Error(`${imageRef} was pushed but the registry does not know it`);
const shimDir = mkdtempSync(join(tmpdir(), "tiers-bench-shims-"));
const shims = toolShims(shimDir);

try {
  const cases: Record<string, () => number> = {
    "node -e 0": () => timedRun(process.execPath, ["-e", "0"]),
    "tiers --help": () => timedRun(process.execPath, [bin, "--help"]),
    // The first run after a tier file changed: neither the model (engines/host/model-cache.ts)
    // nor the repository checks' answer (engines/host/read-trace.ts) is remembered, so the tier
    // files are composed and validated and the repository is parsed and checked. The next case
    // then finds both, as every later run does until the next edit.
    "tiers validate, nothing remembered": () => {
      rmSync(modelCacheFile(root), { force: true });
      rmSync(repositoryCheckCacheFile(root), { force: true });
      return timedRun(process.execPath, [bin, "validate"]);
    },
    // The first run after an edit outside environments/ (an overlay, a Dockerfile, a CI file):
    // the model is remembered, the repository checks run.
    "tiers validate, checks not remembered": () => {
      rmSync(repositoryCheckCacheFile(root), { force: true });
      return timedRun(process.execPath, [bin, "validate"]);
    },
    "tiers validate": () => timedRun(process.execPath, [bin, "validate"]),
    "tiers doctor --json": () =>
      timedRun(process.execPath, [bin, "doctor", "--json"], { okCodes: [0, 1] }),
    // The first run after a commit: the ladder is read from git at HEAD and remembered (the
    // promotion engine, its record schemas and the YAML parser load; git runs once).
    "tiers status, nothing remembered": () => {
      rmSync(ladderCacheFile(root, false), { force: true });
      return timedRun(process.execPath, [bin, "status"]);
    },
    // Every later run until the next commit (engines/host/promotion/ladder-cache.ts).
    "tiers status": () => timedRun(process.execPath, [bin, "status"]),
    // Exit 1 is a plan whose gates fail (the image has no test passage): still a full plan.
    "tiers plan --env staging": () => {
      rmSync(shims.log, { force: true });
      planStartedAt = Date.now();
      return timedRun(
        process.execPath,
        [
          bin,
          "--root",
          repo.root,
          "plan",
          "--env",
          "staging",
          "--digest",
          digest,
          "--evidence",
          "local",
        ],
        { env: shims.env, okCodes: [0, 1] },
      );
    },
    // One registry round trip, as plan makes it (a skopeo process), to price plan's trips.
    "skopeo inspect (one registry read)": () =>
      timedRun("skopeo", [
        "inspect",
        "--tls-verify=false",
        `docker://${registry}/${namespace}/api@${digest}`,
      ]),
  };
  const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
  let planCalls: ToolCall[] = [];
  // Epoch ms of the last plan run's start (the shims log epoch times).
  let planStartedAt = 0;
  for (let round = 0; round < runs; round++) {
    for (const [name, work] of Object.entries(cases)) samples.get(name)!.push(work());
    planCalls = readCalls(shims.log);
  }
  const m = (name: string) => median(samples.get(name)!);
  const baseline = m("node -e 0");
  const lines = [
    `tiers CLI bench: ${runs} interleaved rounds, medians (a shared 2-core machine: noisy)`,
    "",
  ];
  for (const name of Object.keys(cases)) {
    lines.push(`${name.padEnd(40)} ${m(name).toFixed(0).padStart(6)} ms`);
  }
  lines.push("", "ratio to node -e 0 (target)");
  const ratio = (name: string, target: number, extra = 0, why = "") => {
    const value = (m(name) - extra) / baseline;
    const verdict = value <= target ? "ok" : `OVER${why ? `: ${why}` : ""}`;
    lines.push(`  ${name.padEnd(38)} ${value.toFixed(2).padStart(5)}×  (≤ ${target}×)  ${verdict}`);
  };
  // The work itself, for scale: validation in a warm process (no start-up, no module loading).
  const warm: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await validateRepository(root);
    warm.push(performance.now() - started);
  }
  /**
   * KB of JavaScript a command loads before it runs: its chunk of the current CLI build and every
   * chunk those import statically (what Node parses and compiles on each run).
   */
  const loadedKb = (command: string) => {
    const names = readdirSync(buildDir);
    const entry = names.find((n) => n.startsWith(`${command}-`) && n.endsWith(".js"));
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const text = readFileSync(join(buildDir, name), "utf8");
      for (const m of text.matchAll(/(?:import|export)\s*(?:[\w*{}\s,$]*from\s*)?"\.\/([^"]+)"/g)) {
        visit(m[1]!);
      }
    };
    if (entry) visit(entry);
    visit("main.js");
    const bytes = [...seen].reduce((sum, name) => sum + statSync(join(buildDir, name)).size, 0);
    return (bytes / 1024).toFixed(0);
  };
  /** How many reads the remembered repository checks replay (engines/host/read-trace.ts). */
  const checkReads = () => {
    try {
      return String(JSON.parse(readFileSync(repositoryCheckCacheFile(root), "utf8")).reads.length);
    } catch {
      return "?";
    }
  };
  const over = (name: string) => (m(name) - baseline).toFixed(0);
  ratio(
    "tiers --help",
    1.5,
    0,
    `${over("tiers --help")} ms over node's own start: the bin's stamp check of pipelines/src (a stat of each input), Node's ES module loader, commander and the command list (no command module is loaded)`,
  );
  ratio(
    "tiers validate",
    2,
    0,
    `${over("tiers validate")} ms over node's own start with the model and the checks' answer remembered: the bin's stamp check, Node's ES module loader, commander, and replaying the ${checkReads()} reads the checks made (validating the model takes ${median(warm).toFixed(0)} ms warm in-process)`,
  );
  ratio(
    "tiers validate, checks not remembered",
    2,
    0,
    `${(m("tiers validate, checks not remembered") - m("tiers validate")).toFixed(0)} ms more than with both remembered: loading the YAML and PostgreSQL parsers and parsing the overlays, Dockerfiles, CI templates and migrations`,
  );
  ratio(
    "tiers validate, nothing remembered",
    2,
    0,
    `${(m("tiers validate, nothing remembered") - m("tiers validate, checks not remembered")).toFixed(0)} ms more than with the model remembered: composing the tier files with positions, zod and the policies, and loading their modules`,
  );
  const traced = (args: string[], okCodes: number[]) => {
    rmSync(shims.log, { force: true });
    timedRun(process.execPath, [bin, ...args], { env: shims.env, okCodes });
    const calls = readCalls(shims.log);
    const longest = calls.reduce<ToolCall>((a, b) => (b.end - b.start > a.end - a.start ? b : a), {
      tool: "(none)",
      start: 0,
      end: 0,
      args: "",
    });
    return { ...callFigures(calls), longest };
  };
  const doctor = traced(["doctor", "--json"], [0, 1]);
  ratio(
    "tiers doctor --json",
    2,
    0,
    `${loadedKb("doctor")} KB of bundle; in the traced run it starts ${doctor.count} tool processes (${doctor.concurrent} overlapping); the slowest, ${doctor.longest.tool} ${doctor.longest.args}, took ${(doctor.longest.end - doctor.longest.start).toFixed(0)} ms`,
  );
  const status = traced(["status"], [0]);
  ratio(
    "tiers status",
    2,
    0,
    `${over("tiers status")} ms over node's own start with the ladder remembered: ${loadedKb("status")} KB of bundle, ${status.count} tool processes, HEAD's commit read from git's files and the artefact records replayed`,
  );
  rmSync(ladderCacheFile(root, false), { force: true });
  const fresh = traced(["status"], [0]);
  ratio(
    "tiers status, nothing remembered",
    2,
    0,
    `${(m("tiers status, nothing remembered") - m("tiers status")).toFixed(0)} ms more than remembered: loading the promotion engine (record schemas, YAML, execa) and ${fresh.count} git processes (${fresh.busy.toFixed(0)} ms of git, ${fresh.repeats} repeating a read)`,
  );

  const registryCalls = planCalls.filter((c) => c.tool === "skopeo" || c.tool === "cosign");
  const gitCalls = planCalls.filter((c) => c.tool === "git");
  const trip = m("skopeo inspect (one registry read)");
  const reg = callFigures(registryCalls);
  const gitFigures = callFigures(gitCalls);
  // Round trips plan must wait for: every registry call if they ran one after another.
  const sequentialTrips = reg.concurrent > 0 ? Math.ceil(reg.count / 2) : reg.count;
  // When plan's first tool process started and its last ended, from the command's start.
  const firstStart = Math.min(...planCalls.map((c) => c.start)) - planStartedAt;
  const lastEnd = Math.max(...planCalls.map((c) => c.end)) - planStartedAt;
  ratio(
    "tiers plan --env staging",
    2,
    sequentialTrips * trip,
    `its first read starts ${firstStart.toFixed(0)} ms after launch, once it has loaded ${loadedKb("plan")} KB of bundle (record schemas, gates, the overlay editor's yaml); its reads then run side by side until ${lastEnd.toFixed(0)} ms`,
  );
  lines.push(
    `    minus ${sequentialTrips} registry round trip(s) × ${trip.toFixed(0)} ms`,
    `    registry reads: ${reg.count}, repeated: ${reg.repeats}, overlapping another: ${reg.concurrent}`,
    `    git reads: ${gitFigures.count}, repeated: ${gitFigures.repeats}, overlapping another: ${gitFigures.concurrent}`,
  );
  const repeated = [...new Set(gitCalls.map((c) => c.args))].filter(
    (args) => gitCalls.filter((c) => c.args === args).length > 1,
  );
  for (const args of repeated) lines.push(`      read more than once: git ${args}`);
  lines.push(
    "",
    `validateRepository in-process (warm, median of 20): ${median(warm).toFixed(1)} ms`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await removePushedTags([{ registry, repository: `${namespace}/api`, tags: ["bench"] }]);
  spawnSync(dockerBin, ["rmi", imageRef], { stdio: "ignore" });
  rmSync(context, { recursive: true, force: true });
  rmSync(shimDir, { recursive: true, force: true });
  await repo.remove();
}
