/**
 * The Dagger module, checked without a Dagger engine (none can run here): each function's
 * query is built lazily against the real SDK and read back through query.ts; the function
 * definitions are read by the SDK's own introspector (introspect.ts). Inputs come from this
 * repository's real environments/ and compose/ files.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Container, dag, Service } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { TiersError, UsageError } from "../../../pipelines/src/core/errors.ts";
import { testRunners } from "../../../pipelines/src/engines/dagger/checks.ts";
import { publishPlan } from "../../../pipelines/src/engines/dagger/release.ts";
import { repositoryIgnore } from "../../../pipelines/src/engines/dagger/workspace.ts";
import { serviceBuild, servicesToBuild } from "../../../pipelines/src/engines/host/build.ts";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import { toolImageRef } from "../../../pipelines/src/tools/images.ts";
import { introspect } from "../../support/dagger/introspect.ts";
import { commit, fixtureRoot, offlineTiers, repo } from "../../support/dagger/offline.ts";
import {
  chainOf,
  envVariables,
  execs,
  kindOf,
  labels,
  type NestedObject,
  opsNamed,
  secretName,
  visibleText,
} from "../../support/dagger/query.ts";

const moduleFile = new URL("../../../pipelines/src/index.ts", import.meta.url);
const tiers = offlineTiers;

function nested(value: unknown): NestedObject {
  if (!kindOf(value)) throw new Error("expected a nested Dagger object");
  return value as NestedObject;
}

/** The service bound under `alias` in a container's chain. */
function bound(object: unknown, alias: string): NestedObject {
  const op = opsNamed(object, "withServiceBinding").find((o) => o.args.alias === alias);
  if (!op) throw new Error(`no service bound as ${alias}`);
  return nested(op.args.service);
}

function opsIn(chain: NestedObject, operation: string) {
  return chain.chain.filter((op) => op.operation === operation);
}

describe("validate (no Dagger engine here; the terraform step runs on this machine's terraform)", () => {
  it("validates the environments with the CLI's loader, then checks terraform formatting in its pinned image", async () => {
    const t = tiers();
    // The same invocation on this machine's terraform (preinstalled): the vector really works.
    t.tool = (invocation) => runHost(invocation, { root: fixtureRoot, reject: false });
    const out = await t.validate();
    expect(out).toMatch(/environments valid: dev → test → staging → prod \(4 tiers\)/);
    const [fmt] = t.calls;
    expect(opsNamed(fmt?.container, "from")[0]?.args.address).toBe(toolImageRef("terraform"));
    expect(opsNamed(fmt?.container, "withWorkdir")[0]?.args.path).toBe("/repo/terraform");
    expect(execs(fmt?.container)).toEqual([
      ["terraform", "fmt", "-check", "-recursive", "-diff", "-no-color"],
    ]);
  });

  it("fails naming the files terraform fmt would rewrite", async () => {
    const t = tiers();
    t.tool = () => ({ exitCode: 3, stdout: "live/main.tf\n", stderr: "" });
    await expect(t.validate()).rejects.toThrow(/not canonically formatted: live\/main.tf/);
  });
});

