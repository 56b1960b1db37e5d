import type { IncomingMessage, ServerResponse } from "node:http";

/** Result of a probe: healthy/ready, or the reasons it is not. */
export interface ProbeReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** The two probes the worker's small HTTP port answers, and its metrics text. */
export interface Probes {
  liveness: () => ProbeReport;
  readiness: () => Promise<ProbeReport>;
  /** Prometheus text exposition served on /metrics. */
  metrics?: () => Promise<string> | string;
  /** Where metrics are served (observability.metrics.path), /metrics by default. */
  metricsPath?: string;
}

function send(res: ServerResponse, report: ProbeReport): void {
  const text = `${JSON.stringify(report)}\n`;
  res.writeHead(report.ok ? 200 : 503, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/**
 * Request handler of the worker's probe port: `GET /healthz` (the polling loop is turning),
 * `GET /readyz` (database reachable, schema present, not shutting down) and `GET /metrics`.
 * The worker serves nothing else; jobs arrive through the database.
 */
export function createProbeHandler(probes: Probes) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    try {
      if (req.method === "GET" && path === "/healthz") return send(res, probes.liveness());
      if (req.method === "GET" && path === "/readyz") return send(res, await probes.readiness());
      if (req.method === "GET" && path === (probes.metricsPath ?? "/metrics") && probes.metrics) {
        const text = await probes.metrics();
        res.writeHead(200, {
          "content-type": "text/plain; version=0.0.4; charset=utf-8",
          "content-length": Buffer.byteLength(text),
        });
        return void res.end(text);
      }
      res.writeHead(404, { "content-type": "application/json; charset=utf-8" });
      res.end(
        `${JSON.stringify({ error: `no route ${req.method} ${path}; try /healthz or /readyz` })}\n`,
      );
    } catch (error) {
      send(res, { ok: false, checks: { probe: { ok: false, detail: (error as Error).message } } });
    }
  };
}
