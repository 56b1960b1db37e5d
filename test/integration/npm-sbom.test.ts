/**
 * The SBOM of an image, made by the real `npm sbom` (npm >= 10, offline, from the lock file
 * alone): what it lists for this project's API workspace, and how its refusals are reported.
 * Scopes as npm writes them: lib/utils/sbom-cyclonedx.js of npm/cli,
 * `scope: (node.optional || node.devOptional) ? 'optional' : 'required'`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  cycloneDxSchema,
  requiredComponents,
} from "../../pipelines/src/core/promotion/security.ts";
import { runHost } from "../../pipelines/src/engines/host/run.ts";
import { generateSbom, imageWorkspace } from "../../pipelines/src/engines/host/supply-chain.ts";
import * as npm from "../../pipelines/src/tools/npm.ts";
import { repoRoot } from "../support/repo.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("npm sbom (the real npm, offline, lock file only)", () => {
  it("lists the API image's production packages as required and its dev dependencies as optional", async () => {
    const text = await generateSbom(
      repoRoot,
      imageWorkspace(repoRoot, "api", "services/api/Dockerfile"),
    );
    const bom = cycloneDxSchema.parse(JSON.parse(text));
    expect(bom.specVersion).toBe("1.5");
    const scope = (name: string) => bom.components.find((c) => c.name === name)?.scope;
    // pg and what pg needs at run time (pg-types is shared with the dev-only @types/pg).
    for (const name of ["pg", "pg-types", "pg-protocol", "prom-client"]) {
      expect(scope(name), name).toBe("required");
    }
    expect(scope("vitest")).toBe("optional");
    expect(requiredComponents(bom)).toBeGreaterThan(5);
  });

  it("a workspace root without a version is refused by npm (EINVALIDPURLTYPE), and the hint says what to add", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiers-npm-sbom-"));
    dirs.push(dir);
    await writeFile(
      join(dir, "package.json"),
      JSON.stringify({ name: "noversion", private: true }),
    );
    await writeFile(
      join(dir, "package-lock.json"),
      JSON.stringify({
        name: "noversion",
        lockfileVersion: 3,
        requires: true,
        packages: { "": { name: "noversion" } },
      }),
    );
    const invocation = npm.sbom(".");
    const result = await runHost(
      { ...invocation, args: invocation.args.slice(0, -2) },
      {
        root: dir,
        reject: false,
      },
    );
    expect(result.exitCode).not.toBe(0);
    expect(() => npm.sbomOutput("the root", result)).toThrow(/npm sbom of the root failed/);
    try {
      npm.sbomOutput("the root", result);
    } catch (error) {
      expect((error as { hint?: string }).hint).toMatch(/needs a "version" in every package\.json/);
    }
  });

  it("a service whose Dockerfile is not in an npm workspace has no SBOM tool, named before anything runs", () => {
    expect(() => imageWorkspace(repoRoot, "x", "images/base/node/Dockerfile")).toThrow(
      /no SBOM tool fits x: images\/base\/node\/package\.json or package-lock\.json is missing/,
    );
  });
});
