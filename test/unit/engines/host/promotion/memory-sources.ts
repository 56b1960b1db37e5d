/**
 * In-memory fact sources for the promotion use cases (the interfaces of
 * engines/host/promotion/sources.ts): a registry of known references, artefact records, and
 * the records and overlay pins git would hold at HEAD. Records are kept as the YAML text the
 * host writes and read back with the same parser (`parseRecord`), so a malformed one fails
 * here as it would in git.
 */
import type { z } from "zod";
import {
  type ArtefactRecord,
  MissingArtefactRecord,
} from "../../../../../pipelines/src/core/artefact.ts";
import { loadModel } from "../../../../../pipelines/src/core/environment/index.ts";
import type { OverlayPin } from "../../../../../pipelines/src/core/promotion/overlay.ts";
import { parseRecord, renderRecord } from "../../../../../pipelines/src/core/promotion/records.ts";
import type { PinHistoryEntry } from "../../../../../pipelines/src/engines/host/history.ts";
import type {
  ArtefactReader,
  PromotionSources,
  RecordReader,
  RegistryReader,
} from "../../../../../pipelines/src/engines/host/promotion/sources.ts";
import type { RemoteImage } from "../../../../../pipelines/src/tools/registry.ts";

/** The model of the promotion-chain fixture: dev → test → staging → prod. */
export const fixtureModel = () =>
  loadModel(new URL("../../../../fixtures/promotion-chain", import.meta.url).pathname);

export const digestOf = (c: string) => `sha256:${c.repeat(64)}`;
export const commitOf = (c: string) => c.repeat(40);

/** A registry that serves exactly `images` (reference → image); anything else is unknown. */
export function memoryRegistry(images: Record<string, RemoteImage> = {}): RegistryReader & {
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    async inspect(ref) {
      asked.push(ref);
      const image = images[ref];
      return image ? { ok: true, value: image } : { ok: false, why: `manifest unknown (${ref})` };
    },
  };
}

/** A registry that cannot be reached at all. */
export const silentRegistry: RegistryReader = {
  inspect: async (ref) => ({ ok: false, why: `registry did not answer (${ref})` }),
};

export function remoteImage(name: string, digest: string, labels: Record<string, string> = {}) {
  return { name, digest, labels, created: "2026-01-01T00:00:00Z", architecture: "amd64" };
}

export function memoryArtefacts(records: ArtefactRecord[] = [], latest?: ArtefactRecord) {
  return {
    read: async (which: string) => {
      const found = which === "latest" ? latest : records.find((r) => r.commit === which);
      // Absent is its own error, as the host reader throws it (sources.ts reads any other as invalid).
      if (!found) throw new MissingArtefactRecord(`no artefact record for ${which}`);
      return found;
    },
    all: async () => records,
  } satisfies ArtefactReader;
}

/** Git at HEAD: record files by path (objects are rendered as tiers writes them) and pins. */
export function memoryRecords(
  files: Record<string, object | string> = {},
  pins: Record<string, OverlayPin[]> = {},
): RecordReader {
  const text = (v: object | string) => (typeof v === "string" ? v : renderRecord(v, "test"));
  return {
    async record<T>(schema: z.ZodType<T>, path: string): Promise<T | undefined> {
      const found = files[path];
      return found === undefined ? undefined : parseRecord(schema, text(found), path);
    },
    async files(dir: string) {
      return Object.keys(files).filter((p) => p.startsWith(`${dir}/`));
    },
    async pinsAt(tier: string) {
      return pins[tier];
    },
  } as RecordReader;
}

export function sources(given: Partial<PromotionSources> = {}): PromotionSources {
  return {
    registry: given.registry ?? memoryRegistry(),
    artefacts: given.artefacts ?? memoryArtefacts(),
    records: given.records ?? memoryRecords(),
  };
}

/** One overlay pin as readPins returns it. */
export function pin(index: number, name: string, newName: string, digest: string): OverlayPin {
  return { index, name, newName, digest, line: 56 + index * 3 };
}

/** A pin history entry (newest first in a history list). */
export function historyEntry(commit: string, pins: Record<string, string>): PinHistoryEntry {
  return {
    commit,
    author: "t <t@t.invalid>",
    date: "2026-01-01T00:00:00Z",
    subject: "pin",
    body: "",
    pins,
  };
}
