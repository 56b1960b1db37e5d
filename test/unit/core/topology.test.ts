import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadModel } from "../../../pipelines/src/core/environment/index.ts";
import {
  builtServices,
  checkTopology,
  interpolate,
  loadTopology,
  mergeComposeDocuments,
  nonLoopbackPorts,
  parseHealthcheck,
  parsePortMapping,
  topologyFrom,
} from "../../../pipelines/src/core/topology.ts";

// The fixture repository (test/fixtures/repo), not the shipped sample.
const root = resolve(import.meta.dirname, "../../fixtures/repo");

describe("the compose files agree with the environment model", () => {
  it("dev: same built services, infrastructure, container ports, health paths and build paths", async () => {
    const model = await loadModel(root);
    const topology = await loadTopology(root, "dev", {});
    expect(checkTopology(topology, model.tiers.dev!)).toEqual([]);
  });

  it("test: the same services as dev, with no published port and a probe on every dependency", async () => {
    const dev = await loadTopology(root, "dev", {});
    const test = await loadTopology(root, "test", {});
    expect(Object.keys(test.services).sort()).toEqual(Object.keys(dev.services).sort());
    expect(Object.values(test.services).flatMap((s) => s.published)).toEqual([]);
    expect(test.services.postgres?.health?.kind).toBe("command");
  });

  it("test: the API loads fixtures with its schema runner, then runs its test target's own CMD", async () => {
    const composeTest = parse(await readFile(resolve(root, "compose/compose.test.yaml"), "utf8"), {
      merge: true,
    }) as {
      services: Record<
        string,
        { command?: string[]; environment?: Record<string, string>; build?: unknown }
      >;
    };
    const dockerfile = await readFile(resolve(root, "services/api/Dockerfile"), "utf8");
    // The CMD of the `test` stage: the suite compose runs after loading the fixtures.
    const stage = dockerfile.slice(dockerfile.search(/^FROM \S+ AS test$/m));
    const cmd = /^CMD (\[.*\])$/m.exec(stage.slice(0, stage.indexOf("\nFROM ")))?.[1];
    expect(cmd).toBeDefined();
    const suite = (JSON.parse(cmd!) as string[]).join(" ");
    const api = composeTest.services.api;
    expect(api?.command).toEqual([
      "sh",
      "-c",
      `TIERS_LOG_LEVEL=info node src/migrate.ts --fixtures && exec ${suite}`,
    ]);
    expect(api?.environment?.TIERS_FIXTURES).toBe("loaded");
    // Every other runner (a service built here) keeps its image's CMD: only the API owns the
    // schema. Infrastructure may set a command (PostgreSQL's first start, below).
    for (const [name, service] of Object.entries(composeTest.services)) {
      if (name !== "api" && service.build) expect(service.command, name).toBeUndefined();
    }
  });

  it("test: PostgreSQL initialises in one pass, password-authenticated, then serves through the image's entrypoint", async () => {
    const composeTest = parse(await readFile(resolve(root, "compose/compose.test.yaml"), "utf8"), {
      merge: true,
    }) as { services: Record<string, { command?: string[]; tmpfs?: string[] }> };
    const postgres = composeTest.services.postgres;
    const [shell, flag, script = "", , ...server] = postgres?.command ?? [];
    expect([shell, flag]).toEqual(["bash", "-c"]);
    // The password reaches initdb through a pipe (a process substitution), never as a word of
    // any argument vector: the script names the variable, compose passes the value by env.
    expect(script).toContain(String.raw`--pwfile=<(printf '%s\n' "$$POSTGRES_PASSWORD")`);
    expect(script.replaceAll('"$$POSTGRES_PASSWORD"', "")).not.toMatch(/POSTGRES_PASSWORD/);
    // SCRAM for every TCP connection, as the image's entrypoint sets it up (docker-entrypoint.sh
    // init_database: POSTGRES_HOST_AUTH_METHOD defaults to scram-sha-256, appended to pg_hba.conf).
    expect(script).toContain("--auth-host=scram-sha-256");
    expect(script).toContain("host all all all scram-sha-256");
    // The server itself is started by the image's entrypoint, which skips its initialisation
    // once $PGDATA/PG_VERSION exists (docker-entrypoint.sh, the PG_VERSION test before init).
    expect(script).toContain('[ ! -s "$$PGDATA/PG_VERSION" ]');
    expect(script.trim().split("\n").at(-1)).toBe('exec docker-entrypoint.sh "$$@"');
    // Non-durable settings only where the data is thrown away: a tmpfs (PostgreSQL docs,
    // "Non-Durable Settings").
    expect(postgres?.tmpfs).toEqual(["/var/lib/postgresql/data"]);
    expect(server).toEqual([
      "postgres",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
    ]);
  });

  it("dev publishes ports on 127.0.0.1 only", async () => {
    const dev = await loadTopology(root, "dev", {});
    expect(nonLoopbackPorts(dev)).toEqual([]);
    expect(dev.services.api?.published.length).toBeGreaterThan(0);
  });

  it("builds development images for dev and test images for test, from the same Dockerfiles", async () => {
    const dev = builtServices(await loadTopology(root, "dev", {}));
    const test = builtServices(await loadTopology(root, "test", {}));
    expect(dev.map((s) => s.build?.target)).toEqual(dev.map(() => "development"));
    expect(test.map((s) => s.build?.target)).toEqual(test.map(() => "test"));
    expect(test.map((s) => s.build?.dockerfile)).toEqual(dev.map((s) => s.build?.dockerfile));
  });

  it("take images from variables with public defaults", async () => {
    const plain = await loadTopology(root, "dev", {});
    expect(plain.services.postgres?.image).toBe("postgres:15-bookworm");
    const local = await loadTopology(root, "dev", {
      TIERS_POSTGRES_IMAGE: "local/postgres:15-bookworm",
      TIERS_IMAGE_PREFIX: "127.0.0.1:5000/tiers",
      TIERS_IMAGE_TAG: "abc-development",
    });
    expect(local.services.postgres?.image).toBe("local/postgres:15-bookworm");
    expect(local.services.api?.image).toBe("127.0.0.1:5000/tiers/api:abc-development");
  });
});

