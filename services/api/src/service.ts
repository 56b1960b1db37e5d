import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  assertTier,
  createLogger,
  flagsOf,
  type Logger,
  observabilityOf,
  startTracing,
} from "@tiers/runtime";
import type pg from "pg";
import { apiMetrics, createApiHandler } from "./app.ts";
import { readApiConfig } from "./config.ts";
import { createPool, databaseReadiness } from "./database.ts";
import { migrate, readMigrations } from "./schema.ts";

/** A started API: its HTTP server, database pool and a graceful `close`. */
export interface ApiService {
  server: Server;
  /** The port actually bound (differs from PORT when PORT=0). */
  port: number;
  pool: pg.Pool;
  log: Logger;
  /**
   * Graceful shutdown: readiness turns 503 at once, the server stops accepting connections,
   * requests in flight finish (or are cut after SHUTDOWN_TIMEOUT_MS), then the pool closes.
   */
  close(): Promise<void>;
}

/**
 * Starts the API. The tier check runs first, before any connection is opened: a service
 * configured for one tier and started with another tier's settings refuses to start.
 */
export async function startApi(env: NodeJS.ProcessEnv = process.env): Promise<ApiService> {
  const tier = assertTier(env);
  const log = createLogger({ service: "api", tier });
  const config = readApiConfig(env);
  // Flags and observability settings are read before any connection opens: a bad value or a
  // flag the tier does not declare stops the start, as a wrong tier does.
  const flags = flagsOf(env);
  const apiFlags = {
    pauseEnqueue: flags.isOn("pause_enqueue"),
    verboseErrors: flags.isOn("verbose_errors"),
  };
  const observability = observabilityOf(env);
  const tracing = startTracing(observability, { service: "api", tier: tier.tier });
  const migrations = await readMigrations();
  const pool = createPool(config.databaseUrl, log);
  try {
    if (config.migrateOnStart) {
      const client = await pool.connect();
      try {
        const result = await migrate(client, migrations);
        log.info("migrations applied", {
          applied: result.applied,
          alreadyApplied: result.alreadyApplied.length,
        });
      } finally {
        client.release();
      }
    }
  } catch (error) {
    await pool.end();
    throw error;
  }

  let shuttingDown = false;
  const handler = createApiHandler({
    metrics: apiMetrics({ tier: tier.tier, gitSha: config.gitSha }),
    metricsPath: observability.metrics.enabled ? observability.metrics.path : null,
    flags: apiFlags,
    ...(config.faultDelayMs > 0 ? { faultDelayMs: config.faultDelayMs } : {}),
    db: pool,
    version: {
      service: "api",
      tier: tier.tier,
      gitSha: config.gitSha,
      imageDigest: config.imageDigest,
    },
    readiness: () => databaseReadiness(pool, migrations),
    log,
    isShuttingDown: () => shuttingDown,
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
  log.info("api listening", {
    port,
    migrations: migrations.length,
    flags: flags.all,
    tracing: observability.tracing.enabled,
  });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A keep-alive connection turns idle once its in-flight response is sent; close it then
      // rather than waiting for the keep-alive timeout.
      const reaper = setInterval(() => server.closeIdleConnections(), 50);
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await closed;
      clearInterval(reaper);
      clearTimeout(timer);
      await pool.end();
      await tracing?.shutdown();
      log.info("api stopped");
    })();
    return closing;
  };
  return { server, port, pool, log, close };
}
