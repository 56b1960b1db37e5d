/**
 * Where promotion's facts come from, as small interfaces the use cases take (the way
 * engines/host/deploy.ts takes its `Runner`): the registry (skopeo on the host), the published
 * artefact records (.tiers/artefacts/) and the records and pins in git (`PromotionRepo`).
 * Unit tests hand in in-memory readers; the CLI uses the host ones built here.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { z } from "zod";
import {
  type ArtefactRecord,
  artefactDir,
  artefactRecordPaths,
  MissingArtefactRecord,
  missingArtefactRecord,
  parseArtefactRecord,
  readArtefactRecord,
} from "../../../core/artefact.ts";
import { firstLine } from "../../../core/errors.ts";
import type { Fact } from "../../../core/promotion/gates.ts";
import { overlayPath, readPins } from "../../../core/promotion/overlay.ts";
import { invalidRead, type RecordRead } from "../../../core/promotion/record-read.ts";
import { parseRecord } from "../../../core/promotion/records.ts";
import * as registry from "../../../tools/registry.ts";
import type { PromotionRepo } from "../history.ts";
import type { RepositoryReader } from "../repository-reader.ts";
import { runHost } from "../run.ts";

/** What the registry says about one reference, or why it could not say. */
export interface RegistryReader {
  inspect(ref: string): Promise<Fact<registry.RemoteImage>>;
}

/** The published artefact records (`tiers publish` writes one per commit). */
export interface ArtefactReader {
  /**
   * The record of a full commit SHA or `latest`; throws naming the file: a MissingArtefactRecord
   * when absent, any other error when the record is broken (see readArtefact).
   */
  read(which: string): Promise<ArtefactRecord>;
  /** Every readable record; a broken one is skipped here and reported when asked for by commit. */
  all(): Promise<ArtefactRecord[]>;
}

/**
 * Reads records and pins from git at HEAD (or a revision). `record` resolves to undefined only
 * when the file is absent and throws, naming the file, when it cannot be read or is invalid;
 * callers take records through readRecord, which keeps those cases apart.
 */
export type RecordReader = Pick<PromotionRepo, "record" | "files" | "pinsAt">;

/** A record through `records`, as the typed result: present, absent, or invalid (file and why). */
export async function readRecord<T>(
  records: Pick<RecordReader, "record">,
  schema: z.ZodType<T>,
  path: string,
): Promise<RecordRead<T>> {
  try {
    const value = await records.record(schema, path);
    return value === undefined
      ? { state: "absent", file: path }
      : { state: "present", file: path, value };
  } catch (error) {
    return invalidRead(path, error);
  }
}

/** An artefact record through `artefacts`, as the typed result (absent only when no file). */
export async function readArtefact(
  artefacts: Pick<ArtefactReader, "read">,
  which: string,
): Promise<RecordRead<ArtefactRecord>> {
  const file = join(artefactDir, which === "latest" ? "latest.json" : `${which}.json`);
  try {
    return { state: "present", file, value: await artefacts.read(which) };
  } catch (error) {
    if (error instanceof MissingArtefactRecord) return { state: "absent", file };
    return invalidRead(file, error);
  }
}

/** Everything candidate resolution and fact gathering read. */
export interface PromotionSources {
  registry: RegistryReader;
  artefacts: ArtefactReader;
  records: RecordReader;
}

/** The registry as skopeo on this machine sees it. */
export function skopeoRegistry(root: string, env: NodeJS.ProcessEnv): RegistryReader {
  return {
    async inspect(ref) {
      const invocation = registry.inspect(ref);
      try {
        const result = await runHost(invocation, { root, env, reject: false });
        if (result.exitCode !== 0) {
          const error = registry.registryError(invocation, result, registry.registryOf(ref));
          return { ok: false, why: `${firstLine(error)} (${ref})` };
        }
        return { ok: true, value: registry.parseInspect(result.stdout) };
      } catch (error) {
        return { ok: false, why: `cannot inspect ${ref}: ${firstLine(error)}` };
      }
    },
  };
}

