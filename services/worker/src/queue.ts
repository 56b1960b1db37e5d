import type pg from "pg";
import type { JobResult } from "./processors.ts";

/** Anything that can run a parameterised query: a pool or a single client. */
export type Queryable = Pick<pg.Pool, "query">;

/** A job this worker holds the lease on. */
export interface ClaimedJob {
  id: string;
  kind: string;
  payload: string;
  /** Attempts so far, including this one. */
  attempts: number;
  maxAttempts: number;
}

/**
 * Claims the oldest claimable job, or returns null when there is none. Claimable means
 * queued and due, or running with an expired lease (its worker died mid-job).
 * `FOR UPDATE SKIP LOCKED` makes concurrent workers pass over a row another worker is
 * claiming instead of waiting for it or taking it too; the claim commits at once, and the
 * lease (`locked_until`) rather than an open transaction marks the job as taken while it
 * is processed, so a slow job holds no database connection.
 */
export async function claimJob(
  db: Queryable,
  workerId: string,
  leaseSeconds: number,
): Promise<ClaimedJob | null> {
  const { rows } = await db.query<{
    id: string;
    kind: string;
    payload: string;
    attempts: number;
    max_attempts: number;
  }>(
    `UPDATE jobs
        SET status = 'running',
            attempts = attempts + 1,
            locked_by = $1,
            locked_until = now() + make_interval(secs => $2),
            updated_at = now()
      WHERE id = (
        SELECT id FROM jobs
         WHERE (status = 'queued' AND run_after <= now())
            OR (status = 'running' AND locked_until < now())
         ORDER BY run_after, created_at
         FOR UPDATE SKIP LOCKED
         LIMIT 1)
  RETURNING id, kind, payload, attempts, max_attempts`,
    [workerId, leaseSeconds],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    kind: row.kind,
    payload: row.payload,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
  };
}

/*
 * Every write below is fenced on (locked_by, attempts): if this worker's lease expired and
 * another worker re-claimed the job, the stale worker's late write matches no row and is
 * dropped instead of overwriting the newer attempt.
 */
const FENCE = "id = $1 AND status = 'running' AND locked_by = $2 AND attempts = $3";

/** Records the result and marks the job done. Returns false when the lease was lost. */
export async function completeJob(
  db: Queryable,
  job: ClaimedJob,
  workerId: string,
  result: JobResult,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE jobs SET status = 'done', result = $4, last_error = NULL,
            locked_by = NULL, locked_until = NULL, updated_at = now()
      WHERE ${FENCE}`,
    [job.id, workerId, job.attempts, JSON.stringify(result)],
  );
  return rowCount === 1;
}

/** How a failed attempt ends: queued again after a delay, or failed for good. */
export type FailureOutcome = { retryInMs: number } | { permanent: true };

/** Records a failed attempt. Returns false when the lease was lost. */
export async function failJob(
  db: Queryable,
  job: ClaimedJob,
  workerId: string,
  error: string,
  outcome: FailureOutcome,
): Promise<boolean> {
  const retry = "retryInMs" in outcome;
  const { rowCount } = await db.query(
    `UPDATE jobs SET status = $4, last_error = $5,
            run_after = CASE WHEN $4 = 'queued' THEN now() + make_interval(secs => $6) ELSE run_after END,
            locked_by = NULL, locked_until = NULL, updated_at = now()
      WHERE ${FENCE}`,
    [
      job.id,
      workerId,
      job.attempts,
      retry ? "queued" : "failed",
      error,
      retry ? outcome.retryInMs / 1000 : 0,
    ],
  );
  return rowCount === 1;
}

/**
 * Delay before the next attempt: exponential from `baseMs`, capped at one minute, so a
 * failing dependency is not hammered.
 */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 60_000);
}

/** True when the `jobs` table the API's migrations create exists (worker readiness). */
export async function jobsTableExists(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(
    "SELECT to_regclass('public.jobs') IS NOT NULL AS present",
  );
  return rows[0]?.present === true;
}

/** Jobs a worker could claim now: queued and due, or running on an expired lease. */
export async function queueDepth(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM jobs
      WHERE (status = 'queued' AND run_after <= now())
         OR (status = 'running' AND locked_until < now())`,
  );
  return Number(rows[0]?.n ?? 0);
}
