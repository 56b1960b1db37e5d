/** The one atomic file write: readers see the old content or the new, and no temp file stays. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { atomicWrite } from "../../../../pipelines/src/engines/host/atomic-write.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-atomic-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("atomicWrite", () => {
  it("creates the folder, replaces the old content, and leaves only the file", async () => {
    const file = join(dir, "nested", "record.json");
    await atomicWrite(file, "one\n");
    await atomicWrite(file, "two\n");
    expect(await readFile(file, "utf8")).toBe("two\n");
    expect(await readdir(join(dir, "nested"))).toEqual(["record.json"]);
  });

  it("keeps the old content and no temp file when the rename cannot happen", async () => {
    // A folder where the file should be: writing the temp file works, the rename over it fails.
    const target = join(dir, "taken");
    await mkdir(target);
    await writeFile(join(target, "inside"), "kept");
    await expect(atomicWrite(target, "new")).rejects.toThrow();
    expect(await readFile(join(target, "inside"), "utf8")).toBe("kept");
    expect(await readdir(dir)).toEqual(["taken"]);
  });
});
