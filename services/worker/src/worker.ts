import { PermanentJobError, type Processor, processJob } from "./processors.ts";
import {
  type ClaimedJob,
  claimJob,
  completeJob,
  failJob,
  type Queryable,
  retryDelayMs,
} from "./queue.ts";

/** The logger the worker needs (the runtime's marker logger satisfies it). */
export interface WorkerLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** How a worker runs. */
export interface WorkerOptions {
  db: Queryable;
  processors: Readonly<Record<string, Processor>>;
  log: WorkerLog;
  /** Recorded in `locked_by`; unique per process so fencing can tell workers apart. */
  workerId: string;
  /** Sleep between polls when the queue is empty or the database is unreachable. */
  pollIntervalMs: number;
  /** How long a claim holds before another worker may take the job over. */
  leaseSeconds: number;
  /** First retry delay; doubles per attempt. */
  retryBaseMs: number;
}

/** What happened to one claimed job. */
export type JobOutcome = "done" | "retry" | "failed" | "lease-lost";

/**
 * Claims and processes jobs one at a time until stopped. Run several processes (or
 * several instances in one process) to scale out: the claim query keeps them apart.
 */
export class Worker {
  readonly options: WorkerOptions;
  /** Wall-clock time of the loop's last turn, for the liveness probe. */
  lastTickAt = Date.now();
  /** Jobs finished by this instance, by outcome. */
  readonly counts: Record<JobOutcome, number> = { done: 0, retry: 0, failed: 0, "lease-lost": 0 };
  #running: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;

  constructor(options: WorkerOptions) {
    this.options = options;
  }

  /** True between start() and the end of stop(). */
  get running(): boolean {
    return this.#running !== null;
  }

  /** Starts the polling loop in the background. */
  start(): void {
    if (this.#running) return;
    this.#stopping = false;
    this.#running = this.#loop().finally(() => {
      this.#running = null;
    });
  }

  /** Stops claiming new jobs and resolves once the job in hand (if any) is recorded. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
  }

  /**
   * Claims and processes at most one job; returns its outcome, or null when the queue
   * holds nothing claimable. The loop calls this; tests call it to step deterministically.
   */
  async runOnce(): Promise<JobOutcome | null> {
    const { db, workerId, leaseSeconds } = this.options;
    const job = await claimJob(db, workerId, leaseSeconds);
    if (!job) return null;
    const outcome = await this.#handle(job);
    this.counts[outcome] += 1;
    return outcome;
  }

  async #handle(job: ClaimedJob): Promise<JobOutcome> {
    const { db, processors, log, workerId, retryBaseMs } = this.options;
    const fields = { job: job.id, kind: job.kind, attempt: job.attempts };
    if (job.attempts > job.maxAttempts) {
      // Only reachable through an expired lease: the previous holder died on its last try.
      const recorded = await failJob(
        db,
        job,
        workerId,
        `abandoned: the worker processing attempt ${job.maxAttempts} stopped before finishing`,
        { permanent: true },
      );
      log.warn("job abandoned by a stopped worker; no attempts left", fields);
      return recorded ? "failed" : "lease-lost";
    }
    let result: Record<string, unknown>;
    try {
      result = await processJob(processors, job.kind, job.payload);
    } catch (error) {
      const message = (error as Error).message;
      const permanent = error instanceof PermanentJobError || job.attempts >= job.maxAttempts;
      const outcome = permanent
        ? ({ permanent: true } as const)
        : { retryInMs: retryDelayMs(job.attempts, retryBaseMs) };
      const recorded = await failJob(db, job, workerId, message, outcome);
      if (!recorded) return "lease-lost";
      log.warn(permanent ? "job failed" : "job attempt failed; will retry", {
        ...fields,
        error: message,
        ...("retryInMs" in outcome ? { retryInMs: outcome.retryInMs } : {}),
      });
      return permanent ? "failed" : "retry";
    }
    const recorded = await completeJob(db, job, workerId, result);
    if (!recorded) {
      log.warn("lease expired before the result was recorded; another worker owns the job", fields);
      return "lease-lost";
    }
    log.info("job done", fields);
    return "done";
  }

  async #loop(): Promise<void> {
    const { log, pollIntervalMs } = this.options;
    // During an outage every poll fails the same way: log the first failure of a streak (and
    // any change of cause) and the recovery, not one line per poll.
    let failing: string | null = null;
    while (!this.#stopping) {
      this.lastTickAt = Date.now();
      let outcome: JobOutcome | null = null;
      try {
        outcome = await this.runOnce();
        if (failing !== null) log.info("database reachable again; polling resumed");
        failing = null;
      } catch (error) {
        // The database is down or flapping: keep the process up, report via readiness, retry.
        const message = (error as Error).message;
        if (message !== failing)
          log.error("claiming or recording a job failed", { error: message });
        failing = message;
      }
      // Drain a busy queue without pausing; sleep only when idle or after an error.
      if (outcome === null && !this.#stopping) await this.#sleep(pollIntervalMs);
    }
  }

  /** Sleeps `ms`, or less when stop() wakes the loop. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wake = wake;
    });
  }
}
