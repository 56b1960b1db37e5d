/**
 * Prometheus metrics every service serves, on prom-client (the maintained Node client): one
 * registry per service with its request count and latency histogram by route and status, and
 * `tiers_build_info`. The series names are the ones the tiers' PrometheusRule alerts read
 * (pipelines/src/core/observability/kubernetes.ts `metricNames`); the dev and test tier tests
 * scrape the running containers for them.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Series names shared with the alert rules. */
export const metricNames = {
  requests: "tiers_http_requests_total",
  duration: "tiers_http_request_duration_seconds",
  buildInfo: "tiers_build_info",
  queueDepth: "tiers_worker_queue_depth",
  leaseExpiries: "tiers_worker_lease_expiries_total",
} as const;

/** A service's registry and the request series every service keeps. */
export interface ServiceMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  duration: Histogram<"method" | "route" | "status">;
}

/** Creates the registry of `service` running in `tier`, with build info set. */
export function createServiceMetrics(info: {
  service: string;
  tier: string;
  gitSha?: string;
}): ServiceMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: metricNames.requests,
    help: "HTTP requests answered, by route and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: metricNames.duration,
    help: "Time to answer an HTTP request, by route and status.",
    labelNames: ["method", "route", "status"] as const,
    // Around the alert thresholds the tiers use (0.3 s to 0.8 s): p95 lands between buckets.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 0.8, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const build = new Gauge({
    name: metricNames.buildInfo,
    help: "Always 1; labels say which build runs in which tier.",
    labelNames: ["git_sha", "service", "tier"] as const,
    registers: [registry],
  });
  build.set({ git_sha: info.gitSha ?? "unknown", service: info.service, tier: info.tier }, 1);
  return { registry, requests, duration };
}

/**
 * Counts and times one request once it has been answered. `route` maps the path to its
 * template so an id in a path does not make a series of its own.
 */
export function measureRequest(
  metrics: ServiceMetrics,
  req: IncomingMessage,
  res: ServerResponse,
  route: (path: string) => string,
): void {
  const stop = metrics.duration.startTimer();
  res.once("finish", () => {
    const labels = {
      method: req.method ?? "GET",
      route: route(new URL(req.url ?? "/", "http://localhost").pathname),
      status: String(res.statusCode),
    };
    metrics.requests.inc(labels);
    stop(labels);
  });
}

/** Answers a scrape with the registry's text exposition. */
export async function serveMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  const text = await registry.metrics();
  res.writeHead(200, {
    "content-type": registry.contentType,
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