/**
 * A registry reader that asks about each reference once per command: plan and status need the
 * same digest's labels for several gates, and a second round trip would only repeat the first.
 */
export function rememberingRegistry(reader: RegistryReader): RegistryReader {
  const seen = new Map<string, Promise<Fact<registry.RemoteImage>>>();
  return {
    inspect(ref) {
      let fact = seen.get(ref);
      if (!fact) {
        fact = reader.inspect(ref);
        seen.set(ref, fact);
      }
      return fact;
    },
  };
}

/** The artefact records under `<root>/.tiers/artefacts/`. */
export function artefactFiles(root: string): ArtefactReader {
  return {
    read: (which) => readArtefactRecord(root, which),
    async all() {
      const dir = join(root, artefactDir);
      const names = await readdir(dir).catch(() => [] as string[]);
      const records: ArtefactRecord[] = [];
      for (const name of names) {
        if (!/^[0-9a-f]{40}\.json$/.test(name)) continue;
        const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
        if (text === undefined) continue;
        try {
          records.push(parseArtefactRecord(text, join(dir, name)));
        } catch {
          // A broken record is reported when it is asked for by commit; a digest search skips it.
        }
      }
      return records;
    },
  };
}

/**
 * The artefact records read through `reader`, so an answer remembered by its reads
 * (read-trace.ts) knows which records it read. Same contract as artefactFiles, except that a
 * record that exists but cannot be read is an error naming it, never "absent".
 */
export function artefactsThrough(reader: RepositoryReader): ArtefactReader {
  const parse = async (which: string) => {
    const paths = artefactRecordPaths(reader.root, which);
    const file = which === "latest" ? paths.latest : paths.record;
    const text = await reader.text(relative(reader.root, file));
    if (text === undefined) throw missingArtefactRecord(which, file);
    return parseArtefactRecord(text, file);
  };
  return {
    read: parse,
    async all() {
      const names = await reader.names(artefactDir, false);
      const records: ArtefactRecord[] = [];
      for (const name of names) {
        const commit = /^([0-9a-f]{40})\.json$/.exec(name)?.[1];
        if (!commit) continue;
        // A broken record is reported when it is asked for by commit; a digest search skips it.
        records.push(
          ...(await parse(commit).then(
            (r) => [r],
            () => [],
          )),
        );
      }
      return records;
    },
  };
}

/**
 * Records and pins from a checkout's files rather than git: for an engine that receives the
 * repository without its .git (the Dagger module's filtered directory, a CI checkout of one
 * commit, where the files are that commit's). Same contract as the git reader: absent only
 * when there is no such file.
 */
export function workingTreeRecords(root: string): RecordReader {
  const text = async (path: string) => {
    try {
      return await readFile(join(root, path), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  };
  return {
    async record<T>(schema: z.ZodType<T>, path: string) {
      const found = await text(path);
      return found === undefined ? undefined : parseRecord(schema, found, path);
    },
    async files(dir: string) {
      const names = await readdir(join(root, dir), { recursive: true }).catch(() => [] as string[]);
      return names.map((n) => `${dir}/${n}`).sort();
    },
    async pinsAt(tier: string) {
      const found = await text(overlayPath(tier));
      return found === undefined ? undefined : readPins(found, overlayPath(tier));
    },
  };
}

/** The host's sources for a repository at `root`, reading git through `repo`. */
export function hostSources(
  root: string,
  env: NodeJS.ProcessEnv,
  repo: PromotionRepo,
  given: Partial<PromotionSources> = {},
): PromotionSources {
  return {
    registry: given.registry ?? rememberingRegistry(skopeoRegistry(root, env)),
    artefacts: given.artefacts ?? artefactFiles(root),
    records: given.records ?? repo,
  };
}
