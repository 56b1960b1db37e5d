import { TierError } from "@tiers/runtime";
import { describe, expect, it } from "vitest";
import { readWorkerConfig } from "../../src/config.ts";
import { livenessOf, startWorker, workerMetrics } from "../../src/service.ts";
import type { Worker } from "../../src/worker.ts";

const unreachable = "postgresql://nobody@127.0.0.1:1/none";

describe("worker tier guard (no database: the guard must refuse before connecting)", () => {
  it("refuses to start when NODE_ENV contradicts the declared tier", async () => {
    await expect(
      startWorker({ TIERS_TIER: "staging", NODE_ENV: "development", DATABASE_URL: unreachable }),
    ).rejects.toBeInstanceOf(TierError);
  });

  it("refuses to start without a declared tier", async () => {
    await expect(startWorker({ DATABASE_URL: unreachable })).rejects.toThrow(
      /TIERS_TIER is not set/,
    );
  });
});

describe("worker liveness", () => {
  const worker = (running: boolean, lastTickAt: number) => ({ running, lastTickAt }) as Worker;

  it("is live while the loop turns within the stall limit", () => {
    expect(livenessOf(worker(true, 1_000), 5_000, 4_000).ok).toBe(true);
  });

  it("fails when the loop has not turned for longer than the limit, saying for how long", () => {
    const report = livenessOf(worker(true, 1_000), 5_000, 10_000);
    expect(report.ok).toBe(false);
    expect(report.checks.loop?.detail).toBe("no turn for 9000 ms (limit 5000)");
  });
});

describe("worker configuration", () => {
  it("defaults to the probe port 8081 declared in environments/base.yaml", () => {
    expect(readWorkerConfig({})).toMatchObject({
      port: 8081,
      pollIntervalMs: 500,
      leaseSeconds: 300,
      retryBaseMs: 1_000,
    });
  });

  it("names the variable and the accepted range when a value is wrong", () => {
    expect(() => readWorkerConfig({ WORKER_LEASE_SECONDS: "0" })).toThrow(
      "WORKER_LEASE_SECONDS=0: expected an integer from 1 to 86400",
    );
  });
});

describe("worker metrics", () => {
  it("exposes finished jobs by outcome, loop idle time, queue depth, lease expiries and build info", async () => {
    const worker = {
      counts: { done: 3, retry: 1, failed: 0, "lease-lost": 2 },
      lastTickAt: 1_000,
    } as unknown as Worker;
    const { registry } = workerMetrics(
      worker,
      { tier: "prod", gitSha: "abc1234" },
      async () => 7,
      () => 3_500,
    );
    const text = await registry.metrics();
    expect(text).toContain("tiers_worker_queue_depth 7");
    expect(text).toContain("tiers_worker_lease_expiries_total 2");
    expect(text).toContain('tiers_jobs_processed_total{outcome="done"} 3');
    expect(text).toContain('tiers_jobs_processed_total{outcome="retry"} 1');
    expect(text).toContain("tiers_worker_loop_idle_seconds 2.5");
    expect(text).toContain('tiers_build_info{git_sha="abc1234",service="worker",tier="prod"} 1');
  });
});
