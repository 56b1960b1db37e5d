import type { IncomingMessage, ServerResponse } from "node:http";
import {
  createServiceMetrics,
  measureRequest,
  type ServiceMetrics,
  serveMetrics,
} from "@tiers/runtime";
import { Counter } from "prom-client";
import {
  enqueueJob,
  findJob,
  isJobId,
  MAX_PAYLOAD_BYTES,
  type Queryable,
  validateJobRequest,
} from "./jobs.ts";

/** What `/version` reports: which build of which service runs in which tier. */
export interface VersionInfo {
  service: string;
  tier: string;
  /** Git commit the image was built from, or null when the deployment did not say. */
  gitSha: string | null;
  /** Digest of the running image (`sha256:…`), or null when the deployment did not say. */
  imageDigest: string | null;
}

/** Result of a readiness probe: ready, or the reasons it is not. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** The minimal logger the handler needs (the runtime's marker logger satisfies it). */
export interface RequestLog {
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Everything the API's request handler depends on, injected so tests can replace it. */
export interface ApiDeps {
  db: Queryable;
  version: VersionInfo;
  readiness: () => Promise<Readiness>;
  log: RequestLog;
  /** Set during graceful shutdown: readiness fails so load balancers stop sending traffic. */
  isShuttingDown?: () => boolean;
  /** Series served on /metrics (a fresh registry for `version` when not given). */
  metrics?: ApiMetrics;
  /** Where /metrics is served (observability.metrics.path); null when metrics are off. */
  metricsPath?: string | null;
  /** The tier's flags the API honours (all off when not given). */
  flags?: Partial<ApiFlags>;
  /** Test-only fault switch: milliseconds every request waits first (config.ts faultDelayMs). */
  faultDelayMs?: number;
}

/** Flags of environments/base.yaml the API reads (`flags.<name>`), resolved at start-up. */
export interface ApiFlags {
  /** pause_enqueue: POST /jobs answers 503 instead of enqueueing. */
  pauseEnqueue: boolean;
  /** verbose_errors (dev_only): a 500 answer carries the error message. */
  verboseErrors: boolean;
}

/** The API's registry: the request series every service has, and jobs enqueued by kind. */
export interface ApiMetrics extends ServiceMetrics {
  jobsEnqueued: Counter<"kind">;
}

/** Creates the API's metrics for the build described by `version`. */
export function apiMetrics(version: Pick<VersionInfo, "tier" | "gitSha">): ApiMetrics {
  const base = createServiceMetrics({
    service: "api",
    tier: version.tier,
    gitSha: version.gitSha ?? undefined,
  });
  const jobsEnqueued = new Counter({
    name: "tiers_jobs_enqueued_total",
    help: "Jobs accepted by POST /jobs, by kind.",
    labelNames: ["kind"] as const,
    registers: [base.registry],
  });
  return { ...base, jobsEnqueued };
}

/** The route template of a path, so metrics do not get one series per job id. */
export function routeOf(path: string): string {
  if (["/healthz", "/readyz", "/version", "/metrics", "/jobs"].includes(path)) return path;
  return /^\/jobs\/[^/]+$/.test(path) ? "/jobs/:id" : "unmatched";
}

/** An error that maps to an HTTP status with a message meant for the caller. */
class HttpError extends Error {
  readonly status: number;
  readonly problems: string[];
  constructor(status: number, message: string, problems: string[] = []) {
    super(message);
    this.status = status;
    this.problems = problems;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new HttpError(415, "send the job as JSON with content-type: application/json");
  }
  // The body limit is the payload limit plus room for the JSON around it.
  const limit = MAX_PAYLOAD_BYTES * 2 + 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Builds the API's request handler:
 * - `GET /healthz`  200 while the process runs (liveness: restart me only if this fails);
 * - `GET /readyz`   200 when the database answers and every migration is applied, else 503;
 * - `GET /version`  tier, git SHA and image digest;
 * - `POST /jobs`    enqueue a job, 202 with its id and a Location header;
 * - `GET /jobs/:id` the job's status and, once done, its result;
 * - `GET /metrics`  Prometheus text: requests by route and status, jobs enqueued by kind.
 */
export function createApiHandler(deps: ApiDeps) {
  const metrics = deps.metrics ?? apiMetrics(deps.version);
  const flags: ApiFlags = { pauseEnqueue: false, verboseErrors: false, ...deps.flags };
  const routes = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = req.method ?? "GET";

    if (path === "/healthz" && method === "GET") {
      return sendJson(res, 200, { status: "ok" });
    }
    if (path === "/readyz" && method === "GET") {
      if (deps.isShuttingDown?.()) {
        return sendJson(res, 503, {
          ready: false,
          checks: { shutdown: { ok: false, detail: "shutting down" } },
        });
      }
      const readiness = await deps.readiness();
      return sendJson(res, readiness.ready ? 200 : 503, readiness);
    }
    if (path === "/version" && method === "GET") {
      return sendJson(res, 200, deps.version);
    }
    if (
      path === (deps.metricsPath === undefined ? "/metrics" : deps.metricsPath) &&
      method === "GET"
    ) {
      return serveMetrics(metrics.registry, res);
    }
    if (path === "/jobs") {
      if (method !== "POST") throw new HttpError(405, "use POST /jobs to enqueue a job");
      if (flags.pauseEnqueue) {
        throw new HttpError(503, "enqueueing is paused (flag pause_enqueue); retry later");
      }
      const checked = validateJobRequest(await readJson(req));
      if (!checked.ok) throw new HttpError(400, "invalid job", checked.problems);
      const job = await enqueueJob(deps.db, checked.value);
      metrics.jobsEnqueued.inc({ kind: job.kind });
      return sendJson(res, 202, job, { location: `/jobs/${job.id}` });
    }
    const jobPath = /^\/jobs\/([^/]+)$/.exec(path);
    if (jobPath) {
      if (method !== "GET") throw new HttpError(405, "use GET /jobs/<id> to read a job");
      let id: string;
      try {
        id = decodeURIComponent(jobPath[1]!);
      } catch {
        throw new HttpError(400, "the job id in the path is not valid percent-encoding");
      }
      if (!isJobId(id)) throw new HttpError(400, `"${id}" is not a job id (a UUID)`);
      const job = await findJob(deps.db, id);
      if (!job) throw new HttpError(404, `no job ${id}`);
      return sendJson(res, 200, job);
    }
    throw new HttpError(404, `no route ${method} ${path}`);
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    measureRequest(metrics, req, res, routeOf);
    if (deps.faultDelayMs) await new Promise((resolve) => setTimeout(resolve, deps.faultDelayMs));
    try {
      await routes(req, res);
    } catch (error) {
      if (error instanceof HttpError) {
        const body: Record<string, unknown> = { error: error.message };
        if (error.problems.length > 0) body.problems = error.problems;
        if (!res.headersSent) sendJson(res, error.status, body);
        return;
      }
      // Unexpected failures (database down mid-request, bugs) are logged with detail and
      // answered without it: internals stay out of responses.
      deps.log.error("request failed", {
        method: req.method,
        url: req.url,
        error: (error as Error).message,
      });
      const error_ = flags.verboseErrors
        ? { error: (error as Error).message, flag: "verbose_errors" }
        : { error: "internal error; see the api logs" };
      if (!res.headersSent) sendJson(res, 500, error_);
    }
  };
}
