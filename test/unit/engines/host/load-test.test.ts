/**
 * The host load test's failure path with an injected runner (no Docker here; the real run is
 * test/integration/load-test.test.ts): a server that never answers its liveness path makes the
 * test report why, within startup_timeout_seconds, and its container is removed whatever
 * happened, by a step that neither rejects nor can be aborted.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memorySink, Reporter } from "../../../../pipelines/src/core/log.ts";
import { measurePerformance } from "../../../../pipelines/src/engines/host/load-test.ts";
import type { Invocation } from "../../../../pipelines/src/tools/invocation.ts";
import { fixtureRepo } from "../../core/environment/fixtures.ts";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tiers-load-unit-"));
  await cp(join(fixtureRepo, "environments"), join(root, "environments"), { recursive: true });
  const test = join(root, "environments", "test.yaml");
  await writeFile(
    test,
    `${await readFile(test, "utf8")}
tests:
  performance:
    service: api
    port: http
    command: [node, src/server.ts]
    duration_seconds: 1
    connections: 1
    timeout_seconds: 1
    startup_timeout_seconds: 1
    requests: [{ method: GET, path: /healthz }]
`,
  );
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function context(services: string[]) {
  const calls: Array<{ args: readonly string[]; options?: object }> = [];
  const sink = memorySink();
  return {
    calls,
    sink,
    context: {
      root,
      tier: "test",
      project: { name: "p-test-1", files: ["compose/compose.yaml"] },
      labels: { "p.run": "1" },
      services,
      reporter: new Reporter({ sink }),
      run: async (invocation: Invocation, options?: object) => {
        calls.push({ args: invocation.args, ...(options ? { options } : {}) });
        // `docker port`: bound to a loopback port nothing listens on.
        return { stdout: invocation.args[0] === "port" ? "127.0.0.1:1\n" : "" };
      },
    },
  };
}

describe("measurePerformance (injected runner)", () => {
  it("a server that never answers: the report says why, and the container is removed", async () => {
    const { calls, sink, context: c } = context(["api"]);
    const result = await measurePerformance(c);
    expect(result).toEqual({
      error: expect.stringMatching(
        /p-test-1-load-api did not answer http:\/\/127\.0\.0\.1:1\/healthz within 1s/,
      ),
    });
    expect(calls[0]?.args).toEqual(
      expect.arrayContaining([
        "run",
        "--detach",
        "--publish",
        "127.0.0.1::8080",
        "api",
        "node",
        "src/server.ts",
      ]),
    );
    expect(calls.at(-1)).toEqual({
      args: ["rm", "--force", "--volumes", "p-test-1-load-api"],
      options: { reject: false, abortable: false },
    });
    expect(sink.errors.join("\n")).toMatch(/load test of api could not measure/);
  });

  it("a run that did not test the loaded service measures nothing and starts nothing", async () => {
    const { calls, context: c } = context(["worker"]);
    expect(await measurePerformance(c)).toBeUndefined();
    expect(calls).toEqual([]);
  });
});
