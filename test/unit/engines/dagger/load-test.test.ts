/**
 * The Dagger module's load container, up to the engine boundary: its script runs here under real
 * Node with the real autocannon against a real HTTP server, and its output becomes figures the
 * way the module reads them. What only a Dagger engine does (the service binding, waiting for the
 * exposed port, `npm install` in the container) is not run here: no engine on this machine.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autocannonOptions } from "../../../../pipelines/src/core/promotion/load-test.ts";
import { figuresOf } from "../../../../pipelines/src/core/promotion/performance.ts";
import { loadScript, parseLoadOutput } from "../../../../pipelines/src/engines/dagger/load-test.ts";
import { repoRoot } from "../../../support/repo.ts";

const run = promisify(execFile);
let server: Server;
let dir: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers["content-type"] ?? ""}`);
    const status = req.url === "/missing" ? 404 : 200;
    setTimeout(() => res.writeHead(status).end("ok"), 5);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  dir = await mkdtemp(join(tmpdir(), "tiers-load-"));
  // The container installs autocannon next to the script; here the project's own install is.
  await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  await writeFile(join(dir, "load.mjs"), loadScript());
});

afterAll(async () => {
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const settings = {
  service: "svc",
  port: "http",
  command: ["serve"],
  duration_seconds: 1,
  connections: 2,
  timeout_seconds: 2,
  requests: [
    { method: "GET" as const, path: "/live" },
    { method: "POST" as const, path: "/work", body: "{}", content_type: "application/json" },
  ],
};

async function load(s: typeof settings, limitMs = 20_000) {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return run(process.execPath, [join(dir, "load.mjs")], {
    env: {
      ...process.env,
      TIERS_LOAD_OPTIONS: JSON.stringify(autocannonOptions(s, url)),
      TIERS_LOAD_LIMIT_MS: String(limitMs),
    },
    timeout: 30_000,
  });
}

describe("the Dagger load container's script (real Node, real autocannon, real HTTP server)", () => {
  it("sends the tier's requests in turn and prints every response time, which become figures", async () => {
    const { stdout } = await load(settings);
    const { result, times } = parseLoadOutput(stdout);
    expect(times.length).toBeGreaterThan(10);
    expect(seen).toContain("GET /live ");
    expect(seen).toContain("POST /work application/json");
    const figures = figuresOf({
      service: "svc",
      requests: ["GET /live", "POST /work"],
      connections: 2,
      durationSeconds: 1,
      result,
      responseTimesMs: times,
    });
    expect(figures.failed_requests).toBe(0);
    expect(figures.latency_ms.p50).toBeGreaterThanOrEqual(5);
    expect(figures.requests_per_second).toBeGreaterThan(0);
  });

  it("counts non-2xx answers, which the gate treats as failed requests", async () => {
    const { stdout } = await load({ ...settings, requests: [{ method: "GET", path: "/missing" }] });
    expect(parseLoadOutput(stdout).result.non2xx).toBeGreaterThan(0);
  });

  it("stops itself at its limit, and output without a result is an error naming the script", async () => {
    await expect(load({ ...settings, duration_seconds: 5 }, 500)).rejects.toMatchObject({
      stderr: expect.stringMatching(/did not finish within 0\.5s/),
    });
    expect(() => parseLoadOutput("npm warn something\n")).toThrow(
      /the load container printed no result: npm warn something/,
    );
  });
});
