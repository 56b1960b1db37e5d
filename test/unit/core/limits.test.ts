import { describe, expect, it } from "vitest";
import { UsageError } from "../../../pipelines/src/core/errors.ts";
import {
  checkLimits,
  formatDuration,
  inputLimit,
  parseDuration,
  timeoutDefaults,
  timeoutFor,
  timeoutVariable,
} from "../../../pipelines/src/core/limits.ts";

describe("the limits table", () => {
  it("names every override consistently", () => {
    expect(timeoutVariable("skopeo")).toBe("TIERS_TIMEOUT_SKOPEO");
    expect(timeoutVariable("docker-compose")).toBe("TIERS_TIMEOUT_DOCKER_COMPOSE");
    expect(timeoutVariable("registry-ping")).toBe("TIERS_TIMEOUT_REGISTRY_PING");
  });

  it("parses durations in the forms Go tools accept and prints them back", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(formatDuration(30_000)).toBe("30s");
    expect(formatDuration(1500)).toBe("1500ms");
    for (const bad of ["", "30", "0s", "-1s", "1d", "abc"])
      expect(() => parseDuration(bad)).toThrow();
  });

  it("every default parses, and an override wins", () => {
    for (const name of Object.keys(timeoutDefaults) as (keyof typeof timeoutDefaults)[]) {
      expect(timeoutFor(name, {}).ms).toBeGreaterThan(0);
    }
    expect(timeoutFor("skopeo", { TIERS_TIMEOUT_SKOPEO: "45s" })).toEqual({
      ms: 45_000,
      text: "45s",
      variable: "TIERS_TIMEOUT_SKOPEO",
    });
    expect(inputLimit("yaml-bytes", { TIERS_LIMIT_YAML_BYTES: "10" })).toBe(10);
  });

  it("a bad value is a usage error naming the variable", () => {
    const error = (() => {
      try {
        checkLimits({ TIERS_TIMEOUT_GIT: "forever", TIERS_LIMIT_YAML_ALIASES: "many" });
      } catch (e) {
        return e;
      }
    })() as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain("TIERS_TIMEOUT_GIT");
    expect(error.message).toContain("TIERS_LIMIT_YAML_ALIASES");
    expect(() => timeoutFor("git", { TIERS_TIMEOUT_GIT: "forever" })).toThrow(
      expect.objectContaining({ where: "environment variable TIERS_TIMEOUT_GIT" }),
    );
  });
});
