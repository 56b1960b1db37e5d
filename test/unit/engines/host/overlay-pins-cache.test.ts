/**
 * Overlay pins remembered by content: a hit gives exactly what parsing gives, a changed byte or
 * another build parses again, a broken cache file is a miss, and a refused overlay is refused
 * every time (never remembered as "no pins").
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readPins } from "../../../../pipelines/src/core/promotion/overlay.ts";
import { overlayPinsCache } from "../../../../pipelines/src/engines/host/overlay-pins-cache.ts";

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-pins-cache-"));
  file = join(dir, "cache", "overlay-pins.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const overlay = (digest: string) =>
  `images:\n  - name: tiers/api\n    newName: 127.0.0.1:5000/tiers/api\n    digest: sha256:${digest.repeat(64)}\n`;

/** readPins, counting its calls. */
function counting() {
  const calls: string[] = [];
  const parse: typeof readPins = (text, where) => {
    calls.push(where);
    return readPins(text, where);
  };
  return { calls, parse };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("overlay pins remembered by content", () => {
  it("answers a later run from the file, exactly as parsing would", async () => {
    const first = counting();
    const pins = overlayPinsCache(file, { stamp: "build-1", parse: first.parse }).read(
      overlay("a"),
      "k8s/overlays/prod/kustomization.yaml",
    );
    await settle();
    const later = counting();
    const again = overlayPinsCache(file, { stamp: "build-1", parse: later.parse }).read(
      overlay("a"),
      "elsewhere",
    );
    expect(later.calls).toEqual([]);
    expect(again).toEqual(pins);
    expect(again).toEqual(readPins(overlay("a"), "x"));
  });

  it("parses again for other bytes or another build", async () => {
    overlayPinsCache(file, { stamp: "build-1" }).read(overlay("a"), "x");
    await settle();
    const other = counting();
    overlayPinsCache(file, { stamp: "build-1", parse: other.parse }).read(overlay("b"), "x");
    overlayPinsCache(file, { stamp: "build-2", parse: other.parse }).read(overlay("a"), "x");
    expect(other.calls).toEqual(["x", "x"]);
  });

  it("treats a file it cannot read, or an entry of the wrong shape, as a miss", async () => {
    overlayPinsCache(file, { stamp: "build-1" }).read(overlay("a"), "x");
    await settle();
    const saved = JSON.parse(await readFile(file, "utf8")) as { entries: Record<string, unknown> };
    for (const key of Object.keys(saved.entries)) saved.entries[key] = [{ name: 7 }];
    await writeFile(file, JSON.stringify(saved));
    const wrongShape = counting();
    overlayPinsCache(file, { stamp: "build-1", parse: wrongShape.parse }).read(overlay("a"), "x");
    await settle(); // the miss rewrites the file; tear it after that
    await writeFile(file, "{torn");
    const torn = counting();
    overlayPinsCache(file, { stamp: "build-1", parse: torn.parse }).read(overlay("a"), "x");
    expect([wrongShape.calls, torn.calls]).toEqual([["x"], ["x"]]);
  });

  it("refuses a broken overlay every time, naming its file", async () => {
    const cache = overlayPinsCache(file, { stamp: "build-1" });
    for (let i = 0; i < 2; i++) {
      expect(() => cache.read("images: [\n", "k8s/overlays/prod/kustomization.yaml")).toThrow(
        /overlay is not valid YAML/,
      );
    }
  });

  it("without a build stamp, remembers within the process only and writes nothing", async () => {
    const counted = counting();
    const cache = overlayPinsCache(file, { stamp: undefined, parse: counted.parse });
    cache.read(overlay("a"), "x");
    cache.read(overlay("a"), "x");
    await settle();
    expect(counted.calls).toEqual(["x"]);
    await expect(readFile(file, "utf8")).rejects.toThrow(/ENOENT/);
  });

  it("knows a git blob's pins by its id, reading its text only on a miss", async () => {
    let reads = 0;
    const text = async () => {
      reads++;
      return overlay("c");
    };
    const oid = "c".repeat(40);
    const first = await overlayPinsCache(file, { stamp: "build-1" }).readBlob(oid, text, "x");
    await settle();
    const again = await overlayPinsCache(file, { stamp: "build-1" }).readBlob(oid, text, "x");
    expect(reads).toBe(1);
    expect(again).toEqual(first);
    expect(first).toEqual(readPins(overlay("c"), "x"));
    await overlayPinsCache(file, { stamp: "build-2" }).readBlob(oid, text, "x");
    expect(reads).toBe(2);
  });
});
