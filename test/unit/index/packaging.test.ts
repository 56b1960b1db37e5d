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

type Lock = {
  packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
};

/**
 * What the root (workspace) lock installs at `path` for the pipelines workspace: a package
 * nested under pipelines/node_modules shadows the hoisted one, as Node resolves it.
 */
function resolvedInRoot(lock: Lock, path: string) {
  return lock.packages[`pipelines/${path}`] ?? lock.packages[path];
}

/** Every package of the module lock whose version is not the one the root lock installs. */
function lockDrift(lock: Lock, rootLock: Lock): string[] {
  return Object.entries(lock.packages)
    .filter(([path]) => path !== "")
    .filter(([path, entry]) => resolvedInRoot(rootLock, path)?.version !== entry.version)
    .map(
      ([path, entry]) =>
        `${path} ${entry.version} (root: ${resolvedInRoot(rootLock, path)?.version})`,
    );
}

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
    // The SDK the tests and type-checks use is the root's dev dependency, pinned to the engine.
    expect(json("package.json").devDependencies["@dagger.io/dagger"]).toBe(sdk);
  });

  it("leaves @dagger.io/dagger out of the module's dependencies: the runtime provides it", () => {
    // sdk/typescript/runtime/tsutils/package_json_updator.go deletes it from dependencies and
    // devDependencies; runtime_node.go mounts the engine-generated SDK at sdk/ and at
    // node_modules/@dagger.io/dagger. Declaring it would be rewritten by `dagger develop`.
    const pkg = json("pipelines/package.json");
    expect(pkg.dependencies["@dagger.io/dagger"]).toBeUndefined();
    expect(pkg.devDependencies?.["@dagger.io/dagger"]).toBeUndefined();
  });

  it("survives `dagger develop`: package.json and tsconfig.json are already as it writes them", () => {
    // tsutils/package_json_updator.go UpdatePackageJSONForModule: type=module, a typescript
    // dependency (set if missing), @dagger.io/dagger removed. Nothing left to change.
    const pkg = json("pipelines/package.json");
    expect(pkg.type).toBe("module");
    expect(pkg.dependencies.typescript).toBeDefined();
    // tsutils/tsconfig_updator.go UpdateTSConfigForModule: comments stripped (this file is
    // plain JSON, read by JSON.parse above), these paths and experimentalDecorators set.
    const { compilerOptions } = json("pipelines/tsconfig.json");
    expect(compilerOptions.paths["@dagger.io/dagger"]).toEqual(["./sdk/index.ts"]);
    expect(compilerOptions.paths["@dagger.io/dagger/telemetry"]).toEqual(["./sdk/telemetry.ts"]);
    expect(compilerOptions.experimentalDecorators).toBe(true);
    // What it writes besides: sdk/ (gitignored, never imported) and the lock file (below).
    expect(readFileSync(join(root, ".gitignore"), "utf8")).toMatch(/^pipelines\/sdk\/?$/m);
  });

  it("pins the runtime's install: npm by packageManager, with a lock equal to the root lock", () => {
    // sdk/typescript/runtime/config.go detectPackageManager: `packageManager` wins, else the
    // lock file in the module directory, else Yarn 1.22.22 with no lock. The runtime only
    // sees pipelines/ (moduleConfigFiles: package.json, package-lock.json, .npmrc ...), and
    // runs `npm install --omit=dev` with that lock (runtime_node.go NpmPkgManager).
    const pkg = json("pipelines/package.json");
    // An exact version: the runtime installs it (`npm install -g npm@<version>`) before use.
    expect(pkg.packageManager).toMatch(/^npm@\d+\.\d+\.\d+$/);
    const lock = json("pipelines/package-lock.json") as Lock;
    expect(lock.packages[""]?.dependencies).toEqual(pkg.dependencies);
    const rootLock = json("package-lock.json") as Lock;
    expect(lockDrift(lock, rootLock)).toEqual([]);
    // And nothing the module needs is missing from its lock.
    for (const name of Object.keys(pkg.dependencies)) {
      expect(lock.packages[`node_modules/${name}`], name).toBeDefined();
    }
  });

  it("can fail: a version drifting from the root lock is noticed", () => {
    const lock = json("pipelines/package-lock.json") as Lock;
    lock.packages["node_modules/yaml"] = {
      ...lock.packages["node_modules/yaml"],
      version: "0.0.1",
    };
    expect(lockDrift(lock, json("package-lock.json") as Lock)).toEqual([
      expect.stringMatching(/^node_modules\/yaml 0\.0\.1 \(root: /),
    ]);
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
