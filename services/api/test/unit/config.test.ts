import { describe, expect, it } from "vitest";
import { ConfigError, readApiConfig } from "../../src/config.ts";

describe("api configuration", () => {
  it("defaults to port 8080, no migration at start and unknown build identity", () => {
    expect(readApiConfig({})).toEqual({
      port: 8080,
      databaseUrl: undefined,
      migrateOnStart: false,
      shutdownTimeoutMs: 10_000,
      gitSha: null,
      imageDigest: null,
      faultDelayMs: 0,
    });
  });

  it("honours the test-only fault switch under NODE_ENV=test and refuses it anywhere else", () => {
    expect(readApiConfig({ NODE_ENV: "test", TIERS_TEST_FAULT_DELAY_MS: "40" }).faultDelayMs).toBe(
      40,
    );
    for (const nodeEnv of ["production", "development", undefined]) {
      expect(() => readApiConfig({ NODE_ENV: nodeEnv, TIERS_TEST_FAULT_DELAY_MS: "40" })).toThrow(
        /TIERS_TEST_FAULT_DELAY_MS is a test-only fault switch and NODE_ENV is/,
      );
    }
    // Unset or zero is off everywhere, so the production image starts as before.
    expect(
      readApiConfig({ NODE_ENV: "production", TIERS_TEST_FAULT_DELAY_MS: "" }).faultDelayMs,
    ).toBe(0);
  });

  it("reads every variable it documents", () => {
    const digest = `sha256:${"0".repeat(64)}`;
    expect(
      readApiConfig({
        PORT: "9000",
        DATABASE_URL: "postgresql://u@db/x",
        MIGRATE_ON_START: "yes",
        SHUTDOWN_TIMEOUT_MS: "500",
        TIERS_GIT_SHA: "0123abc",
        TIERS_IMAGE_DIGEST: digest,
      }),
    ).toEqual({
      port: 9000,
      databaseUrl: "postgresql://u@db/x",
      migrateOnStart: true,
      shutdownTimeoutMs: 500,
      gitSha: "0123abc",
      imageDigest: digest,
      faultDelayMs: 0,
    });
  });

  it.each([
    [{ PORT: "http" }, /PORT=http: expected an integer from 0 to 65535/],
    [{ PORT: "70000" }, /PORT=70000/],
    [{ MIGRATE_ON_START: "sometimes" }, /MIGRATE_ON_START=sometimes: expected true or false/],
    [{ TIERS_IMAGE_DIGEST: "latest" }, /TIERS_IMAGE_DIGEST=latest: expected sha256:/],
  ])("names the variable and the accepted values when %j is wrong", (env, message) => {
    expect(() => readApiConfig(env)).toThrow(ConfigError);
    expect(() => readApiConfig(env)).toThrow(message);
  });
});
