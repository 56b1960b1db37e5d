/**
 * The tier's observability settings as a service reads them (`TIERS_METRICS_*`,
 * `TIERS_TRACING_*`, `TIERS_LOG_DESTINATION`, set from environments/<tier>.yaml
 * `observability`), and the OpenTelemetry SDK started from them when tracing is on.
 */
import { readFileSync } from "node:fs";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-node";
import { type Env, TierError } from "./tier.ts";

export interface ObservabilitySettings {
  metrics: { enabled: boolean; path: string };
  /** `endpoint` is resolved: the OTLP/HTTP address, read from the reference the tier names. */
  tracing: { enabled: false } | { enabled: true; endpoint: string; sampleRate: number };
  logs: { destination: string };
}

/** Resolves `env:NAME` or `file:/path`; a reference that yields nothing is an error. */
function resolveReference(ref: string, env: Env): string {
  const colon = ref.indexOf(":");
  const [scheme, target] = [ref.slice(0, colon), ref.slice(colon + 1)];
  let value: string | undefined;
  if (scheme === "env") value = env[target]?.trim();
  else if (scheme === "file") value = readFileSync(target, "utf8").trim();
  else throw new TierError([`TIERS_TRACING_ENDPOINT=${ref}: expected env:NAME or file:/path`]);
  if (!value) throw new TierError([`TIERS_TRACING_ENDPOINT=${ref} resolves to nothing`]);
  return value;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key]?.trim();
  if (!raw) return fallback;
  if (raw === "true" || raw === "false") return raw === "true";
  throw new TierError([`${key}=${raw} is not true or false`]);
}

/**
 * Reads the settings. Unset values take base.yaml's defaults (metrics on at /metrics, tracing
 * off, logs to stdout), so a service started by hand still serves metrics.
 */
export function observabilityOf(env: Env = process.env): ObservabilitySettings {
  const metrics = {
    enabled: bool(env, "TIERS_METRICS_ENABLED", true),
    path: env.TIERS_METRICS_PATH?.trim() || "/metrics",
  };
  const logs = { destination: env.TIERS_LOG_DESTINATION?.trim() || "stdout" };
  if (!bool(env, "TIERS_TRACING_ENABLED", false))
    return { metrics, tracing: { enabled: false }, logs };
  const ref = env.TIERS_TRACING_ENDPOINT?.trim();
  if (!ref)
    throw new TierError(["TIERS_TRACING_ENABLED=true but TIERS_TRACING_ENDPOINT is not set"]);
  const sampleRate = Number(env.TIERS_TRACING_SAMPLE_RATE ?? "1");
  if (!(sampleRate >= 0 && sampleRate <= 1)) {
    throw new TierError([`TIERS_TRACING_SAMPLE_RATE=${env.TIERS_TRACING_SAMPLE_RATE} is not 0–1`]);
  }
  return {
    metrics,
    tracing: { enabled: true, endpoint: resolveReference(ref, env), sampleRate },
    logs,
  };
}

/** A started tracer provider; `shutdown` flushes the spans still batched. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry SDK when tracing is on: spans of `service` in `tier` go over
 * OTLP/HTTP to the endpoint, keeping `sampleRate` of new traces (and the caller's decision
 * for traces that arrive sampled). Returns undefined when tracing is off.
 */
export function startTracing(
  settings: ObservabilitySettings,
  info: { service: string; tier: string },
): Tracing | undefined {
  if (!settings.tracing.enabled) return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": info.service,
      "deployment.environment.name": info.tier,
    }),
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(settings.tracing.sampleRate),
    }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.tracing.endpoint })),
    ],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
