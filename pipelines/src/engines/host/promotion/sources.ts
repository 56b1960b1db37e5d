/**
 * Where promotion's facts come from, as small interfaces the use cases take (the way
 * engines/host/deploy.ts takes its `Runner`): the registry (skopeo on the host), the published
 * artefact records (.tiers/artefacts/) and the records and pins in git (`PromotionRepo`).
 * Unit tests hand in in-memory readers; the CLI uses the host ones built here.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ArtefactRecord,
  artefactDir,
  parseArtefactRecord,
  readArtefactRecord,
} from "../../../core/artefact.ts";
import { firstLine } from "../../../core/errors.ts";
import type { Fact } from "../../../core/promotion/gates.ts";
import * as registry from "../../../tools/registry.ts";
import type { PromotionRepo } from "../history.ts";
import { runHost } from "../run.ts";

/** What the registry says about one reference, or why it could not say. */
export interface RegistryReader {
  inspect(ref: string): Promise<Fact<registry.RemoteImage>>;
}

/** The published artefact records (`tiers publish` writes one per commit). */
export interface ArtefactReader {
  /** The record of a full commit SHA or `latest`; throws naming the file when absent. */
  read(which: string): Promise<ArtefactRecord>;
  /** Every readable record; a broken one is skipped here and reported when asked for by commit. */
  all(): Promise<ArtefactRecord[]>;
}

/** Reads records and pins from git at HEAD (or a revision). */
export type RecordReader = Pick<PromotionRepo, "record" | "files" | "pinsAt">;

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
