/** Settings the API reads from its environment, validated once at start. */
export interface ApiConfig {
  /** HTTP port (PORT, default 8080 as declared in environments/base.yaml; 0 picks a free one). */
  port: number;
  /** PostgreSQL connection string (DATABASE_URL); when unset, libpq's PG* variables apply. */
  databaseUrl: string | undefined;
  /** Apply pending migrations before listening (MIGRATE_ON_START=true). */
  migrateOnStart: boolean;
  /** Longest a graceful shutdown may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  /** Git commit of the running build (TIERS_GIT_SHA), if the image or deployment says. */
  gitSha: string | null;
  /** Digest of the running image (TIERS_IMAGE_DIGEST), if the deployment says. */
  imageDigest: string | null;
  /**
   * Test-only fault switch (TIERS_TEST_FAULT_DELAY_MS): every request waits this long first,
   * so a test can show the pipeline's performance gate failing a slow build. Refused unless
   * NODE_ENV=test, which only the image's test target sets: a production image cannot be slowed.
   */
  faultDelayMs: number;
}

/** The fault switch's variable; see {@link ApiConfig.faultDelayMs}. */
export const FAULT_DELAY_VARIABLE = "TIERS_TEST_FAULT_DELAY_MS";

/** An environment variable with a value the service cannot use. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads an integer variable, naming the variable and the accepted range when it is wrong. */
export function intFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** Reads a boolean variable: true/false/1/0/yes/no, anything else is an error. */
export function boolFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const normal = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(normal)) return true;
  if (["false", "0", "no"].includes(normal)) return false;
  throw new ConfigError(`${name}=${raw}: expected true or false`);
}

function optional(env: NodeJS.ProcessEnv, name: string): string | null {
  const raw = env[name]?.trim();
  return raw ? raw : null;
}

/** Builds the API's configuration from `env` (process.env by default). */
export function readApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const imageDigest = optional(env, "TIERS_IMAGE_DIGEST");
  if (imageDigest && !/^sha256:[0-9a-f]{64}$/.test(imageDigest)) {
    throw new ConfigError(
      `TIERS_IMAGE_DIGEST=${imageDigest}: expected sha256:<64 hex digits> (the image digest, not a tag)`,
    );
  }
  const faultDelayMs = intFromEnv(env, FAULT_DELAY_VARIABLE, 0, 0, 10_000);
  if (faultDelayMs > 0 && env.NODE_ENV !== "test") {
    throw new ConfigError(
      `${FAULT_DELAY_VARIABLE} is a test-only fault switch and NODE_ENV is ${env.NODE_ENV ?? "unset"}, not test: unset it`,
    );
  }
  return {
    port: intFromEnv(env, "PORT", 8080, 0, 65535),
    databaseUrl: optional(env, "DATABASE_URL") ?? undefined,
    migrateOnStart: boolFromEnv(env, "MIGRATE_ON_START", false),
    shutdownTimeoutMs: intFromEnv(env, "SHUTDOWN_TIMEOUT_MS", 10_000, 0, 600_000),
    gitSha: optional(env, "TIERS_GIT_SHA"),
    imageDigest,
    faultDelayMs,
  };
}
