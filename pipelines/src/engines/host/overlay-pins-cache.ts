/**
 * The pins of an overlay text, remembered by content. `readPins` (core/promotion/overlay.ts) is
 * a pure function of the text, and parsing a kustomization with the `yaml` Document API is most
 * of what `tiers status` computes: tens of milliseconds for the first parse of a cold process,
 * for an answer that only changes when the overlay does.
 *
 * The key is a SHA-256 over the build stamp (the hash of the CLI's own sources, so a changed
 * parser never reuses an old answer) and the overlay's bytes. Nothing else is trusted: no
 * modification time, no path, no revision. Unbundled code (tsx, vitest) has no build stamp: it
 * remembers within the process only (one command reading the same text twice parses it once)
 * unless a test hands one in. Only successful reads are remembered; a text `readPins` refuses
 * is refused again, naming its file, every time.
 *
 * The cache is machine-local state under `.tiers/cache/` (git-ignored with the rest of .tiers).
 * A missing, unreadable or foreign file, or an entry of the wrong shape, is a miss, never an
 * error; a failed write costs the next run its speed, never its answer.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type OverlayPin, readPins } from "../../core/promotion/overlay.ts";
import { atomicWrite } from "./atomic-write.ts";
import { runningBuildStamp } from "./model-cache.ts";

/** Where the remembered pins live, under a repository root. */
export const overlayPinsCacheFile = (root: string) => `${root}/.tiers/cache/overlay-pins.json`;

/** Format of the file; bump when its shape changes. */
const formatVersion = 1;
/** Overlay versions kept (status reads a few per tier); the oldest go first. */
const maxEntries = 200;

interface CacheFile {
  version: number;
  entries: Record<string, OverlayPin[]>;
}

const isPin = (value: unknown): value is OverlayPin => {
  const pin = value as Partial<OverlayPin> | null;
  return (
    typeof pin === "object" &&
    pin !== null &&
    Number.isInteger(pin.index) &&
    Number.isInteger(pin.line) &&
    typeof pin.name === "string" &&
    ["newName", "newTag", "digest"].every((k) => {
      const field = (pin as Record<string, unknown>)[k];
      return field === undefined || typeof field === "string";
    })
  );
};

export interface OverlayPinsCache {
  /** `readPins(text, where)`, from the cache when the same build read the same bytes. */
  read(text: string, where: string): OverlayPin[];
  /**
   * The pins of git blob `oid`, whose text `read` gives. A blob id is git's hash of the bytes,
   * so it keys the answer as surely as they do, and a hit needs no git process to read them.
   */
  readBlob(oid: string, read: () => Promise<string>, where: string): Promise<OverlayPin[]>;
}

/**
 * A cache kept in `file` for the build `stamp` (default: the running build's; none when
 * unbundled, which keeps it in memory only). Reads the file once, on first use; writes it once
 * per turn of the event loop in which something new was learnt.
 */
export function overlayPinsCache(
  file: string,
  options: { stamp?: string | undefined; parse?: typeof readPins } = {},
): OverlayPinsCache {
  const stamp = "stamp" in options ? options.stamp : runningBuildStamp;
  const parse = options.parse ?? readPins;
  let entries: Map<string, OverlayPin[]> | undefined;
  let writing = false;
  const load = () => {
    if (entries) return entries;
    entries = new Map();
    if (!stamp) return entries;
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<CacheFile>;
      if (
        parsed.version === formatVersion &&
        parsed.entries &&
        typeof parsed.entries === "object"
      ) {
        for (const [key, pins] of Object.entries(parsed.entries)) {
          if (Array.isArray(pins) && pins.every(isPin)) entries.set(key, pins);
        }
      }
    } catch {
      // No cache yet, or not one this build can read: every read is a miss.
    }
    return entries;
  };
  const save = () => {
    writing = false;
    const all = [...load()].slice(-maxEntries);
    const content: CacheFile = { version: formatVersion, entries: Object.fromEntries(all) };
    atomicWrite(file, JSON.stringify(content)).catch(() => undefined);
  };
  const keyOf = (content: string) =>
    createHash("sha256")
      .update(`overlay-pins ${formatVersion}\0${stamp}\0${content}`)
      .digest("hex");
  const remembered = (key: string) =>
    load()
      .get(key)
      ?.map((pin) => ({ ...pin }));
  const learn = (key: string, pins: OverlayPin[]) => {
    load().set(
      key,
      pins.map((pin) => ({ ...pin })),
    );
    if (stamp && !writing) {
      writing = true;
      setImmediate(save);
    }
  };
  return {
    read(text, where) {
      const key = keyOf(`text\0${text}`);
      // A copy: callers may change what they are given without changing the cache.
      const known = remembered(key);
      if (known) return known;
      const pins = parse(text, where);
      learn(key, pins);
      return pins;
    },
    async readBlob(oid, read, where) {
      const key = keyOf(`blob\0${oid}`);
      const known = remembered(key);
      if (known) return known;
      const pins = parse(await read(), where);
      learn(key, pins);
      return pins;
    },
  };
}
