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
    });
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
