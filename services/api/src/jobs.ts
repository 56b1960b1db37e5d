import type pg from "pg";

/**
 * The job kinds the API accepts. The worker has one processor per kind; a unit test in the
 * worker fails when the two lists drift apart.
 */
export const JOB_KINDS = ["wordcount", "checksum"] as const;
/** One of {@link JOB_KINDS}. */
export type JobKind = (typeof JOB_KINDS)[number];
/** Life cycle of a job: queued → running → done | failed (running → queued on a retry). */
export type JobStatus = "queued" | "running" | "done" | "failed";

/** Largest payload accepted, in bytes of UTF-8: jobs are small by design. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Upper bound for a caller-chosen retry budget. */
export const MAX_ATTEMPTS_LIMIT = 10;

/** A validated request to enqueue a job. */
export interface JobRequest {
  kind: JobKind;
  payload: string;
  maxAttempts: number;
}

/** The outcome of validating a request body: the request, or every problem found. */
export type Validated<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Checks a decoded JSON body for POST /jobs and reports every problem at once. */
export function validateJobRequest(body: unknown): Validated<JobRequest> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return {
      ok: false,
      problems: ['body must be a JSON object like {"kind":"wordcount","payload":"text"}'],
    };
  }
  const input = body as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!["kind", "payload", "maxAttempts"].includes(key)) {
      problems.push(`unknown field "${key}" (allowed: kind, payload, maxAttempts)`);
    }
  }
  const kind = input.kind;
  if (typeof kind !== "string" || !(JOB_KINDS as readonly string[]).includes(kind)) {
    problems.push(`"kind" must be one of ${JOB_KINDS.join(", ")}`);
  }
  const payload = input.payload;
  if (typeof payload !== "string") {
    problems.push('"payload" must be a string');
  } else if (Buffer.byteLength(payload, "utf8") > MAX_PAYLOAD_BYTES) {
    problems.push(`"payload" must be at most ${MAX_PAYLOAD_BYTES} bytes`);
  }
  const maxAttempts = input.maxAttempts ?? 3;
  if (
    typeof maxAttempts !== "number" ||
    !Number.isInteger(maxAttempts) ||
    maxAttempts < 1 ||
    maxAttempts > MAX_ATTEMPTS_LIMIT
  ) {
    problems.push(`"maxAttempts" must be an integer from 1 to ${MAX_ATTEMPTS_LIMIT}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      kind: kind as JobKind,
      payload: payload as string,
      maxAttempts: maxAttempts as number,
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `id` is a UUID; checked before querying so a malformed id is a 400, not a 500. */
export function isJobId(id: string): boolean {
  return UUID.test(id);
}

/** A row of the `jobs` table as the API reads it. */
export interface JobRow {
  id: string;
  kind: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  result: unknown;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The public JSON shape of a job. */
export interface JobView {
  id: string;
  kind: string;
  status: JobStatus;
  attempts: number;
  maxAttempts: number;
  result: unknown;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Maps a row to the public shape (camelCase, ISO timestamps, payload left out). */
export function toJobView(row: JobRow): JobView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    result: row.result ?? null,
    error: row.last_error,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Anything that can run a parameterised query: a pool or a single client. */
export type Queryable = Pick<pg.Pool, "query">;

const JOB_COLUMNS =
  "id, kind, status, attempts, max_attempts, result, last_error, created_at, updated_at";

/** Inserts a queued job and returns it. */
export async function enqueueJob(db: Queryable, request: JobRequest): Promise<JobView> {
  const { rows } = await db.query<JobRow>(
    `INSERT INTO jobs (kind, payload, max_attempts) VALUES ($1, $2, $3) RETURNING ${JOB_COLUMNS}`,
    [request.kind, request.payload, request.maxAttempts],
  );
  return toJobView(rows[0]!);
}

/** Reads one job, or null when there is none with that id. */
export async function findJob(db: Queryable, id: string): Promise<JobView | null> {
  const { rows } = await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [id]);
  return rows[0] ? toJobView(rows[0]) : null;
}