describe("drift is reported, naming the service and both values", () => {
  const compose = `
services:
  db: { image: pg, expose: ["5432"], healthcheck: { test: ["CMD", "pg_isready"] } }
  api:
    build: { context: ../services/api }
    expose: ["8080"]
    healthcheck: { test: ["CMD", "node", "-e", "fetch('http://127.0.0.1:8080/healthz')"] }
`;
  const topology = topologyFrom("dev", [{ path: "compose/compose.yaml", text: compose }], {});

  it("agrees when everything matches", () => {
    expect(
      checkTopology(topology, {
        services: {
          api: {
            ports: { http: 8080 },
            health: { liveness: "/healthz" },
            build: { context: "services/api", dockerfile: "services/api/Dockerfile" },
          },
        },
        dependencies: { db: { port: 5432 } },
      }),
    ).toEqual([]);
  });

  it("catches a port, a health path, a build context, a service set and a dependency that differ", () => {
    const problems = checkTopology(topology, {
      services: {
        api: { ports: { http: 8081 }, health: { liveness: "/livez" }, build: { context: "." } },
        worker: { ports: { health: 8082 } },
      },
      dependencies: { db: { port: 5433 } },
    });
    expect(problems.join("\n")).toMatch(
      /built services \[api\] differ from environments services \[api, worker\]/,
    );
    expect(problems.join("\n")).toMatch(
      /api: compose listens on \[8080\], environments declare ports \[8081\]/,
    );
    expect(problems.join("\n")).toMatch(
      /api: compose healthcheck probes \/healthz, environments declare liveness \/livez/,
    );
    expect(problems.join("\n")).toMatch(
      /api: compose builds from context services\/api, environments declare \./,
    );
    expect(problems.join("\n")).toMatch(/db: environments declare port 5433/);
  });
});

describe("compose semantics the topology reproduces", () => {
  it("interpolates like compose", () => {
    const env = { SET: "x", EMPTY: "" };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's ${VAR} syntax, on purpose
    expect(interpolate("${SET}-$SET-${UNSET:-d}-${EMPTY:-d}-${EMPTY-d}-$$HOME", env)).toBe(
      "x-x-d-d--$HOME",
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's ${VAR} syntax, on purpose
    expect(() => interpolate("${UNSET:?set it}", env)).toThrow(/UNSET is not set: set it/);
  });

  it("merges overrides: maps by key, ports add up, volumes by target, labels by key", () => {
    const merged = mergeComposeDocuments([
      {
        services: {
          a: { image: "i", ports: ["1:1"], volumes: ["v:/d", "/h:/x"], labels: ["k=1"] },
        },
      },
      {
        "x-anchor": { ignored: true },
        services: { a: { ports: ["2:2"], volumes: ["w:/d"], labels: { j: "2" }, image: "o" } },
      },
    ]) as { services: { a: Record<string, unknown> } };
    expect(merged.services.a).toEqual({
      image: "o",
      ports: ["1:1", "2:2"],
      volumes: ["w:/d", "/h:/x"],
      labels: { k: "1", j: "2" },
    });
    expect(merged).not.toHaveProperty("x-anchor");
  });

  it("reads port mappings and health probes", () => {
    expect(parsePortMapping("127.0.0.1:8080:80/tcp")).toEqual({
      hostIp: "127.0.0.1",
      hostPort: "8080",
      containerPort: 80,
    });
    expect(parsePortMapping("9229")).toEqual({ hostIp: "", hostPort: "", containerPort: 9229 });
    expect(parseHealthcheck({ test: ["CMD", "pg_isready"] })).toEqual({
      kind: "command",
      command: ["pg_isready"],
    });
    expect(parseHealthcheck({ test: ["NONE"] })).toBeUndefined();
  });
});
