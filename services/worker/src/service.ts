import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { assertTier, createLogger, type Logger } from "@tiers/runtime";
import pg from "pg";
import { readWorkerConfig } from "./config.ts";
import { createProbeHandler, type ProbeReport } from "./health.ts";
import { PROCESSORS, type Processor } from "./processors.ts";
import { jobsTableExists } from "./queue.ts";
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
 * Prometheus text for the worker: jobs finished by outcome and the age of the loop's last
 * turn. Label values are fixed words, so no escaping is needed.
 */
export function workerMetrics(
  worker: Worker,
  info: { tier: string; gitSha: string },
  now = Date.now(),
) {
  const lines = [
    "# HELP tiers_jobs_processed_total Jobs this worker finished, by outcome.",
    "# TYPE tiers_jobs_processed_total counter",
    ...Object.entries(worker.counts).map(
      ([outcome, n]) => `tiers_jobs_processed_total{outcome="${outcome}"} ${n}`,
    ),
    "# HELP tiers_worker_loop_idle_seconds Seconds since the polling loop last turned.",
    "# TYPE tiers_worker_loop_idle_seconds gauge",
    `tiers_worker_loop_idle_seconds ${(now - worker.lastTickAt) / 1000}`,
    "# HELP tiers_build_info Always 1; labels say which build runs in which tier.",
    "# TYPE tiers_build_info gauge",
    `tiers_build_info{git_sha="${info.gitSha}",service="worker",tier="${info.tier}"} 1`,
  ];
  return `${lines.join("\n")}\n`;
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

  const worker = new Worker({
    db: pool,
    processors,
    log,
    workerId: config.workerId,
    pollIntervalMs: config.pollIntervalMs,
    leaseSeconds: config.leaseSeconds,
    retryBaseMs: config.retryBaseMs,
  });
  let shuttingDown = false;
  const handler = createProbeHandler({
    liveness: () => livenessOf(worker, config.stallMs),
    readiness: () => readinessOf(pool, shuttingDown),
    metrics: () =>
      workerMetrics(worker, {
        tier: tier.tier,
        gitSha: /^[0-9a-f]{7,40}$/.test(env.TIERS_GIT_SHA ?? "") ? env.TIERS_GIT_SHA! : "unknown",
      }),
  });
  const server = createServer((req, res) => void handler(req, res));
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
      log.info("worker stopped", { ...worker.counts });
    })();
    return closing;
  };
  return { worker, server, port, pool, log, close };
}
