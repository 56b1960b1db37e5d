/**
 * Which tier this process belongs to, and whether that is believable. A service calls
 * `assertTier()` first thing; it throws a `TierError` naming every contradiction between the
 * declared tier and how the process actually runs, so a dev build never serves prod traffic
 * and a prod deployment never runs with an open debugger.
 */
import { defaultProfiles, type TierProfile } from "./profiles.ts";

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];
export type LogFormat = "json" | "pretty";

/** The tier a process declares, as read from its environment. */
export interface TierInfo {
  /** TIERS_TIER, e.g. "prod". */
  tier: string;
  /** TIERS_MARKER, else the tier's default marker. */
  marker: string;
  /** TIERS_RUNTIME (compose, ephemeral, kubernetes), else the tier's expected runtime. */
  runtime: string | undefined;
  /** NODE_ENV as set (undefined when unset). */
  nodeEnv: string | undefined;
  /** TIERS_LOG_LEVEL, default info. */
  logLevel: LogLevel;
  /** TIERS_LOG_FORMAT, default json (pretty for dev). */
  logFormat: LogFormat;
  /** What the tier expects of the process, when it is a known tier. */
  profile: TierProfile | undefined;
}

/** Environment variables, as `process.env`. */
export type Env = Record<string, string | undefined>;

/** How the process runs, beyond its environment; every field defaults to the running process. */
export interface TierOptions {
  /** Node flags of the process (default `process.execArgv`). */
  execArgv?: readonly string[];
  /**
   * Profiles of the tiers this service accepts (default: dev, test, staging, prod). A tier
   * added in environments/ is accepted by passing its profile here, or by naming it in
   * TIERS_KNOWN_TIERS (then only the generic checks apply to it).
   */
  profiles?: Readonly<Record<string, TierProfile>>;
}

/** The tier is missing, unknown, or contradicts where the process runs. */
export class TierError extends Error {
  /** One sentence per contradiction found. */
  readonly contradictions: readonly string[];

  constructor(contradictions: readonly string[], tier?: string) {
    const head = tier === undefined ? "refusing to start" : `refusing to start as tier ${tier}`;
    super(`${head}:\n${contradictions.map((c) => `  - ${c}`).join("\n")}`);
    this.name = "TierError";
    this.contradictions = contradictions;
  }
}

/** Reads and checks TIERS_TIER and the logging settings; throws TierError when unusable. */
export function tierInfo(env: Env = process.env, options: TierOptions = {}): TierInfo {
  const profiles = options.profiles ?? defaultProfiles;
  const problems: string[] = [];
  const tier = env.TIERS_TIER?.trim();
  if (!tier) {
    throw new TierError([
      `TIERS_TIER is not set; set it to one of ${known(env, profiles).join(", ")} (TIERS_TIER=dev for a local run)`,
    ]);
  }
  const knownTiers = known(env, profiles);
  if (!knownTiers.includes(tier)) {
    const near = knownTiers.find(
      (k) => k.toLowerCase() === tier.toLowerCase() || k.startsWith(tier) || tier.startsWith(k),
    );
    problems.push(
      `TIERS_TIER=${tier} is not a known tier (known: ${knownTiers.join(", ")})${near ? `; did you mean ${near}?` : ""}`,
    );
  }
  const profile = profiles[tier];
  const rawLevel = env.TIERS_LOG_LEVEL?.trim() || "info";
  if (!(logLevels as readonly string[]).includes(rawLevel)) {
    problems.push(`TIERS_LOG_LEVEL=${rawLevel} is not one of ${logLevels.join(", ")}`);
  }
  const rawFormat = env.TIERS_LOG_FORMAT?.trim() || (tier === "dev" ? "pretty" : "json");
  if (rawFormat !== "json" && rawFormat !== "pretty") {
    problems.push(`TIERS_LOG_FORMAT=${rawFormat} is not one of json, pretty`);
  }
  if (problems.length > 0) throw new TierError(problems, tier);
  return {
    tier,
    marker: env.TIERS_MARKER?.trim() || profile?.marker || "▸",
    runtime: env.TIERS_RUNTIME?.trim() || profile?.runtime,
    nodeEnv: env.NODE_ENV?.trim() || undefined,
    logLevel: rawLevel as LogLevel,
    logFormat: rawFormat as LogFormat,
    profile,
  };
}

