/**
 * The constructor state survives the round trip Dagger's TypeScript runtime makes between
 * calls: `dagger call --registry R promote …` runs the constructor in one invocation, the
 * engine stores the object as JSON, and the function runs in another invocation on an object
 * rebuilt from that JSON. The steps are the SDK's own code, run offline:
 * - sdk/typescript/src/module/entrypoint/load.ts `loadResult`: every own property of the
 *   constructed object must be a declared property of the class (else "could not find result
 *   property"); Dagger objects are replaced by their IDs;
 * - load.ts `loadParentState` / `loadValue`: each stored value is loaded back by the
 *   property's type (core types through `node(id:)`);
 * - sdk/typescript/src/module/executor.ts `buildClass`: `Object.create(prototype)` plus
 *   `Object.assign(state)` — the constructor does NOT run again, and field initialisers are
 *   lost, so everything a function needs must be a declared, serialisable property.
 * Only the IDs are faked (the engine assigns them), and the runtime's connection is a client
 * that refuses every request, so nothing can silently reach an engine: no Dagger engine here.
 */
import { Directory, dag, Secret } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { globalConnection } from "../../../node_modules/@dagger.io/dagger/dist/src/common/graphql/connection.js";
import {
  loadParentState,
  loadResult,
} from "../../../node_modules/@dagger.io/dagger/dist/src/module/entrypoint/load.js";
import { Executor } from "../../../node_modules/@dagger.io/dagger/dist/src/module/executor.js";
import { Tiers } from "../../../pipelines/src/index.ts";
import { moduleFile } from "../../support/dagger/help.ts";
import { introspect } from "../../support/dagger/introspect.ts";
import { chainOf } from "../../support/dagger/query.ts";

const definition = introspect(moduleFile, "Tiers").definition;
// The slice of the scanned module that load.ts and executor.ts read.
const daggerModule = { name: "tiers", objects: { Tiers: definition }, enums: {}, interfaces: {} };
// biome-ignore lint/suspicious/noExplicitAny: the SDK's internal entry points are untyped here
const sdk = { loadResult, loadParentState } as any;

/** Gives a lazily built SDK object the ID the engine would assign it. */
function withId<T extends object>(object: T, id: string): T {
  (object as { id: () => Promise<string> }).id = async () => id;
  return object;
}

/** Constructor → JSON → rebuilt object, as two runtime invocations would do it. */
async function roundTrip(instance: Tiers): Promise<{ json: string; rebuilt: Tiers }> {
  const state = await sdk.loadResult(instance, daggerModule, definition);
  const json = JSON.stringify(state);
  const executor = new Executor([{ Tiers }] as never, daggerModule as never);
  const parentArgs = JSON.parse(json);
  const loaded = await sdk.loadParentState(executor, definition, { parentArgs });
  return { json, rebuilt: executor.buildClass("Tiers", loaded) as Tiers };
}

// The runtime connects `dag` before loading state (loadValue builds core objects on it).
beforeAll(() =>
  globalConnection.setGQLClient({
    request: () => Promise.reject(new Error("no Dagger engine here")),
  } as never),
);
afterAll(() => globalConnection.resetClient());

describe("constructor state across the runtime's JSON round trip (SDK code offline; no Dagger engine here)", () => {
  it("keeps every module setting, and Dagger objects come back as the same IDs", async () => {
    const tiers = new Tiers(
      withId(dag.directory(), "dir:source"),
      withId(dag.directory(), "dir:git-config"),
      "registry.example.test",
      "ci",
      withId(dag.setSecret("registry-password", "x"), "secret:registry"),
      "https://git.example.test/tiers.git",
      withId(dag.setSecret("git-token", "y"), "secret:git"),
      undefined,
      "release",
    );
    const { json, rebuilt } = await roundTrip(tiers);
    expect(JSON.parse(json)).toEqual({
      source: "dir:source",
      gitConfig: "dir:git-config",
      registry: "registry.example.test",
      registryUsername: "ci",
      registryPassword: "secret:registry",
      gitRemote: "https://git.example.test/tiers.git",
      gitToken: "secret:git",
      gitUsername: "x-access-token",
      branch: "release",
    });
    expect(rebuilt).toBeInstanceOf(Tiers);
    const settings = rebuilt.pipeline().settings;
    expect(settings).toMatchObject({
      registry: "registry.example.test",
      registryUsername: "ci",
      gitRemote: "https://git.example.test/tiers.git",
      gitUsername: "x-access-token",
      branch: "release",
    });
    expect(settings.source).toBeInstanceOf(Directory);
    expect(settings.registryPassword).toBeInstanceOf(Secret);
    // Loaded back by ID, not re-created: the query starts from node(id:).
    expect(chainOf(settings.gitToken)[0]).toMatchObject({ args: { id: "secret:git" } });
    expect(chainOf(settings.source)[0]).toMatchObject({ args: { id: "dir:source" } });
  });

  it("keeps the defaults when no module flag is given (optional settings simply absent)", async () => {
    const tiers = new Tiers(withId(dag.directory(), "s"), withId(dag.directory(), "g"));
    const { json, rebuilt } = await roundTrip(tiers);
    expect(JSON.parse(json)).toEqual({
      source: "s",
      gitConfig: "g",
      gitUsername: "x-access-token",
      branch: "main",
    });
    expect(rebuilt.pipeline().settings.registry).toBeUndefined();
  });

  it("can fail: state the class does not declare is refused by the SDK", async () => {
    const tiers = new Tiers(withId(dag.directory(), "s"), withId(dag.directory(), "g"));
    Object.assign(tiers, { model: { tiers: {} } });
    await expect(sdk.loadResult(tiers, daggerModule, definition)).rejects.toThrow(
      /could not find result property model/,
    );
  });
});
