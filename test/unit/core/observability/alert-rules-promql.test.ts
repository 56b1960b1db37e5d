/**
 * Alert rules checked without promtool: promtool installs through the Go module proxy (no
 * `replace` in github.com/prometheus/prometheus's go.mod), but its cold build costs ~20 min of
 * CPU, so it is not pinned (docs/machines.md#promtool; test/integration/alert-rules-promtool.test.ts
 * runs it where it is installed). Each rendered alert's `expr` is parsed by
 * @prometheus-io/lezer-promql, the PromQL grammar the Prometheus project ships for its own web
 * UI (web/ui/module/lezer-promql in prometheus/prometheus), and the objects pass the
 * PrometheusRule CRD schema (kubernetes.test.ts). Evaluation semantics are not covered here.
 */
import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import {
  metricNames,
  prometheusRule,
} from "../../../../pipelines/src/core/observability/kubernetes.ts";
import { model } from "./fixture-model.ts";

interface Rule {
  alert: string;
  expr: string;
}

function rulesOf(tier: string): Rule[] {
  const rule = prometheusRule(model().tiers[tier]!);
  if (!rule) throw new Error(`${tier} renders no PrometheusRule`);
  return (rule.spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
}

/** Syntax errors lezer found (its error nodes), and the metric names the query selects. */
function parse(expr: string): { errors: number[]; metrics: string[] } {
  const errors: number[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(node.from);
      if (node.name === "VectorSelector") {
        const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(node.from, node.to))?.[0];
        if (name) metrics.push(name);
      }
    },
  });
  return { errors, metrics };
}

describe("alert rules: PromQL parsed by Prometheus's own grammar (lezer-promql), not promtool", () => {
  it.each(["staging", "prod"])("every %s alert expression parses without an error", (tier) => {
    const rules = rulesOf(tier);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules)
      expect(parse(rule.expr).errors, `${rule.alert}: ${rule.expr}`).toEqual([]);
  });

  it("the alerts select only series the services expose (and Prometheus's own up)", () => {
    const exposed = new Set<string>([metricNames.requests, `${metricNames.duration}_bucket`, "up"]);
    for (const rule of rulesOf("prod")) {
      const { metrics } = parse(rule.expr);
      expect(metrics.length, rule.alert).toBeGreaterThan(0);
      for (const metric of metrics)
        expect(exposed, `${rule.alert} selects ${metric}`).toContain(metric);
    }
  });

  it("the grammar does reject a broken expression (so the checks above can fail)", () => {
    const [first] = rulesOf("prod");
    expect(parse(`${first!.expr} >`).errors.length).toBeGreaterThan(0);
    expect(parse("sum(rate(x[5m])").errors.length).toBeGreaterThan(0);
  });
});
