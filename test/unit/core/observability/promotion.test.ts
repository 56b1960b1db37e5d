import { describe, expect, it } from "vitest";
import {
  formatLocation,
  formatLocations,
} from "../../../../pipelines/src/core/observability/location-text.ts";
import {
  flagDifferences,
  formatFlagDifference,
  observabilityLocation,
  observabilityLocations,
} from "../../../../pipelines/src/core/observability/promotion.ts";
import { edit } from "../environment/fixtures.ts";
import { model } from "./fixture-model.ts";

describe("flagDifferences: the flags a promotion changes", () => {
  it("test -> staging turns verbose_errors off; nothing else differs", () => {
    expect(flagDifferences(model(), "test", "staging")).toEqual([
      {
        flag: "verbose_errors",
        description:
          "A failed request's 500 answer carries the error message (internals in responses).",
        from: true,
        to: false,
      },
    ]);
  });

  it("staging -> prod with the same values lists nothing", () => {
    expect(flagDifferences(model(), "staging", "prod")).toEqual([]);
  });

  it("a flag a tier switches on shows both values, sorted by name", () => {
    const m = model((f) => {
      f["prod.yaml"] = edit(
        f["prod.yaml"]!,
        "flags: {}",
        "flags:\n  pause_enqueue: { value: true }",
      );
    });
    expect(flagDifferences(m, "staging", "prod").map((d) => [d.flag, d.from, d.to])).toEqual([
      ["pause_enqueue", false, true],
    ]);
  });

  it("an unknown tier is a located error naming the declared tiers", () => {
    expect(() => flagDifferences(model(), "staging", "qa")).toThrow(/unknown tier "qa"/);
  });
});

describe("observabilityLocations: where each tier's dashboards and alerts live", () => {
  it("lists every tier in promotion order; unmonitored tiers have no alerts that can fire", () => {
    const locations = observabilityLocations(model());
    expect(locations.map((l) => l.tier)).toEqual(["dev", "test", "staging", "prod"]);
    expect(locations[0]).toMatchObject({
      tier: "dev",
      monitored: false,
      dashboards: null,
      alerts: { enabled: [] },
      logs: { destination: "stdout", retention_days: 1 },
    });
    expect(locations[3]).toMatchObject({
      tier: "prod",
      monitored: true,
      dashboards: "https://grafana.tiers.example/d/tiers?var-tier=prod",
      alerts: {
        receiver: "tiers-oncall",
        url: "https://alertmanager.tiers.example/#/alerts?filter=tier%3Dprod",
        enabled: ["error_rate", "p95_latency", "availability"],
      },
      logs: { destination: "cloudwatch", retention_days: 30 },
    });
  });

  it("formats one line per tier and says 'none' instead of leaving a gap", () => {
    const lines = formatLocations(observabilityLocations(model()));
    expect(lines[0]).toBe("🜂 dev  dashboards none  alerts none (not monitored)  logs stdout 1d");
    expect(lines[3]).toContain(
      "alerts error_rate, p95_latency, availability → tiers-oncall https://alertmanager",
    );
  });

  it("one tier's location, as `tiers status` prints it under the tier's marker", () => {
    const prod = observabilityLocation(model(), "prod");
    expect(prod).toEqual(observabilityLocations(model())[3]);
    expect(formatLocation(prod)).toBe(
      "dashboards https://grafana.tiers.example/d/tiers?var-tier=prod  alerts error_rate, p95_latency, availability → tiers-oncall https://alertmanager.tiers.example/#/alerts?filter=tier%3Dprod  logs cloudwatch 30d",
    );
  });
});

describe("formatFlagDifference: one line of `tiers plan`", () => {
  it("names the flag, both values and what it does", () => {
    const [d] = flagDifferences(model(), "test", "staging");
    expect(formatFlagDifference(d!)).toBe(
      "verbose_errors: on → off (A failed request's 500 answer carries the error message (internals in responses).)",
    );
  });
});
