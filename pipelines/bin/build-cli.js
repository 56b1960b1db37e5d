// Builds the `tiers` CLI from its TypeScript sources into plain JavaScript, so a run pays for
// neither a TypeScript compiler nor a loader hook (Node 20, which `engines` allows, has no type
// stripping). `npm ci` runs this through the workspace's `prepare` script; `bin/tiers.js` calls
// `ensureBuilt()` on every run, so a stale build can never run.
//
// A build lives in `dist/<stamp>/`, where the stamp is a hash of everything the build is made
// of: every file under `src/`, this script, the lock file (bundled dependencies) and the Node
// major version. Finding `dist/<stamp>/main.js` therefore proves the build matches the sources;
// there is no separate "up to date" flag that could lie. Any change to a source means a new
// stamp, and the first run after it rebuilds (esbuild: about a second) before doing anything.
//
// Hashing the 1.7 MB of sources costs every run 13 to 20 ms, a fifth of a `tiers --help`. So the
// stamp is also remembered with the inputs' file-system identity (see `fingerprint`): a run whose
// inputs all have the identity they had when their contents were hashed takes that stamp, and any
// other run hashes.
//
//   node bin/build-cli.js          build if needed, print the entry point
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The `pipelines/` directory this script belongs to. */
export const pipelinesDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// Every file the build is made of, sorted, relative to `dir`: the stamp of a checkout does not
// depend on where it lives. Plain string work, no path.join/relative: this runs before every
// command, in cold (interpreted) code, where those cost milliseconds over 200 files.
function inputs(dir) {
  const skip = dir.length + 1;
  const sources = readdirSync(`${dir}/src`, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `${entry.parentPath}/${entry.name}`.slice(skip));
  const lock = "../package-lock.json";
  return [...sources.sort(), "bin/build-cli.js", ...(existsSync(`${dir}/${lock}`) ? [lock] : [])];
}

/** Hash of the build's inputs: names and contents (so a rename counts too). */
export function sourceStamp(dir = pipelinesDir) {
  return contentStamp(dir, inputs(dir));
}

function contentStamp(dir, files) {
  // Loaded here, not at the top: a run that takes its stamp from the fingerprint needs no hash.
  const { createHash } = process.getBuiltinModule("node:crypto");
  const hash = createHash("sha256");
  hash.update(`node ${process.versions.node.split(".")[0]}\0`);
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(dir, file)));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * The inputs' identity as the file system keeps it: for each file its name, inode, size, and
 * modification and status-change times, in the Node major the stamp includes. A
 * write changes the change time (POSIX: every write and every utimes sets st_ctime to now, and
 * no call can set it back), a replaced file has a new inode, a new or removed file changes the
 * list: so inputs with an unchanged fingerprint have unchanged contents, with one exception the
 * `settled` rule closes.
 */
function fingerprint(dir, files) {
  const lines = [`node ${process.versions.node.split(".")[0]}`];
  let newest = 0;
  for (const file of files) {
    // Times in milliseconds with their fraction (a double keeps sub-microsecond steps at
    // today's epoch, finer than the clock tick that moves them).
    const info = statSync(`${dir}/${file}`);
    lines.push(`${file}\0${info.ino}\0${info.size}\0${info.mtimeMs}\0${info.ctimeMs}`);
    if (info.mtimeMs > newest) newest = info.mtimeMs;
    if (info.ctimeMs > newest) newest = info.ctimeMs;
  }
  return { text: lines.join("\n"), newest };
}

/**
 * The exception: file times have the resolution of the kernel's clock tick, so a file written
 * again within the tick it was hashed in keeps its times (git calls this "racy"; its index
 * re-reads such entries, Documentation/technical/racy-git.txt). A fingerprint is therefore only
 * remembered when every input's times are at least `settleMs` older than the hash: any later
 * write then moves a time forward.
 */
const defaultSettleMs = 2000;

/** Where the last hashed fingerprint and its stamp are kept (beside the builds). */
const fingerprintFile = (dir) => join(dir, "dist", "stamp-fingerprint.json");

/**
 * The stamp of the current inputs, and how it was found: from the remembered fingerprint
 * (`fingerprint`) or by hashing the contents (`contents`).
 */
