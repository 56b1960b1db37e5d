import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runtimeEnvironment } from "../../../../pipelines/src/core/environment/index.ts";
import { validateSchemas } from "../../../../pipelines/src/core/manifests/schema.ts";
import {
  monitoringObjects,
  observabilityFiles,
  prometheusRule,
  serviceMonitors,
} from "../../../../pipelines/src/core/observability/kubernetes.ts";
import { edit, fixtureRepo } from "../environment/fixtures.ts";
import { model } from "./fixture-model.ts";

describe("monitoring objects derived from the tier", () => {
  it("one ServiceMonitor per service, on its serving port, at the tier's path and interval", () => {
    const prod = model().tiers.prod!;
    expect(serviceMonitors(prod).map((m) => [m.metadata.name, m.spec])).toEqual([
      [
        "api",
        {
          // Blue-green api: the preview Service shares the name label and is left out.
          selector: {
            matchLabels: { "app.kubernetes.io/name": "api" },
            matchExpressions: [
              { key: "app.kubernetes.io/component", operator: "NotIn", values: ["preview"] },
            ],
          },
          endpoints: [{ port: "http", path: "/metrics", interval: "15s" }],
        },
      ],
      [
        "worker",
        {
          selector: { matchLabels: { "app.kubernetes.io/name": "worker" } },
          endpoints: [{ port: "health", path: "/metrics", interval: "15s" }],
        },
      ],
    ]);
  });

  it("the PrometheusRule carries each enabled alert with its tier's threshold and severity", () => {
    const rule = prometheusRule(model().tiers.prod!)!;
    const rules = (rule.spec as { groups: { rules: Record<string, unknown>[] }[] }).groups[0]!
      .rules;
    expect(rules.map((r) => [r.alert, r.for, (r.labels as { severity: string }).severity])).toEqual(
      [
        ["ErrorRate", "5m", "critical"],
        ["P95Latency", "10m", "critical"],
        ["Availability", "5m", "critical"],
      ],
    );
    expect(rules[0]!.expr).toContain('namespace="tiers-prod",status=~"5.."');
    expect(rules[0]!.expr).toMatch(/> 0\.01$/);
    expect(rules[1]!.expr).toMatch(
      /histogram_quantile\(0\.95, .*tiers_http_request_duration_seconds_bucket.*> 0\.3$/,
    );
    expect(rules[2]!.expr).toMatch(/< 0\.999$/);
  });

  it("a disabled alert is left out; an unmonitored tier gets no monitoring objects", () => {
    const m = model((f) => {
      f["prod.yaml"] = edit(
        f["prod.yaml"]!,
        "availability: { threshold: 0.999,",
        "availability: { enabled: false, threshold: 0.999,",
      );
    });
    const rules = (
      prometheusRule(m.tiers.prod!)!.spec as { groups: { rules: { alert: string }[] }[] }
    ).groups[0]!.rules;
    expect(rules.map((r) => r.alert)).toEqual(["ErrorRate", "P95Latency"]);
    expect(monitoringObjects(m.tiers.dev!)).toEqual([]);
    expect(Object.keys(observabilityFiles(m.tiers.dev!))).toEqual(["flags.env"]);
  });

  it("the objects pass the Prometheus Operator CRD schemas (real schema, @kubernetes-models/prometheus-operator)", () => {
    for (const tier of ["staging", "prod"]) {
      expect(validateSchemas(monitoringObjects(model().tiers[tier]!))).toEqual([]);
    }
  });

  it("the schema check catches a malformed duration (schema rule from the CRD)", () => {
    const [monitor] = serviceMonitors(model().tiers.prod!);
    (monitor!.spec as { endpoints: { interval: string }[] }).endpoints[0]!.interval = "15 seconds";
    expect(validateSchemas([monitor!]).map((f) => f.path)).toEqual(["/spec/endpoints/0/interval"]);
  });

  it("the flags env file holds every flag's value in the tier, as runtimeEnvironment does", () => {
    const m = model();
    const text = observabilityFiles(m.tiers.dev!)["flags.env"]!;
    expect(text.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([
      "TIERS_FLAG_PAUSE_ENQUEUE=false",
      "TIERS_FLAG_VERBOSE_ERRORS=true",
    ]);
    expect(runtimeEnvironment(m, "dev")).toMatchObject({
      TIERS_FLAG_PAUSE_ENQUEUE: "false",
      TIERS_FLAG_VERBOSE_ERRORS: "true",
    });
  });
});

describe("compose passes every runtime setting (drift check of compose/compose.yaml)", () => {
  it("x-runtime-environment names each variable runtimeEnvironment() sets for dev and test", () => {
    const compose = parse(readFileSync(join(fixtureRepo, "compose/compose.yaml"), "utf8")) as {
      "x-runtime-environment": Record<string, string>;
    };
    const passed = Object.keys(compose["x-runtime-environment"]);
    const m = model();
    for (const tier of ["dev", "test"]) {
      const wanted = Object.keys(runtimeEnvironment(m, tier)).filter((k) => k !== "NODE_ENV");
      expect(
        wanted.filter((k) => !passed.includes(k)),
        tier,
      ).toEqual([]);
    }
  });
});
