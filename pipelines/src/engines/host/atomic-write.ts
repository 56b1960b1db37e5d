/**
 * The one way the host engine writes a file it keeps (an artefact record, a test report, a pin
 * overlay, an infra plan summary, a generated CI file): into a uniquely named temporary file
 * beside it, then renamed over it. A rename within one directory is atomic on POSIX, so a
 * reader (another `tiers`, a crash, Ctrl-C) sees the old content or the new, never a torn one.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** Writes `content` to `path` (creating its folder) so readers never see a partial file. */
export async function atomicWrite(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // pid + random: two processes, or two writes in one millisecond, never share a temp file.
  const temp = `${path}.tiers-${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temp, content, { mode: 0o644 });
    await rename(temp, path);
  } finally {
    // After a rename this is a no-op; after a failed write it leaves no stray temp file.
    await rm(temp, { force: true });
  }
}