export function currentStamp(dir = pipelinesDir, { settleMs = defaultSettleMs } = {}) {
  const files = inputs(dir);
  const before = fingerprint(dir, files);
  try {
    const known = JSON.parse(readFileSync(fingerprintFile(dir), "utf8"));
    if (known.fingerprint === before.text && /^[0-9a-f]{16}$/.test(known.stamp)) {
      return { stamp: known.stamp, via: "fingerprint" };
    }
  } catch {
    // No fingerprint yet, or a torn one: hash.
  }
  const hashedAt = Date.now();
  const stamp = contentStamp(dir, files);
  const after = fingerprint(dir, files);
  // Remember it only when nothing moved while hashing and every input has settled.
  if (after.text === before.text && after.newest + settleMs < hashedAt) {
    try {
      mkdirSync(join(dir, "dist"), { recursive: true });
      const file = fingerprintFile(dir);
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify({ stamp, fingerprint: before.text }));
      renameSync(temp, file);
    } catch {
      // A read-only checkout: every run hashes, as before.
    }
  }
  return { stamp, via: "contents" };
}

/** Where the build for `stamp` lives. */
export function buildDir(stamp, dir = pipelinesDir) {
  return join(dir, "dist", stamp);
}

/**
 * The entry point of a build matching the current sources, building it first when there is
 * none. Concurrent runs may both build; each writes its own temporary directory and the first
 * rename wins, so no run ever sees a half-written build.
 */
export async function ensureBuilt(dir = pipelinesDir) {
  const { stamp } = currentStamp(dir);
  const target = buildDir(stamp, dir);
  const entry = join(target, "main.js");
  if (existsSync(entry)) return entry;
  if (process.stderr.isTTY) process.stderr.write("tiers: sources changed, building the CLI…\n");
  const scratch = `${target}.tmp-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await bundle(dir, scratch, stamp);
  try {
    await rename(scratch, target);
  } catch (error) {
    // Another run finished the same build first: its result is identical, use it.
    await rm(scratch, { recursive: true, force: true });
    if (!existsSync(entry)) throw error;
  }
  await pruneOldBuilds(dir, stamp);
  return entry;
}

async function bundle(dir, outdir, stamp) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch (error) {
    throw new Error(
      `tiers: the CLI build in ${join(dir, "dist")} is missing or older than the sources, and esbuild (a dependency of @tiers/pipelines) cannot be loaded to rebuild it: ${error.message}; run npm ci`,
    );
  }
  await mkdir(outdir, { recursive: true });
  await esbuild.build({
    absWorkingDir: dir,
    entryPoints: { main: "src/surfaces/cli/main.ts" },
    outdir,
    bundle: true,
    // One chunk per command (commands/index.ts imports each lazily), shared code in chunks.
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20.19",
    sourcemap: "linked",
    // Less source for V8 to parse on every run (Node 20 keeps no compile cache): whitespace and
    // syntax only, identifiers kept, so stack traces and error names stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    // Bundled CommonJS dependencies (commander) call require() for Node built-ins.
    banner: {
      js: 'import { createRequire as __tiersRequire } from "node:module"; const require = __tiersRequire(import.meta.url);',
    },
    // Loaded at run time through createRequire (core/manifests/schema.ts), from node_modules;
    // libpg-query loads its WebAssembly file next to its own module, so it cannot be bundled.
    // autocannon is loaded on first use by the test tier's load test (engines/host/load-test.ts)
    // and resolves files next to its own modules (lib/worker.js, help.txt) by __dirname.
    external: ["kubernetes-models", "kubernetes-models/*", "libpg-query", "autocannon"],
    // The build's own identity, for caches whose entries are only valid for the code that
    // wrote them (engines/host/model-cache.ts). Absent when sources run unbundled (tsx, vitest).
    define: { __TIERS_BUILD_STAMP__: JSON.stringify(stamp) },
    logLevel: "warning",
  });
}

/** Removes builds of earlier sources; a build younger than an hour may still serve a run. */
async function pruneOldBuilds(dir, keep) {
  const dist = join(dir, "dist");
  const hour = 60 * 60 * 1000;
  for (const name of readdirSync(dist)) {
    if (name === keep || name === "stamp-fingerprint.json") continue;
    const path = join(dist, name);
    const info = await stat(path);
    if (Date.now() - info.mtimeMs > hour) await rm(path, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${relative(process.cwd(), await ensureBuilt())}\n`);
}
