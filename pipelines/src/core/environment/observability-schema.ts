/**
 * The observability, alerting and feature-flag part of a tier's schema: what each tier
 * measures, where its logs go and for how long, which alerts fire at which thresholds, and the
 * flags its services read. Kept apart from schema.ts so this block reads as one decision.
 * Ranges that need the tier's name (the prod sampling cap, dev-only flags) or the origin of a
 * value (unknown flags) are policies, in observability-policies.ts.
 */
import { z } from "../zod.ts";

/** Where a tier's logs are shipped: the container's stdout only, or a log service. */
export const logDestinations = ["stdout", "cloudwatch", "loki"] as const;
/** Severities an alert may carry; Alertmanager routes on the `severity` label. */
export const alertSeverities = ["info", "warning", "critical"] as const;
/** The alerts `alerting.rules` may declare, each rendered as one PrometheusRule alert. */
export const alertNames = ["error_rate", "p95_latency", "availability"] as const;
export type AlertName = (typeof alertNames)[number];

const positiveInt = z.number().int().min(1);
const urlPath = z.string().regex(/^\//, 'expected an HTTP path starting with "/"');
/** A Prometheus duration as the `for:` of an alert takes it, e.g. `5m`. */
const duration = z.string().regex(/^\d+(s|m|h)$/, 'expected a duration such as "5m"');
/** `env:NAME` or `file:/path`: where the service reads a value at run time, never the value. */
const runtimeRef = z
  .string()
  .regex(
    /^(env:[A-Z_][A-Z0-9_]*|file:\/\S+)$/,
    'expected a reference the service resolves itself: "env:NAME" or "file:/path"',
  );

const metrics = z.strictObject({
  /** Services serve Prometheus metrics at `path`. */
  enabled: z.boolean(),
  path: urlPath,
  /** How often the tier's Prometheus scrapes (the ServiceMonitor's interval). */
  interval_seconds: positiveInt,
  /** How long the tier's metrics are kept. */
  retention_days: positiveInt,
});

const tracing = z
  .strictObject({
    enabled: z.boolean(),
    /** OTLP/HTTP endpoint, by reference (the collector's address differs per cluster). */
    endpoint: runtimeRef.nullable(),
    /** Fraction of traces kept, 0–1 (policy/tracing-sample-rate caps it in prod). */
    sample_rate: z.number().min(0).max(1),
  })
  .superRefine((value, ctx) => {
    if (value.enabled && value.endpoint === null) {
      ctx.addIssue({
        code: "custom",
        path: ["endpoint"],
        message: 'tracing is enabled, so say where spans go: endpoint: "env:NAME" or "file:/path"',
      });
    }
  });

const logs = z.strictObject({
  destination: z.enum(logDestinations),
  /** Days logs are kept; the one number Terraform's log groups take (terraform/live). */
  retention_days: positiveInt,
});

export const observabilitySchema = z.strictObject({
  metrics,
  tracing,
  logs,
  /** Where the tier's dashboards live (shown by the status summary); null when none. */
  dashboards: z.url().nullable(),
});

/**
 * One alert. `threshold` is a fraction of failed requests for error_rate, seconds for
 * p95_latency, and the minimum fraction of successful probes for availability; its range is
 * checked by policy/alert-threshold so the message can say which alert and why.
 */
const alertRule = z.strictObject({
  enabled: z.boolean(),
  threshold: z.number(),
  /** How long the condition must hold before the alert fires. */
  for: duration,
  severity: z.enum(alertSeverities),
});

export const alertingSchema = z.strictObject({
  /** Alertmanager receiver the tier's alerts go to, and where they can be seen. */
  route: z.strictObject({
    receiver: z.string().regex(/^[a-z][a-z0-9-]*$/, "expected a receiver name"),
    url: z.url().nullable(),
  }),
  rules: z.strictObject({
    error_rate: alertRule,
    p95_latency: alertRule,
    availability: alertRule,
  }),
});

/** A flag name as services ask for it, and as its environment variable suffix. */
export const flagNamePattern = /^[a-z][a-z0-9_]*$/;

/**
 * A feature flag, declared once in base.yaml (default, description) and switched per tier with
 * `value`. policy/unknown-flag refuses a flag base.yaml does not declare; policy/dev-only-flag
 * refuses a `dev_only` flag that is on in staging or prod.
 */
const flag = z.strictObject({
  default: z.boolean(),
  description: z.string().min(1),
  /** Unfinished work: may be on in dev and test, never in a release tier. */
  dev_only: z.boolean().optional(),
  /** This tier's value; the default when absent. */
  value: z.boolean().optional(),
});

export const flagsSchema = z.record(
  z.string().regex(flagNamePattern, "expected a flag name: lower case letters, digits and '_'"),
  flag,
);

export type Observability = z.infer<typeof observabilitySchema>;
export type Alerting = z.infer<typeof alertingSchema>;
export type AlertRule = Alerting["rules"][AlertName];
export type Flags = z.infer<typeof flagsSchema>;

/** The value a flag has in its tier: the tier's `value`, else the declared default. */
export function flagValue(spec: Flags[string]): boolean {
  return spec.value ?? spec.default;
}

/** Every flag of a tier with its effective value, sorted by name. */
export function flagValues(flags: Flags): Record<string, boolean> {
  return Object.fromEntries(
    Object.keys(flags)
      .sort()
      .map((name) => [name, flagValue(flags[name]!)]),
  );
}
