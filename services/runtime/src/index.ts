/**
 * @tiers/runtime: the tier guard every service starts with. See ../README.md.
 *
 *   const tier = assertTier(process.env);   // throws TierError on a contradiction
 *   const log = createLogger({ service: "api", tier });
 *   log.info("listening", { port: 8080 });  // 🜄 {"time":…,"level":"info","tier":"prod",…}
 */
export { type Flags, flagsOf } from "./flags.ts";
export { createLogger, type LogFields, type Logger, type LoggerOptions } from "./log.ts";
export {
  createServiceMetrics,
  measureRequest,
  metricNames,
  type ServiceMetrics,
  serveMetrics,
} from "./metrics.ts";
export {
  type ObservabilitySettings,
  observabilityOf,
  startTracing,
  type Tracing,
} from "./observability.ts";
export { defaultProfiles, type TierProfile } from "./profiles.ts";
export {
  assertTier,
  type Env,
  type LogFormat,
  type LogLevel,
  logLevels,
  TierError,
  type TierInfo,
  type TierOptions,
  tierInfo,
} from "./tier.ts";
