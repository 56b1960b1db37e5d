-- Jobs the API enqueues and the worker processes. One row per job; the worker claims rows
-- with FOR UPDATE SKIP LOCKED and holds a lease (locked_until) so a crashed worker's job
-- becomes claimable again instead of staying "running" forever.
CREATE TABLE jobs (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  kind          text        NOT NULL,
  payload       text        NOT NULL,
  status        text        NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'running', 'done', 'failed')),
  attempts      integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts  integer     NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  result        jsonb,
  last_error    text,
  run_after     timestamptz NOT NULL DEFAULT now(),
  locked_by     text,
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The claim query scans only claimable rows in arrival order; a partial index keeps that
-- cheap however many finished jobs accumulate.
CREATE INDEX jobs_claimable_idx ON jobs (run_after, created_at)
  WHERE status IN ('queued', 'running');
