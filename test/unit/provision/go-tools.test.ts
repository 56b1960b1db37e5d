/**
 * The Go tools scripts/provision.sh installs are pinned in scripts/provision/go-tools.sh; the
 * cosign pin must be the version of the cosign image the Dagger module runs
 * (pipelines/src/tools/images.ts), so the host binary the tests exercise and the Dagger
 * module's cosign are one release.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toolImages } from "../../../pipelines/src/tools/images.ts";
import { repoRoot } from "../../support/repo.ts";

/** The GO_TOOLS lines of go-tools.sh: name, module path, version. */
function goToolPins(text: string): { name: string; module: string; version: string }[] {
  const block = /^GO_TOOLS=\(\n([\s\S]*?)\n\)$/m.exec(text);
  if (!block) throw new Error("scripts/provision/go-tools.sh has no GO_TOOLS=( ... ) block");
  return block[1]!
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const fields = /^"(\S+) (\S+) (v\d+\.\d+\.\d+)"$/.exec(line);
      if (!fields) throw new Error(`go-tools.sh: cannot read the pin ${line}`);
      return { name: fields[1]!, module: fields[2]!, version: fields[3]! };
    });
}

const pins = goToolPins(readFileSync(join(repoRoot, "scripts/provision/go-tools.sh"), "utf8"));

describe("Go tool pins (scripts/provision/go-tools.sh)", () => {
  it("installs cosign at the version of the cosign image the Dagger module runs", () => {
    const pin = pins.find((p) => p.name === "cosign");
    expect(pin?.module).toBe("github.com/sigstore/cosign/v2/cmd/cosign");
    expect(pin?.version).toBe(toolImages.cosign.tag);
  });

  it("pins every tool to an exact release, never a branch or latest", () => {
    expect(pins.length).toBeGreaterThan(0);
    for (const pin of pins) expect(pin.version).toMatch(/^v\d+\.\d+\.\d+$/);
    // The parser itself refuses a floating version, so the check above can fail.
    expect(() => goToolPins('GO_TOOLS=(\n  "x example.com/x@latest latest"\n)\n')).toThrow(
      /cannot read the pin/,
    );
  });
});