describe("build (builds the query: no Dagger engine here)", () => {
  it("returns a Container built from the service's Dockerfile target, so `terminal` chains", async () => {
    const image = await tiers().build("api", repo, "production", undefined, "local/node:22");
    expect(image).toBeInstanceOf(Container);
    const [build] = opsNamed(image, "dockerBuild");
    // compose/compose.yaml builds from the repository root with the service's Dockerfile.
    expect(build?.args).toMatchObject({
      dockerfile: "services/api/Dockerfile",
      target: "production",
      buildArgs: [
        { name: "BASE_IMAGE", value: "local/node:22" },
        { name: "TIERS_GIT_SHA", value: commit },
      ],
    });
    // The build context is the repository argument itself: no sub-directory is selected.
    expect(
      chainOf(image)
        .map((op) => op.operation)
        .slice(0, 2),
    ).toEqual(["directory", "dockerBuild"]);
  });

  it("passes the same build arguments as the host engine's docker build (argument vector only on the host side)", async () => {
    const [service] = await servicesToBuild(fixtureRoot, ["api"]);
    const image = await tiers().build("api", repo, "production", undefined, "local/node:22");
    const dagger = (opsNamed(image, "dockerBuild")[0]?.args.buildArgs ?? []) as {
      name: string;
      value: string;
    }[];
    const revision = {
      commit,
      committedAt: "2026-01-02T03:04:05.000Z",
      dirty: false,
      source: "https://example.test/tiers.git",
    };
    const host = serviceBuild(
      {
        project: "tiers",
        registry: "r",
        namespace: "n",
        baseImage: "local/node:22",
        postgresImage: "local/postgres:15",
        caBundle: undefined,
      },
      service!,
      { target: "production", ref: "r/n/api:x", labels: {}, revision },
    ).args.flatMap((arg, i, args) => (args[i - 1] === "--build-arg" ? [arg] : []));
    expect(host).toEqual(dagger.map(({ name, value }) => `${name}=${value}`));
    expect(host).toContain(`TIERS_GIT_SHA=${commit}`);
  });

  it("labels the image with the OCI labels and the project's own, from the commit", async () => {
    const image = await tiers().build("api", repo);
    expect(labels(image)).toEqual({
      "org.opencontainers.image.revision": commit,
      "org.opencontainers.image.source": "https://example.test/tiers.git",
      "org.opencontainers.image.created": "2026-01-02T03:04:05.000Z",
      "org.opencontainers.image.version": commit,
      "org.opencontainers.image.title": "tiers-api",
      "tiers.service": "api",
      "tiers.target": "production",
    });
  });

  it("marks development images with the dev tier label that policy keeps out of staging and prod", async () => {
    const image = await tiers().build("worker", repo, "development");
    expect(labels(image)["tiers.environment"]).toBe("dev");
    expect(labels(image)["org.opencontainers.image.version"]).toBe(`${commit}-development`);
    expect(opsNamed(image, "dockerBuild")[0]?.args.target).toBe("development");
  });

  it("passes the CA bundle as the build secret `ca`, never as a build argument", async () => {
    const ca = dag.setSecret("ca", "-----BEGIN CERTIFICATE-----\nMIIproxyCA\n");
    const [plan] = (
      await publishPlan(tiers().pipeline(), {
        repo,
        commit,
        extraCaBundle: ca,
        baseImage: "local/node:22",
      })
    ).images;
    const [build] = opsNamed(plan?.container, "dockerBuild");
    const secrets = build?.args.secrets as unknown[];
    expect(secrets.map(secretName)).toEqual(["ca"]);
    expect(visibleText(plan?.container)).not.toContain("MIIproxyCA");
  });

  it("refuses an unknown service or target with a usage error naming the valid ones", async () => {
    await expect(tiers().build("nope", repo)).rejects.toThrow(UsageError);
    await expect(tiers().build("nope", repo)).rejects.toThrow(/unknown service "nope"/);
    await expect(tiers().build("api", repo, "release")).rejects.toThrow(
      /--target must be production, development or test/,
    );
  });
});

