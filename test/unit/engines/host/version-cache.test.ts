/**
 * The doctor's version cache on real files: an answer is reused only while the binary is the very
 * same file, and a cache it cannot read is an empty cache.
 */
import { chmod, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileVersionCache } from "../../../../pipelines/src/engines/host/version-cache.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-versions-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the doctor's version cache", () => {
  it("reuses an answer across runs while the binary is unchanged, per argument list", async () => {
    const tool = join(dir, "tool");
    await writeFile(tool, "#!/bin/sh\necho tool 1.0\n");
    await chmod(tool, 0o755);
    const file = join(dir, "cache", "tool-versions.json");
    const first = fileVersionCache(file);
    await first.set(tool, ["--version"], "tool 1.0");
    await first.save();
    const second = fileVersionCache(file);
    expect(await second.get(tool, ["--version"])).toBe("tool 1.0");
    expect(await second.get(tool, ["version", "--json"])).toBeUndefined();
  });

  it("asks again once the binary is replaced or touched", async () => {
    const tool = join(dir, "tool");
    await writeFile(tool, "#!/bin/sh\necho tool 1.0\n");
    const file = join(dir, "tool-versions.json");
    const cache = fileVersionCache(file);
    await cache.set(tool, ["--version"], "tool 1.0");
    await cache.save();
    await writeFile(tool, "#!/bin/sh\necho tool 2.0\n");
    expect(await fileVersionCache(file).get(tool, ["--version"])).toBeUndefined();
    await cache.set(tool, ["--version"], "tool 2.0");
    await cache.save();
    await utimes(tool, new Date(), new Date(Date.now() + 5_000));
    expect(await fileVersionCache(file).get(tool, ["--version"])).toBeUndefined();
  });

  it("treats an unreadable or foreign cache file as empty, and a missing binary as unknown", async () => {
    const file = join(dir, "tool-versions.json");
    await writeFile(file, "not json");
    const cache = fileVersionCache(file);
    expect(await cache.get(join(dir, "absent"), ["--version"])).toBeUndefined();
    await writeFile(file, "[1, 2]");
    expect(await fileVersionCache(file).get(join(dir, "absent"), ["--version"])).toBeUndefined();
  });
});
