import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createProbeHandler, type Probes } from "../../src/health.ts";

let server: Server | undefined;
afterEach(
  () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
);

async function serve(probes: Probes): Promise<string> {
  server = createServer(createProbeHandler(probes));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const healthy: Probes = {
  liveness: () => ({ ok: true, checks: { loop: { ok: true } } }),
  readiness: async () => ({ ok: true, checks: { database: { ok: true } } }),
  metrics: () => "tiers_up 1\n",
};

describe("worker probe port", () => {
  it("answers 200 with the report when a probe passes and 503 when it fails", async () => {
    const base = await serve({
      ...healthy,
      readiness: async () => ({ ok: false, checks: { database: { ok: false, detail: "down" } } }),
    });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      ok: false,
      checks: { database: { ok: false, detail: "down" } },
    });
  });

  it("turns a probe that throws into a 503 naming the error", async () => {
    const base = await serve({
      ...healthy,
      readiness: async () => {
        throw new Error("pool is closed");
      },
    });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(JSON.stringify(await res.json())).toMatch(/pool is closed/);
  });

  it("serves metrics as Prometheus text and nothing else besides the probes", async () => {
    const base = await serve(healthy);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metrics.text()).toBe("tiers_up 1\n");
    const other = await fetch(`${base}/jobs`);
    expect(other.status).toBe(404);
    expect(await other.text()).toMatch(/try \/healthz or \/readyz/);
  });
});
