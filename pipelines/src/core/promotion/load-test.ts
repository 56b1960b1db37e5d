/**
 * What both engines' load tests share (issue 15): the tier's load test with the port and
 * liveness path its service declares, and the options autocannon is given, so the host
 * (engines/host/load-test.ts) and the Dagger module (engines/dagger/load-test.ts) load the
 * same requests the same way and their figures mean the same thing.
 */
import type { LoadTestSettings } from "../environment/performance-schema.ts";
import type { Tier } from "../environment/schema.ts";
import { figuresOf, type PerformanceFigures } from "./performance.ts";

/** A tier's load test, resolved against its services. */
export interface LoadTest {
  settings: LoadTestSettings;
  containerPort: number;
  liveness: string;
}

/** The tier's load test, or undefined when it declares none. */
export function loadTestOf(tier: Tier): LoadTest | undefined {
  const settings = tier.tests?.performance;
  if (!settings) return undefined;
  // The schema checked that the service and its port exist (performance-schema.ts).
  const service = tier.services[settings.service]!;
  return {
    settings,
    containerPort: service.ports[settings.port]!,
    liveness: service.health.liveness,
  };
}

/** `GET /healthz`: how figures and logs name a request. */
export function requestLabel(request: LoadTestSettings["requests"][number]): string {
  return `${request.method} ${request.path}`;
}

/**
 * autocannon's options (its README, "autocannon(opts[, cb])": url, connections, duration in
 * seconds, timeout in seconds, requests sent in turn by each connection) for `url`. Plain data,
 * so it also travels as JSON into the Dagger module's load container.
 */
export function autocannonOptions(settings: LoadTestSettings, url: string) {
  return {
    url,
    connections: settings.connections,
    duration: settings.duration_seconds,
    timeout: settings.timeout_seconds,
    requests: settings.requests.map((r) => ({
      method: r.method,
      path: r.path,
      ...(r.body !== undefined ? { body: r.body } : {}),
      ...(r.content_type ? { headers: { "content-type": r.content_type } } : {}),
    })),
  };
}

/** Seconds a load test may run past its duration and one request timeout before it is stopped. */
export const overrunMarginSeconds = 10;

/** The longest a load test may take, in milliseconds, before it is stopped and fails. */
export function loadLimitMs(settings: LoadTestSettings): number {
  return (settings.duration_seconds + settings.timeout_seconds + overrunMarginSeconds) * 1000;
}

/** The figures of one load test: what autocannon returned and every response time it reported. */
export function loadFigures(
  settings: LoadTestSettings,
  result: Parameters<typeof figuresOf>[0]["result"],
  responseTimesMs: readonly number[],
): PerformanceFigures {
  return figuresOf({
    service: settings.service,
    requests: settings.requests.map(requestLabel),
    connections: settings.connections,
    durationSeconds: settings.duration_seconds,
    result,
    responseTimesMs,
  });
}
