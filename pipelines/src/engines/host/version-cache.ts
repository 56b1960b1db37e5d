/**
 * What a program said when asked its version, remembered per binary so `tiers doctor` does not
 * start a Python interpreter (docker-compose 1.29: about 1 s of CPU) or a 100 MB Go binary on
 * every run to hear the same answer. An answer is reused only while the file it came from is the
 * very same file: same resolved path, inode, size, modification and change times, and the same
 * arguments. Any install, upgrade, `touch` or replacement changes one of them and asks again.
 * Only successful answers are kept: a failure may be fixed without the binary changing.
 *
 * The cache is machine-local state under `.tiers/cache/` (git-ignored with the rest of .tiers);
 * a missing, unreadable or foreign file is an empty cache, never an error.
 */
import { mkdir, readFile, realpath, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { atomicWrite } from "./atomic-write.ts";

/** Where doctor keeps the answers, under a repository root. */
export const versionCacheFile = (root: string) => `${root}/.tiers/cache/tool-versions.json`;

interface Entry {
  /** The binary's identity when it answered. */
  identity: string;
  stdout: string;
}

export interface VersionCache {
  /** The remembered stdout of `file args`, if the file is still the one that answered. */
  get(file: string, args: readonly string[]): Promise<string | undefined>;
  set(file: string, args: readonly string[], stdout: string): Promise<void>;
  /** Writes the answers learnt in this run (atomically); no-op when nothing changed. */
  save(): Promise<void>;
}

async function identityOf(file: string): Promise<{ key: string; identity: string } | undefined> {
  try {
    const real = await realpath(file);
    const s = await stat(real, { bigint: true });
    return {
      key: real,
      identity: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
    };
  } catch {
    return undefined;
  }
}

/** The cache kept in `path`; reads it once, lazily. */
export function fileVersionCache(path: string): VersionCache {
  let entries: Record<string, Entry> | undefined;
  let dirty = false;
  const load = async () => {
    if (entries) return entries;
    try {
      const parsed = JSON.parse(await readFile(path, "utf8")) as unknown;
      entries =
        parsed && typeof parsed === "object" && !Array.isArray(parsed)
          ? (parsed as Record<string, Entry>)
          : {};
    } catch {
      entries = {};
    }
    return entries;
  };
  const keyOf = (real: string, args: readonly string[]) => JSON.stringify([real, ...args]);
  return {
    async get(file, args) {
      const [id, all] = await Promise.all([identityOf(file), load()]);
      if (!id) return undefined;
      const entry = all[keyOf(id.key, args)];
      return entry && entry.identity === id.identity && typeof entry.stdout === "string"
        ? entry.stdout
        : undefined;
    },
    async set(file, args, stdout) {
      const [id, all] = await Promise.all([identityOf(file), load()]);
      if (!id) return;
      all[keyOf(id.key, args)] = { identity: id.identity, stdout };
      dirty = true;
    },
    async save() {
      if (!dirty || !entries) return;
      try {
        await mkdir(dirname(path), { recursive: true });
        await atomicWrite(path, `${JSON.stringify(entries, null, 2)}\n`);
      } catch {
        // A cache that cannot be written costs the next run its speed, never its answer.
      }
    },
  };
}
