import { hostname } from "node:os";

/** Settings the worker reads from its environment, validated once at start. */
export interface WorkerConfig {
  /** Port of the health endpoints (PORT, default 8081 as declared in environments/base.yaml). */
  port: number;
  /** PostgreSQL connection string (DATABASE_URL); when unset, libpq's PG* variables apply. */
  databaseUrl: string | undefined;
  /** Recorded in `jobs.locked_by` (WORKER_ID, default <hostname>-<pid>). */
  workerId: string;
  /** Sleep between polls of an empty queue (WORKER_POLL_INTERVAL_MS, default 500). */
  pollIntervalMs: number;
  /** How long a claim holds before another worker may take over (WORKER_LEASE_SECONDS, default 300). */
  leaseSeconds: number;
  /** First retry delay, doubling per attempt (WORKER_RETRY_BASE_MS, default 1000). */
  retryBaseMs: number;
  /** Liveness fails when the loop has not turned for this long (WORKER_STALL_MS, default 60000). */
  stallMs: number;
  /** Longest a graceful shutdown may take (SHUTDOWN_TIMEOUT_MS, default 10000). */
  shutdownTimeoutMs: number;
}

/** An environment variable with a value the worker cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** Builds the worker's configuration from `env` (process.env by default). */
export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return {
    port: int(env, "PORT", 8081, 0, 65535),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    workerId: env.WORKER_ID?.trim() || `${hostname()}-${process.pid}`,
    pollIntervalMs: int(env, "WORKER_POLL_INTERVAL_MS", 500, 10, 60_000),
    leaseSeconds: int(env, "WORKER_LEASE_SECONDS", 300, 1, 86_400),
    retryBaseMs: int(env, "WORKER_RETRY_BASE_MS", 1_000, 0, 60_000),
    stallMs: int(env, "WORKER_STALL_MS", 60_000, 1_000, 3_600_000),
    shutdownTimeoutMs: int(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
  };
}
