/**
 * How Dagger will load the module, checked without Dagger: it uploads only `dagger.json` and the
 * source directory (`pipelines/`), installs only the production dependencies of
 * `pipelines/package.json`, and compiles with `pipelines/tsconfig.json`. A module file that
 * imports a dev dependency or a file outside pipelines/ works in the tests here and breaks
 * under `dagger call`; these tests catch that first. (No Dagger engine here.)
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { repositoryRoot as root } from "../../support/dagger/offline.ts";

const json = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8"));

/** Every file reachable from the module entry point by relative imports, and every package. */
function reachable(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName: spec } of info.importedFiles) {
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec);
        expect(existsSync(target), `${relative(root, file)} imports missing ${spec}`).toBe(true);
        pending.push(target);
      } else if (!spec.startsWith("node:")) {
        const parts = spec.split("/");
        packages.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!);
      }
    }
  }
  return { files, packages };
}

describe("the module as Dagger loads it (no Dagger engine here)", () => {
  const config = json("dagger.json") as {
    name: string;
    engineVersion: string;
    sdk: { source: string };
    source: string;
    include?: string[];
  };

  it("declares the module tiers, TypeScript, sources in pipelines/, engine pinned to the SDK", () => {
    const sdk = json("node_modules/@dagger.io/dagger/package.json").version as string;
    expect(config).toEqual({
      name: "tiers",
      engineVersion: `v${sdk}`,
      sdk: { source: "typescript" },
      source: "pipelines",
      // Loading the module uploads its source; installed dependencies are reinstalled anyway.
      include: ["!**/node_modules"],
    });
    expect(json("pipelines/package.json").dependencies["@dagger.io/dagger"]).toBe(sdk);
  });

  it("imports only production dependencies of pipelines/package.json and files inside pipelines/", () => {
    const { files, packages } = reachable(join(root, config.source, "src/index.ts"));
    const dependencies = Object.keys(json("pipelines/package.json").dependencies);
    for (const name of packages) expect(dependencies, `module imports ${name}`).toContain(name);
    for (const file of files) {
      expect(relative(join(root, config.source), file).startsWith(".."), file).toBe(false);
    }
    expect(packages).toContain("@dagger.io/dagger");
    // Dagger's TypeScript runtime reads the module with the TypeScript compiler before it can
    // register a function; with the bundled SDK it takes `typescript` from the module's own deps.
    expect(dependencies).toContain("typescript");
  });

  it("runs a CLI in the promotion toolbox that production dependencies alone can start", () => {
    // The toolbox installs `npm ci --omit=dev --workspace=pipelines` (whose `prepare` builds the
    // CLI), then runs bin/tiers.js, which rebuilds with esbuild when the build is stale.
    const pipelines = json("pipelines/package.json");
    const dependencies = Object.keys(pipelines.dependencies);
    expect(pipelines.scripts.prepare).toBe("node bin/build-cli.js");
    const binPackages = ["tiers.js", "build-cli.js"].flatMap((file) =>
      ts
        .preProcessFile(readFileSync(join(root, "pipelines/bin", file), "utf8"), true, true)
        .importedFiles.map((f) => f.fileName)
        .filter((f) => !f.startsWith(".") && !f.startsWith("node:")),
    );
    expect(binPackages.map((f) => f.split("/")[0])).toEqual(["esbuild"]);
    const { packages } = reachable(join(root, "pipelines/src/surfaces/cli/main.ts"));
    for (const name of [...packages, ...binPackages])
      expect(dependencies, `CLI needs ${name}`).toContain(name);
  });

  it("never imports the generated SDK, which only exists inside the engine", () => {
    const { files } = reachable(join(root, config.source, "src/index.ts"));
    for (const file of files) {
      const imports = ts.preProcessFile(readFileSync(file, "utf8")).importedFiles;
      for (const { fileName } of imports) expect(fileName, file).not.toMatch(/(^|\/)sdk(\/|$)/);
    }
    expect(readFileSync(join(root, ".gitignore"), "utf8")).toMatch(/^pipelines\/sdk\/?$/m);
    expect(json("tsconfig.json").exclude).toContain("pipelines/sdk");
    expect(json("tsconfig.json").include).toContain("pipelines/src");
  });

  it("compiles with decorators and .ts imports, and finds the SDK with or without ./sdk", () => {
    const { compilerOptions } = json("pipelines/tsconfig.json");
    expect(compilerOptions.experimentalDecorators).toBe(true);
    expect(compilerOptions.allowImportingTsExtensions).toBe(true);
    expect(compilerOptions.paths["@dagger.io/dagger"]).toEqual(["./sdk/index.ts"]);
  });
});