/**
 * Reads the tier (as `tierInfo`) and refuses it when it contradicts how the process runs:
 * NODE_ENV or TIERS_RUNTIME of another tier, a Kubernetes pod claiming a compose tier, an
 * inspector or file watcher in a tier without debug ports or hot reload, or a tier that
 * requires mTLS started without certificates. Throws TierError listing every contradiction.
 */
export function assertTier(env: Env = process.env, options: TierOptions = {}): TierInfo {
  const execArgv = options.execArgv ?? process.execArgv;
  const info = tierInfo(env, options);
  const { tier, profile } = info;
  const found: string[] = [];
  const flag = (name: string): boolean | undefined => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === "") return undefined;
    return ["true", "1", "yes"].includes(raw);
  };

  if (profile) {
    if (info.nodeEnv === undefined && profile.nodeEnv === "production") {
      found.push(
        `NODE_ENV is not set, but ${tier} runs with NODE_ENV=production (libraries default to development mode)`,
      );
    } else if (info.nodeEnv !== undefined && info.nodeEnv !== profile.nodeEnv) {
      found.push(
        `NODE_ENV=${info.nodeEnv} contradicts tier ${tier}, which runs with NODE_ENV=${profile.nodeEnv}`,
      );
    }
    const declaredRuntime = env.TIERS_RUNTIME?.trim();
    if (declaredRuntime && declaredRuntime !== profile.runtime) {
      found.push(
        `TIERS_RUNTIME=${declaredRuntime} contradicts tier ${tier}, which runs on ${profile.runtime}`,
      );
    }
    // Kubernetes injects this into every pod: positive evidence of where the process runs.
    if (env.KUBERNETES_SERVICE_HOST && profile.runtime !== "kubernetes") {
      found.push(
        `this process runs in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set), but tier ${tier} runs on ${profile.runtime}`,
      );
    }
  }

  const debugAllowed = profile ? profile.debug : flag("TIERS_DEBUG") !== false;
  const inspector = execArgv.find((a) => /^--inspect(-brk|-wait|-port)?(=|$)/.test(a));
  const inspectorFromOptions = /(^|\s)--inspect(-brk|-wait)?(=|\s|$)/.test(env.NODE_OPTIONS ?? "");
  if (!debugAllowed && (inspector || inspectorFromOptions)) {
    found.push(
      `the Node inspector is enabled (${inspector ?? "NODE_OPTIONS --inspect"}), but tier ${tier} has no debug ports; remove the flag or run as tier dev`,
    );
  }
  if (profile && !profile.debug && flag("TIERS_DEBUG") === true) {
    found.push(`TIERS_DEBUG=true contradicts tier ${tier}, which has no debug ports`);
  }

  const reloadAllowed = profile ? profile.hotReload : flag("TIERS_HOT_RELOAD") !== false;
  const watcher = execArgv.find((a) => /^--watch(-path)?(=|$)/.test(a));
  if (!reloadAllowed && watcher) {
    found.push(
      `hot reload is enabled (${watcher}), but tier ${tier} runs its release image unchanged; remove the flag or run as tier dev`,
    );
  }
  if (profile && !profile.hotReload && flag("TIERS_HOT_RELOAD") === true) {
    found.push(`TIERS_HOT_RELOAD=true contradicts tier ${tier}, which has no hot reload`);
  }

  const mtls = profile?.mtls === true || flag("TIERS_MTLS") === true;
  if (profile?.mtls && flag("TIERS_MTLS") === false) {
    found.push(`TIERS_MTLS=false contradicts tier ${tier}, which requires mTLS`);
  } else if (mtls && env.TIERS_MTLS_PROVIDER?.trim() !== "mesh") {
    const missing = ["TIERS_TLS_CERT_FILE", "TIERS_TLS_KEY_FILE", "TIERS_TLS_CA_FILE"].filter(
      (name) => !env[name]?.trim(),
    );
    if (missing.length > 0) {
      found.push(
        `tier ${tier} requires mTLS, but ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set; mount the certificates and set them, or set TIERS_MTLS_PROVIDER=mesh when a service mesh terminates mTLS`,
      );
    }
  }

  if (found.length > 0) throw new TierError(found, tier);
  return info;
}

function known(env: Env, profiles: Readonly<Record<string, TierProfile>>): string[] {
  const extra = (env.TIERS_KNOWN_TIERS ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  return [...new Set([...Object.keys(profiles), ...extra])];
}
