/**
 * An answer remembered with what it read, proved still valid by reading the same again.
 *
 * The repository checks of `tiers validate` are a deterministic function of the code running
 * them and of what they read through a RepositoryReader: files, directory listings, read-only
 * git queries. Run once with a recording reader, the answer is stored with every distinct read
 * and a digest of what each returned. A later run with the same key (the build and the model,
 * model-cache.ts) replays that list: the same reads, all at once, with no YAML parser, SQL
 * parser or check loaded. When every result is byte for byte what it was, the check would have
 * asked the same questions in the same order and got the same answers (its first read is fixed
 * by the key; each later one is decided by the answers before it), so its answer is the stored
 * one. A different result, a read that now fails, a missing, torn or foreign entry: the check
 * runs for real, and its failure is reported as it would be without the cache.
 *
 * Nothing is trusted that was not read in this run: no modification time, no file list of an
 * earlier run taken as still complete. An added file the check would have seen shows up as a
 * changed directory listing, because the check found its files by listing directories.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { atomicWrite } from "./atomic-write.ts";
import {
  type Answer,
  hostReader,
  perform,
  type Read,
  type RepositoryReader,
} from "./repository-reader.ts";

/** Format of an entry; bump when its shape changes. */
const entryVersion = 1;

interface TracedRead {
  read: Read;
  /** SHA-256 of the answer's canonical form. */
  sha256: string;
}

interface Entry<T> {
  version: number;
  key: string;
  reads: TracedRead[];
  answer: T;
  /** SHA-256 of the entry's reads and answer as written, so a torn or edited entry is a miss. */
  sha256: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** The canonical form of an answer; a query's is its exit code and output only. */
function canonical(answer: Answer): string {
  if (answer === undefined) return "absent";
  if (typeof answer === "string") return `text\0${answer}`;
  if (Array.isArray(answer)) return `names\0${answer.join("\0")}`;
  return `query\0${answer.exitCode}\0${answer.stdout}\0${answer.stderr}`;
}

const bodyDigest = (reads: readonly TracedRead[], answer: unknown) =>
  sha256(JSON.stringify({ reads, answer }));

async function readEntry<T>(file: string, key: string): Promise<Entry<T> | undefined> {
  try {
    const entry = JSON.parse(await readFile(file, "utf8")) as Partial<Entry<T>>;
    if (entry.version !== entryVersion || entry.key !== key || !Array.isArray(entry.reads)) {
      return undefined;
    }
    if (entry.sha256 !== bodyDigest(entry.reads, entry.answer)) return undefined;
    return entry as Entry<T>;
  } catch {
    return undefined;
  }
}

/** True when every traced read gives the answer it gave when the entry was written. */
async function stillHolds(root: string, reads: readonly TracedRead[]): Promise<boolean> {
  try {
    const now = await Promise.all(reads.map(({ read }) => perform(root, read)));
    return now.every((answer, i) => sha256(canonical(answer)) === reads[i]!.sha256);
  } catch {
    // A read that fails now is not "unchanged": run the check, which reports the failure.
    return false;
  }
}

/** What a computation tells the trace besides its reads. */
export interface Trace {
  /**
   * The answer used a fact no read can prove again (the registry's answer now, the clock):
   * it is returned, and not remembered.
   */
  forget(why: string): void;
}

export interface TracedOptions {
  /** What the answer depends on besides its reads: the build and the inputs it was given. */
  key: string;
  /** Where the entry lives (one entry: the latest answer). */
  file: string;
}

/**
 * `compute(reader)`'s answer for the repository at `root`, from the entry in `file` when the
 * same key was computed before and every read it made still gives the same result. `compute`
 * must read the repository only through `reader` (or read only what a read it made names, such
 * as git objects at the commit `reader.head()` gave), call `trace.forget` when it used anything
 * else, and its answer must be JSON.
 */
export async function rememberedByReads<T>(
  root: string,
  options: TracedOptions,
  compute: (reader: RepositoryReader, trace: Trace) => Promise<T>,
): Promise<T> {
  const remembered = await readEntry<T>(options.file, options.key);
  if (remembered && (await stillHolds(root, remembered.reads))) return remembered.answer;
  const reads: TracedRead[] = [];
  const reader = hostReader(root, (read, answer) => {
    reads.push({ read, sha256: sha256(canonical(answer)) });
  });
  let forgotten = false;
  const answer = await compute(reader, {
    forget: () => {
      forgotten = true;
    },
  });
  if (forgotten) return answer;
  const entry: Entry<T> = {
    version: entryVersion,
    key: options.key,
    reads,
    answer,
    sha256: bodyDigest(reads, answer),
  };
  // A failed write changes nothing but the next run's speed.
  await atomicWrite(options.file, JSON.stringify(entry)).catch(() => undefined);
  return answer;
}
