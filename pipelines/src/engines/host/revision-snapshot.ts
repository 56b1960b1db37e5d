/**
 * The promotion records and overlays of a revision, read in as few git processes as one command
 * can: one `git ls-tree` lists every file under `releases/` and `k8s/overlays/` with its blob id,
 * and the blobs asked for in the same turn of the event loop are read by one
 * `git cat-file --batch`. `tiers status` asks for every tier's history, passages, verifications
 * and pins; `tiers plan` asks for a candidate's passage, rejection, overrides and evidence. Most
 * of those files do not exist, and the listing answers "absent" with no process at all.
 *
 * What the listing says is the revision's own content: a path missing from it is absent at
 * that revision (ls-tree lists every blob under the directories), and a blob is read by the id
 * the listing gave, so every answer comes from the same tree even if HEAD moves meanwhile.
 * When git cannot list (an unknown revision, a broken repository) or its output does not read
 * as documented, the snapshot answers nothing and the caller reads the file alone, which names
 * the failure: "could not read" never becomes "absent".
 */
import * as git from "../../tools/git.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";

/** The directories one listing covers (records, and the overlays that hold the pins). */
export const snapshotDirs = ["releases", "k8s/overlays"] as const;

/** True when `path` lies under one of the listed directories. */
export function inSnapshot(path: string): boolean {
  return snapshotDirs.some((dir) => path.startsWith(`${dir}/`));
}

type Run = (invocation: Invocation) => Promise<ToolResult>;

export class RevisionSnapshot {
  private readonly listings = new Map<string, Promise<Map<string, string> | undefined>>();
  private readonly blobs = new Map<string, Promise<string | undefined>>();
  private queued: string[] = [];

  /** `run` executes git and returns its result whatever the exit code. */
  constructor(private readonly run: Run) {}

  /** Path → blob id of every file under the snapshot directories at `rev`, or undefined. */
  listing(rev: string): Promise<Map<string, string> | undefined> {
    let listed = this.listings.get(rev);
    if (!listed) {
      // Any failure, git missing included, is "no listing": the single read then reports it.
      listed = this.run(git.listTree(rev, snapshotDirs)).then(
        (result) => (result.exitCode === 0 ? git.parseListTree(result.stdout) : undefined),
        () => undefined,
      );
      this.listings.set(rev, listed);
    }
    return listed;
  }

  /**
   * The text of blob `oid`, or undefined when the batch could not be read. Blobs asked for in
   * the same turn share one `git cat-file --batch`.
   */
  blob(oid: string): Promise<string | undefined> {
    let text = this.blobs.get(oid);
    if (!text) {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push(oid);
      text = new Promise<string | undefined>((resolve) => {
        this.waiting.set(oid, resolve);
      });
      this.blobs.set(oid, text);
    }
    return text;
  }

  private readonly waiting = new Map<string, (text: string | undefined) => void>();

  private flush(): void {
    const oids = this.queued;
    this.queued = [];
    this.run(git.catFileBatch(oids))
      .then(
        (result) =>
          result.exitCode === 0 ? git.parseCatFileBatch(`${result.stdout}\n`, oids) : undefined,
        () => undefined,
      )
      .then((texts) => {
        oids.forEach((oid, i) => {
          const text = texts?.[i];
          // A failed read is not remembered: the caller falls back, and a later ask tries again.
          if (text === undefined) this.blobs.delete(oid);
          this.waiting.get(oid)?.(text);
          this.waiting.delete(oid);
        });
      });
  }

  /** Forgets every listing and blob (HEAD moved: this repository committed). */
  clear(): void {
    this.listings.clear();
  }
}
