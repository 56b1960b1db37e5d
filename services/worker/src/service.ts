import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  assertTier,
  createLogger,
  createServiceMetrics,
  flagsOf,
  type Logger,
  measureRequest,
  metricNames,
  observabilityOf,
  startTracing,
} from "@tiers/runtime";
import pg from "pg";
import { Counter, Gauge, type Registry } from "prom-client";
import { readWorkerConfig } from "./config.ts";
import { createProbeHandler, type ProbeReport } from "./health.ts";
import { PROCESSORS, type Processor } from "./processors.ts";
import { jobsTableExists, queueDepth } from "./queue.ts";
import { Worker } from "./worker.ts";

/** A started worker: its polling loop, probe server, pool and a graceful `close`. */
export interface WorkerService {
  worker: Worker;
  server: Server;
  /** The probe port actually bound (differs from PORT when PORT=0). */
  port: number;
  pool: pg.Pool;
  log: Logger;
  /**
   * Graceful shutdown: readiness turns 503, no new job is claimed, the job in hand is
   * recorded (or its lease simply expires if that takes longer than SHUTDOWN_TIMEOUT_MS),
   * then the probe server and the pool close.
   */
  close(): Promise<void>;
}

/** Liveness: the loop turned recently. A loop stuck longer than `stallMs` needs a restart. */
export function livenessOf(worker: Worker, stallMs: number, now = Date.now()): ProbeReport {
  const idleMs = now - worker.lastTickAt;
  const ok = !worker.running || idleMs <= stallMs;
  return {
    ok,
    checks: { loop: ok ? { ok } : { ok, detail: `no turn for ${idleMs} ms (limit ${stallMs})` } },
  };
}

/**
 * The worker's registry (prom-client): its probe requests, jobs finished by outcome, the age of
 * the loop's last turn, the queue's depth (read from the database at scrape time) and the
 * leases it lost because they expired before a result was recorded.
 */
export function workerMetrics(
  worker: Worker,
  info: { tier: string; gitSha: string },
  queueDepth: () => Promise<number>,
  now: () => number = Date.now,
) {
  const metrics = createServiceMetrics({ service: "worker", ...info });
  const { registry } = metrics;
  new Counter({
    name: "tiers_jobs_processed_total",
    help: "Jobs this worker finished, by outcome.",
    labelNames: ["outcome"] as const,
    registers: [registry],
    // The worker keeps the counts; a scrape copies them (reset first: counters only go up).
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(worker.counts)) this.inc({ outcome }, n);
    },
  });
  new Gauge({
    name: "tiers_worker_loop_idle_seconds",
    help: "Seconds since the polling loop last turned.",
    registers: [registry],
    collect() {
      this.set((now() - worker.lastTickAt) / 1000);
    },
  });
  new Gauge({
    name: metricNames.queueDepth,
    help: "Jobs waiting to run: queued and due, or running on an expired lease.",
    registers: [registry],
    async collect() {
      this.set(await queueDepth());
    },
  });
  new Counter({
    name: metricNames.leaseExpiries,
    help: "Jobs whose lease expired before this worker recorded their result.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(worker.counts["lease-lost"]);
    },
  });
  return metrics;
}

/** Registry text of `registry`, for the probe handler. */
function scrape(registry: Registry): () => Promise<string> {
  return () => registry.metrics();
}

/** Readiness: the database answers and holds the jobs table the API's migrations create. */
export async function readinessOf(pool: pg.Pool, shuttingDown: boolean): Promise<ProbeReport> {
  if (shuttingDown)
    return { ok: false, checks: { shutdown: { ok: false, detail: "shutting down" } } };
  try {
    const present = await jobsTableExists(pool);
    return {
      ok: present,
      checks: {
        database: { ok: true },
        schema: present
          ? { ok: true }
          : { ok: false, detail: "table jobs missing: the API's migrations have not run yet" },
      },
    };
  } catch (error) {
    return {
      ok: false,
      checks: { database: { ok: false, detail: `unreachable: ${(error as Error).message}` } },
    };
  }
}

/** What a caller (a test) may replace when starting the worker. */
export interface WorkerServiceOptions {
  /** Processors by job kind (default: the real ones). */
  processors?: Readonly<Record<string, Processor>>;
  /** Where log lines go (default: stdout/stderr), e.g. to assert on them. */
  write?: (line: string) => void;
}

/**
 * Starts the worker. The tier check runs first, before any connection is opened: a service
 * configured for one tier and started with another tier's settings refuses to start.
 */
export async function startWorker(
  env: NodeJS.ProcessEnv = process.env,
  options: WorkerServiceOptions = {},
): Promise<WorkerService> {
  const tier = assertTier(env);
  const processors = options.processors ?? PROCESSORS;
  const log = createLogger({
    service: "worker",
    tier,
    ...(options.write ? { write: options.write } : {}),
  });
  const config = readWorkerConfig(env);
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: 4,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: "tiers-worker",
  });
  // Idle clients losing their connection emit "error" on the pool; unhandled, that would
  // crash the process. The loop retries and readiness reports the outage instead.
  pool.on("error", (error) => log.warn("idle database connection lost", { error: error.message }));

  // Read before the loop starts: a bad value or an undeclared flag stops the start. The worker
  // reads no flag itself today; flagsOf still refuses a malformed TIERS_FLAG_* value.
  flagsOf(env);
  const observability = observabilityOf(env);
  const tracing = startTracing(observability, { service: "worker", tier: tier.tier });
  const worker = new Worker({
    db: pool,
    processors,
    log,
    workerId: config.workerId,
    pollIntervalMs: config.pollIntervalMs,
    leaseSeconds: config.leaseSeconds,
    retryBaseMs: config.retryBaseMs,
  });
  const metrics = workerMetrics(
    worker,
    {
      tier: tier.tier,
      gitSha: /^[0-9a-f]{7,40}$/.test(env.TIERS_GIT_SHA ?? "") ? env.TIERS_GIT_SHA! : "unknown",
    },
    () => queueDepth(pool),
  );
  let shuttingDown = false;
  const handler = createProbeHandler({
    liveness: () => livenessOf(worker, config.stallMs),
    readiness: () => readinessOf(pool, shuttingDown),
    metrics: observability.metrics.enabled ? scrape(metrics.registry) : undefined,
    metricsPath: observability.metrics.path,
  });
  const server = createServer((req, res) => {
    measureRequest(metrics, req, res, (path) =>
      ["/healthz", "/readyz", observability.metrics.path].includes(path) ? path : "unmatched",
    );
    void handler(req, res);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, () => resolve());
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  worker.start();
  log.info("worker started", { port, workerId: config.workerId });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      const stopped = worker.stop();
      const timeout = new Promise((resolve) =>
        setTimeout(resolve, config.shutdownTimeoutMs).unref(),
      );
      await Promise.race([stopped, timeout]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.end();
      await tracing?.shutdown();
      log.info("worker stopped", { ...worker.counts });
    })();
    return closing;
  };
  return { worker, server, port, pool, log, close };
}
