/**
 * What each known tier expects of the process it runs in. These mirror environments/*.yaml
 * (runtime, node_env, features); a unit test in the pipelines compares them with the validated
 * environment model, so a drift fails a test instead of a start-up.
 */

/** What a tier expects of a running service. */
export interface TierProfile {
  /** Marker that leads every log line of the tier. */
  marker: string;
  /** NODE_ENV the tier's services run with. */
  nodeEnv: "development" | "test" | "production";
  /** Where the tier runs: compose, ephemeral or kubernetes. */
  runtime: string;
  /** The inspector (--inspect, debug ports) may be open. */
  debug: boolean;
  /** Files may be watched and reloaded (--watch). */
  hotReload: boolean;
  /** Traffic must be mutually authenticated TLS. */
  mtls: boolean;
}

/** The four tiers the product ships with, as environments/*.yaml declares them. */
export const defaultProfiles: Readonly<Record<string, TierProfile>> = {
  dev: {
    marker: "🜂",
    nodeEnv: "development",
    runtime: "compose",
    debug: true,
    hotReload: true,
    mtls: false,
  },
  test: {
    marker: "🜁",
    nodeEnv: "test",
    runtime: "ephemeral",
    debug: false,
    hotReload: false,
    mtls: false,
  },
  staging: {
    marker: "🜃",
    nodeEnv: "production",
    runtime: "kubernetes",
    debug: false,
    hotReload: false,
    mtls: false,
  },
  prod: {
    marker: "🜄",
    nodeEnv: "production",
    runtime: "kubernetes",
    debug: false,
    hotReload: false,
    mtls: true,
  },
};