describe("test (builds the query: no Dagger engine here)", () => {
  it("builds each service's test target with PostgreSQL bound as a Dagger service", async () => {
    const runners = await testRunners(tiers().pipeline(), { repo });
    expect(Object.keys(runners).sort()).toEqual(["api", "worker"]);
    for (const runner of Object.values(runners)) {
      expect(opsNamed(runner, "dockerBuild")[0]?.args.target).toBe("test");
      const db = bound(runner, "postgres");
      expect(db.kind).toBe("Service");
      expect(envVariables(runner).DATABASE_URL).toMatch(/@postgres:5432\//);
      // The tier's runtime variables come from environments/test.yaml through compose.
      expect(envVariables(runner).TIERS_TIER).toBe("test");
      expect(envVariables(runner).TIERS_MARKER).toBe("🜁");
      expect(Object.keys(envVariables(runner))).not.toContain("<<");
    }
  });

  it("loads migrations and fixtures with the API's own runner, exactly as compose.test.yaml says", async () => {
    const { api, worker } = await testRunners(tiers().pipeline(), { repo });
    const composeTest = parse(
      await readFile(join(fixtureRoot, "compose/compose.test.yaml"), "utf8"),
    ) as { services: Record<string, { command?: string[] }> };
    const command = composeTest.services.api?.command;
    // The API runner's command is compose's: the schema runner with --fixtures, then the suite.
    expect(command?.join(" ")).toMatch(/node src\/migrate\.ts --fixtures && /);
    expect(opsNamed(api, "withDefaultArgs").map((op) => op.args.args)).toEqual([command]);
    expect(envVariables(api).TIERS_FIXTURES).toBe("loaded");
    // The worker keeps its test target's CMD and is told nothing about fixtures.
    expect(opsNamed(worker, "withDefaultArgs")).toEqual([]);
    expect(envVariables(worker).TIERS_FIXTURES).toBeUndefined();
    // PostgreSQL itself is plain: no init script, nothing of the repository mounted into it.
    const db = bound(api, "postgres");
    expect(opsIn(db, "withMountedFile")).toEqual([]);
    expect(opsIn(db, "withMountedDirectory")).toEqual([]);
    // The data directory is a tmpfs: nothing outlives the run.
    expect(opsIn(db, "withMountedTemp").map((op) => op.args.path)).toContain(
      "/var/lib/postgresql/data",
    );
    expect(opsIn(db, "asService")).toHaveLength(1);
  });

  it("binds infrastructure only: a test runner never starts another service's runner", async () => {
    const { worker } = await testRunners(tiers().pipeline(), { repo });
    const aliases = opsNamed(worker, "withServiceBinding").map((op) => op.args.alias);
    expect(aliases).toEqual(["postgres"]);
  });

  it("refuses a compose mount of a path that is not in the repository", async () => {
    const temp = await mkdtemp(join(tmpdir(), "tiers-dagger-compose-"));
    try {
      for (const dir of ["environments", "compose", "services"]) {
        await cp(join(fixtureRoot, dir), join(temp, dir), {
          recursive: true,
          filter: (path) => !path.includes("node_modules"),
        });
      }
      const file = join(temp, "compose/compose.test.yaml");
      const text = await readFile(file, "utf8");
      const tmpfs = "    tmpfs:\n      - /var/lib/postgresql/data\n";
      expect(text).toContain(tmpfs);
      await writeFile(
        file,
        text.replace(tmpfs, `${tmpfs}    volumes:\n      - ../not-here:/x:ro\n`),
      );
      const t = tiers();
      t.root = temp;
      await expect(testRunners(t.pipeline(), { repo })).rejects.toThrow(
        /compose mounts not-here, which is not in the repository/,
      );
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  });

  it("runs one service when asked, and refuses an unknown one", async () => {
    expect(Object.keys(await testRunners(tiers().pipeline(), { repo, service: "worker" }))).toEqual(
      ["worker"],
    );
    await expect(testRunners(tiers().pipeline(), { repo, service: "postgres" })).rejects.toThrow(
      UsageError,
    );
  });
});

describe("dev (builds the query: no Dagger engine here)", () => {
  it("returns one Service forwarding every port the dev override publishes", async () => {
    const front = await tiers().dev(repo);
    expect(front).toBeInstanceOf(Service);
    const chain = chainOf(front);
    const exposed = chain
      .filter((op) => op.operation === "withExposedPort")
      .map((op) => op.args.port);
    expect(exposed.sort()).toEqual([5432, 8080, 8081, 9229, 9230]);
    const aliases = chain
      .filter((op) => op.operation === "withServiceBinding")
      .map((op) => op.args.alias);
    expect(aliases.sort()).toEqual(["api", "postgres", "worker"]);
  });

  it("runs development targets with the source mounted and the database in a cache volume", async () => {
    const front = await tiers().dev(repo);
    const api = bound(front, "api");
    expect(opsIn(api, "dockerBuild")[0]?.args.target).toBe("development");
    const mounts = opsIn(api, "withMountedDirectory");
    const src = mounts.find((op) => String(op.args.path).endsWith("/services/api/src"));
    expect(src, "the dev override mounts the API source for hot reload").toBeDefined();
    expect(nested(src?.args.source).chain.at(-1)?.args.path).toBe("services/api/src");
    const db = nested(
      opsIn(api, "withServiceBinding").find((op) => op.args.alias === "postgres")?.args.service,
    );
    const cache = opsIn(db, "withMountedCache")[0];
    expect(cache?.args.path).toBe("/var/lib/postgresql/data");
    expect(nested(cache?.args.cache).chain[0]?.args.key).toBe("tiers-dev-pgdata");
  });
});

describe("publish (builds the query: no Dagger engine here)", () => {
  const password = "registry-Pa55-value";

  it("tags each production image with the commit and binds the registry password as a secret", async () => {
    const t = offlineTiers({
      registryUsername: "ci",
      registryPassword: dag.setSecret("registry-password", password),
      registry: "registry.example.test",
    });
    const plan = await publishPlan(t.pipeline(), { repo, commit });
    expect(plan.images.map((i) => i.ref)).toEqual([
      `registry.example.test/tiers/api:${commit}`,
      `registry.example.test/tiers/worker:${commit}`,
    ]);
    for (const { container } of plan.images) {
      const [auth] = opsNamed(container, "withRegistryAuth");
      expect(auth?.args.address).toBe("registry.example.test");
      expect(auth?.args.username).toBe("ci");
      expect(secretName(auth?.args.secret)).toBe("registry-password");
      expect(visibleText(container)).not.toContain(password);
      expect(labels(container)["tiers.target"]).toBe("production");
    }
  });

  it("refuses a working tree with uncommitted changes and builds nothing", async () => {
    const dirty = tiers();
    dirty.dirty = true;
    await expect(publishPlan(dirty.pipeline(), { repo })).rejects.toThrow(TiersError);
    await expect(publishPlan(dirty.pipeline(), { repo })).rejects.toThrow(/uncommitted changes/);
  });
});

describe("module definition as Dagger's introspector reads it (no Dagger engine here)", () => {
  const module = introspect(moduleFile, "Tiers");
  const functions = Object.values(module.functions);

  it("documents every function and every argument", () => {
    expect(functions.length).toBeGreaterThanOrEqual(5);
    for (const fn of functions) {
      expect(fn.description, fn.name).not.toBe("");
      for (const arg of fn.arguments)
        expect(arg.description, `${fn.name}(${arg.name})`).not.toBe("");
    }
    for (const arg of module.constructorArguments) expect(arg.description, arg.name).not.toBe("");
  });

  it("has every stage as a function", () => {
    expect(Object.keys(module.functions).sort()).toEqual(
      [
        "build",
        "deploy",
        "dev",
        "infraApply",
        "infraPlan",
        "plan",
        "promote",
        "publish",
        "recordScan",
        "recordTests",
        "rollback",
        "sign",
        "test",
        "validate",
        "verify",
      ].sort(),
    );
  });

  it("never caches a function with side effects", () => {
    for (const name of [
      "publish",
      "recordScan",
      "sign",
      "deploy",
      "promote",
      "rollback",
      "recordTests",
    ]) {
      expect(module.functions[name]?.cache, name).toBe("never");
    }
    // And the check can fail: build is deliberately cached by its inputs.
    expect(module.functions.build?.cache).toBeUndefined();
  });

  it("takes the repository from the module's context with the ignore list, and git history separately", () => {
    const [source, gitConfig] = module.constructorArguments;
    expect(source?.defaultPath).toBe("/");
    // A literal array in index.ts (the introspector drops identifiers), equal to the shared one.
    expect(source?.ignore).toEqual([...repositoryIgnore]);
    expect(source?.ignore).toEqual(
      expect.arrayContaining([
        ".git",
        "**/node_modules",
        "**/.env.*",
        "**/*.tfstate",
        "**/.terraform",
      ]),
    );
    // Only .git/config of the checkout, read for the origin remote.
    expect(gitConfig).toMatchObject({ defaultPath: "/", ignore: ["*", "!.git/config"] });
    // The git history is no constructor argument: a commit must not change every cache key.
    expect(module.constructorArguments.map((a) => a.type.name)).not.toContain("GitRepository");
    for (const name of ["build", "test", "recordTests", "dev", "publish", "sign", "verify"]) {
      const repo = module.functions[name]?.arguments.find((a) => a.name === "repo");
      expect(repo, name).toMatchObject({ defaultPath: "/", type: { name: "GitRepository" } });
    }
    for (const name of ["validate", "deploy", "plan", "promote", "rollback"]) {
      expect(
        module.functions[name]?.arguments.map((a) => a.name),
        name,
      ).not.toContain("repo");
    }
  });

  it("refuses a --commit that is not HEAD of the checkout, before building anything", async () => {
    const other = "f".repeat(40);
    await expect(tiers().build("api", repo, "production", other)).rejects.toThrow(
      /is not the checked-out HEAD/,
    );
    const dirty = tiers();
    dirty.dirty = true;
    // Naming HEAD explicitly does not skip the dirty check.
    await expect(publishPlan(dirty.pipeline(), { repo, commit })).rejects.toThrow(
      /uncommitted changes/,
    );
  });
});
