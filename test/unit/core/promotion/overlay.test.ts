import { describe, expect, it } from "vitest";
import {
  findPin,
  readPins,
  setPins,
  setResourceListed,
} from "../../../../pipelines/src/core/promotion/overlay.ts";

const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;

const overlay = `# staging overlay: only what differs from base.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: tiers-staging   # one namespace per tier

resources:
  - ../../base

images:
  # The pin: promotion edits only the digest below.
  - name: tiers/api
    newName: 127.0.0.1:5000/tiers/api
    digest: ${A} # pinned by tiers
  - name: tiers/worker
    newName: 127.0.0.1:5000/tiers/worker   # no digest yet

replicas:
  - name: api
    count: 2
`;

describe("overlay pin edit", () => {
  it("reads every images: entry with its line", () => {
    const pins = readPins(overlay, "k.yaml");
    expect(pins.map((p) => [p.name, p.digest, p.line])).toEqual([
      ["tiers/api", A, 11],
      ["tiers/worker", undefined, 14],
    ]);
  });

  it("finds a service's pin by repository first, then by image name", () => {
    const pins = readPins(overlay, "k.yaml");
    expect(findPin(pins, "api", "127.0.0.1:5000/tiers/api")?.index).toBe(0);
    expect(findPin(pins, "worker")?.index).toBe(1);
    expect(findPin(pins, "web")).toBeUndefined();
  });

  it("replaces only the digest characters, keeping every comment and blank line", () => {
    const out = setPins(overlay, [{ index: 0, digest: B }], "k.yaml");
    expect(out).toBe(overlay.replace(A, B));
  });

  it("inserts a missing digest line aligned with the entry, touching nothing else", () => {
    const out = setPins(overlay, [{ index: 1, digest: B }], "k.yaml");
    expect(out).toBe(
      overlay.replace(
        "newName: 127.0.0.1:5000/tiers/worker   # no digest yet\n",
        `newName: 127.0.0.1:5000/tiers/worker   # no digest yet\n    digest: ${B}\n`,
      ),
    );
    expect(readPins(out, "k.yaml")[1]?.digest).toBe(B);
  });

  it("keeps the quote style of a quoted digest", () => {
    const quoted = overlay.replace(`digest: ${A}`, `digest: "${A}"`);
    const out = setPins(quoted, [{ index: 0, digest: B }], "k.yaml");
    expect(out).toContain(`digest: "${B}" # pinned by tiers`);
  });

  it("edits several pins in one pass", () => {
    const out = setPins(
      overlay,
      [
        { index: 0, digest: B },
        { index: 1, digest: A },
      ],
      "k.yaml",
    );
    expect(readPins(out, "k.yaml").map((p) => p.digest)).toEqual([B, A]);
    expect(out.split("\n").length).toBe(overlay.split("\n").length + 1);
  });

  it("fills an empty `digest:` value in place", () => {
    const empty = overlay.replace(`digest: ${A} # pinned by tiers`, "digest:");
    const out = setPins(empty, [{ index: 0, digest: B }], "k.yaml");
    expect(out).toBe(overlay.replace(`digest: ${A} # pinned by tiers`, `digest: ${B}`));
  });

  it("refuses to reformat a flow-style entry and an overlay without images:", () => {
    const flow = "images:\n  - { name: tiers/api, newName: r/api }\n";
    expect(() => setPins(flow, [{ index: 0, digest: B }], "k.yaml")).toThrow(/flow-style/);
    expect(() => setPins("resources: []\n", [{ index: 0, digest: B }], "k.yaml")).toThrow(
      /no `images:` list to pin/,
    );
    expect(readPins("resources: []\n", "k.yaml")).toEqual([]);
  });

  it("refuses a tag where a digest belongs", () => {
    expect(() => setPins(overlay, [{ index: 0, digest: "latest" }], "k.yaml")).toThrow(
      /not a sha256 digest/,
    );
  });

  it("names the file, line and column of invalid YAML", () => {
    expect(() =>
      readPins("images:\n  - name: [oops\n", "k8s/overlays/x/kustomization.yaml"),
    ).toThrow(/k8s\/overlays\/x\/kustomization.yaml:\d+:\d+|not valid YAML/);
  });
});

describe("setResourceListed: the admission policy's resources: entry, edited by lines", () => {
  const where = "k8s/overlays/x/kustomization.yaml";
  const text = "# head\nresources:\n    - ../../base # base\n    - monitoring.yaml\n\nimages: []\n";

  it("appends the entry after the last one, with its indentation, and keeps every other byte", () => {
    expect(setResourceListed(text, "admission-policy.yaml", true, where)).toBe(
      "# head\nresources:\n    - ../../base # base\n    - monitoring.yaml\n    - admission-policy.yaml\n\nimages: []\n",
    );
  });

  it("removes every line listing it and nothing else, and is a no-op when already right", () => {
    const listed = setResourceListed(text, "admission-policy.yaml", true, where);
    expect(setResourceListed(listed, "admission-policy.yaml", false, where)).toBe(text);
    expect(setResourceListed(text, "admission-policy.yaml", false, where)).toBe(text);
    expect(setResourceListed(listed, "admission-policy.yaml", true, where)).toBe(listed);
  });

  it("adds a resources: list when there is none, and fills an empty one", () => {
    expect(setResourceListed("kind: Kustomization", "a.yaml", true, where)).toBe(
      "kind: Kustomization\nresources:\n  - a.yaml\n",
    );
    expect(setResourceListed("resources:\nimages: []\n", "a.yaml", true, where)).toBe(
      "resources:\n  - a.yaml\nimages: []\n",
    );
    expect(setResourceListed("resources:", "a.yaml", true, where)).toBe("resources:\n  - a.yaml\n");
  });

  it("keeps a last line without a newline intact", () => {
    expect(setResourceListed("resources:\n  - b.yaml", "a.yaml", true, where)).toBe(
      "resources:\n  - b.yaml\n  - a.yaml\n",
    );
  });

  it("refuses a flow list or a non-list, naming the file", () => {
    expect(() => setResourceListed("resources: [b.yaml]\n", "a.yaml", true, where)).toThrow(
      /flow list/,
    );
    expect(() => setResourceListed("resources: b.yaml\n", "a.yaml", true, where)).toThrow(
      expect.objectContaining({ where }),
    );
  });
});
