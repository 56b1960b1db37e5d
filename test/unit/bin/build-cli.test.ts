/**
 * The shipped CLI runs a JavaScript build of the sources (pipelines/bin/build-cli.js); these
 * tests run the real bin and the real esbuild on a throw-away copy of `pipelines/` whose CLI
 * entry point is a tiny fixture, so a stale build is easy to provoke.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript (it runs before any TypeScript tooling), no declarations.
import { buildDir, currentStamp, sourceStamp } from "../../../pipelines/bin/build-cli.js";
import { repoRoot, tiersBin } from "../../support/repo.ts";

const temps: string[] = [];
afterEach(async () => {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A copy of pipelines/bin with a fixture CLI that prints `word`; optionally no node_modules. */
async function fakePipelines(word: string, withModules = true): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "tiers-bin-"));
  temps.push(root);
  const pipelines = join(root, "pipelines");
  await mkdir(join(pipelines, "bin"), { recursive: true });
  for (const file of ["tiers.js", "build-cli.js"]) {
    await copyFile(join(repoRoot, "pipelines/bin", file), join(pipelines, "bin", file));
  }
  await writeMain(pipelines, word);
  if (withModules) await symlink(join(repoRoot, "node_modules"), join(root, "node_modules"));
  return pipelines;
}

async function writeMain(pipelines: string, word: string): Promise<void> {
  await mkdir(join(pipelines, "src/surfaces/cli"), { recursive: true });
  // Type annotations on purpose: only a real TypeScript build can run this.
  await writeFile(
    join(pipelines, "src/surfaces/cli/main.ts"),
    `export async function main(argv: readonly string[]): Promise<number> {\n  process.stdout.write(${JSON.stringify(word)} + " " + argv.length + "\\n");\n  return 3;\n}\n`,
  );
}

function run(pipelines: string) {
  return spawnSync(process.execPath, [join(pipelines, "bin/tiers.js"), "a"], { encoding: "utf8" });
}

describe("the tiers bin", () => {
  it("builds on first run and passes argv and the exit code through", async () => {
    const pipelines = await fakePipelines("first");
    const result = run(pipelines);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("first 3\n");
    expect(result.status).toBe(3);
    const builds = (await readdir(join(pipelines, "dist"))).filter((n) => !n.endsWith(".json"));
    expect(builds).toEqual([sourceStamp(pipelines)]);
  });

  it("never runs a stale build: a changed source is rebuilt before the run", async () => {
    const pipelines = await fakePipelines("before");
    expect(run(pipelines).stdout).toBe("before 3\n");
    const staleStamp = sourceStamp(pipelines);
    await writeMain(pipelines, "after");
    expect(sourceStamp(pipelines)).not.toBe(staleStamp);
    expect(run(pipelines).stdout).toBe("after 3\n");
    // The earlier build is young, so it is kept for runs that may still be loading its chunks.
    const builds = (await readdir(join(pipelines, "dist"))).filter((n) => !n.endsWith(".json"));
    expect(builds.sort()).toEqual([staleStamp, sourceStamp(pipelines)].sort());
  });

  it("counts a new source file as a change, even one nothing imports yet", async () => {
    const pipelines = await fakePipelines("x");
    const before = sourceStamp(pipelines);
    await writeFile(join(pipelines, "src/new.ts"), "export const a = 1;\n");
    expect(sourceStamp(pipelines)).not.toBe(before);
  });

  it("takes the stamp from the inputs' fingerprint once they settled, and hashes after any write", async () => {
    const pipelines = await fakePipelines("x");
    await new Promise((resolve) => setTimeout(resolve, 20));
    const settled = { settleMs: 0 };
    const first = currentStamp(pipelines, settled);
    expect(first).toEqual({ stamp: sourceStamp(pipelines), via: "contents" });
    expect(currentStamp(pipelines, settled)).toEqual({ ...first, via: "fingerprint" });
    // Same size, other bytes, and the modification time put back as it was: the status-change
    // time still moves (POSIX utimes sets st_ctime to now), so the contents are hashed again.
    const main = join(pipelines, "src/surfaces/cli/main.ts");
    const { atime, mtime } = await stat(main);
    await writeMain(pipelines, "y");
    await utimes(main, atime, mtime);
    const after = currentStamp(pipelines, settled);
    expect(after.via).toBe("contents");
    expect(after.stamp).not.toBe(first.stamp);
    expect(after.stamp).toBe(sourceStamp(pipelines));
  });

  it("remembers no fingerprint of inputs written within the settle time (racy timestamps)", async () => {
    const pipelines = await fakePipelines("x");
    expect(currentStamp(pipelines).via).toBe("contents");
    expect(currentStamp(pipelines).via).toBe("contents");
  });

  it("refuses, naming the build and the fix, when the build is stale and esbuild is missing", async () => {
    const pipelines = await fakePipelines("never", false);
    const result = run(pipelines);
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(join(pipelines, "dist"));
    expect(result.stderr).toContain("run npm ci");
  });

  it("bakes its own stamp into the build, for caches valid only for the code that wrote them", async () => {
    const pipelines = await fakePipelines("unused");
    await writeFile(
      join(pipelines, "src/surfaces/cli/main.ts"),
      `declare const __TIERS_BUILD_STAMP__: string;\nexport async function main(): Promise<number> {\n  process.stdout.write(__TIERS_BUILD_STAMP__);\n  return 0;\n}\n`,
    );
    const result = run(pipelines);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(sourceStamp(pipelines));
  });

  it("stops quietly when the reader closes the pipe before it writes (tiers --help | head)", async () => {
    // The read end is closed before the CLI has started, so its first write fails with EPIPE.
    const child = spawn(process.execPath, [tiersBin, "--help"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  });

  it("runs this checkout from the build of its current sources", () => {
    const result = spawnSync(process.execPath, [tiersBin, "--help"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Usage: tiers");
    expect(buildDir(sourceStamp())).toMatch(/pipelines\/dist\/[0-9a-f]{16}$/);
    expect(existsSync(join(buildDir(sourceStamp()), "main.js"))).toBe(true);
  });
});
