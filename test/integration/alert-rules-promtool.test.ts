/**
 * The sample's alert rules, validated by the real promtool (pinned in
 * scripts/provision/go-tools.sh, installed by scripts/provision.sh): the PrometheusRule of each
 * Kubernetes overlay is rendered with the real `kubectl kustomize`, its `spec` (a Prometheus rule
 * file: `groups:`) written out, and `promtool check rules` parses every expression with
 * Prometheus's own PromQL parser. `promtool test rules` then runs prod's ErrorRate alert over
 * synthetic series, as Prometheus would evaluate it. Unit-test file format:
 * https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/
 * Where promtool is missing the tests fail, naming provision (its cold build is ~20 min of CPU,
 * docs/machines.md#promtool); the PromQL grammar and CRD schema checks
 * (test/unit/core/observability) run beside it.
 * Verified with promtool from `go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0`.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type EnvironmentModel, loadModel } from "../../pipelines/src/core/environment/index.ts";
import { type KubeObject, parseManifests } from "../../pipelines/src/core/manifests/index.ts";
import { runHost } from "../../pipelines/src/engines/host/run.ts";
import * as kubectl from "../../pipelines/src/tools/kubectl.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
let model: EnvironmentModel;
let work: string;

const promtool = (args: string[], cwd: string) =>
  spawnSync("promtool", args, { cwd, encoding: "utf8", timeout: 60_000 });

interface RuleGroup {
  name: string;
  rules: {
    alert: string;
    expr: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }[];
}

/** The rule groups of a tier's rendered PrometheusRule (the real kustomize output). */
async function renderedRuleGroups(tier: string): Promise<RuleGroup[]> {
  const result = await runHost(kubectl.kustomize(`k8s/overlays/${tier}`), { root, reject: false });
  expect(result.exitCode, result.stderr).toBe(0);
  const objects: KubeObject[] = parseManifests(result.stdout, `k8s/overlays/${tier}`);
  const rules = objects.filter((o) => o.kind === "PrometheusRule");
  expect(rules, `${tier} renders one PrometheusRule`).toHaveLength(1);
  return (rules[0]!.spec as { groups: RuleGroup[] }).groups;
}

/** promtool answers on PATH (a missing binary is ENOENT: `error` is set). */
const installed = (() => {
  const version = spawnSync("promtool", ["--version"], { encoding: "utf8", timeout: 60_000 });
  return !version.error && version.status === 0;
})();

beforeAll(async () => {
  model = await loadModel(root);
  work = await mkdtemp(join(tmpdir(), "tiers-promtool-"));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("sample: the alert rules on the real promtool (pinned in scripts/provision/go-tools.sh)", () => {
  it("promtool is installed (scripts/provision.sh go-installs it)", () => {
    expect(
      installed,
      "promtool is not on PATH: run scripts/provision.sh (go-tools.sh pins it)",
    ).toBe(true);
  });
  describe.skipIf(!installed)("with promtool", () => {
    it("every monitored Kubernetes tier's rendered PrometheusRule passes `promtool check rules`", async () => {
      const tiers = Object.values(model.tiers)
        .filter((t) => t.runtime === "kubernetes" && t.features.monitoring)
        .map((t) => t.tier);
      expect(tiers.length).toBeGreaterThan(0);
      for (const tier of tiers) {
        const groups = await renderedRuleGroups(tier);
        const file = join(work, `${tier}.rules.yaml`);
        await writeFile(file, stringify({ groups }));
        const checked = promtool(["check", "rules", file], work);
        expect(checked.status, `${tier}: ${checked.stdout}${checked.stderr}`).toBe(0);
        const count = groups.reduce((n, g) => n + g.rules.length, 0);
        expect(checked.stdout).toContain(`SUCCESS: ${count} rules found`);
      }
    });

    it("promtool does refuse a broken expression (so the check above can fail)", async () => {
      const [group] = await renderedRuleGroups("prod");
      group!.rules[0]!.expr = `${group!.rules[0]!.expr} >`;
      const file = join(work, "broken.rules.yaml");
      await writeFile(file, stringify({ groups: [group] }));
      const checked = promtool(["check", "rules", file], work);
      expect(checked.status).toBe(1);
      expect(checked.stdout + checked.stderr).toMatch(/FAILED/);
    });

    it("prod's ErrorRate fires on 9% failed requests after its `for:`, and not on 0.5% (`promtool test rules`)", async () => {
      const groups = await renderedRuleGroups("prod");
      await writeFile(join(work, "prod.rules.yaml"), stringify({ groups }));
      const alert = groups[0]!.rules.find((r) => r.alert === "ErrorRate")!;
      const prod = model.tiers.prod!;
      expect(prod.alerting.rules.error_rate.threshold).toBeLessThan(0.09);
      expect(prod.alerting.rules.error_rate.threshold).toBeGreaterThan(0.005);
      const series = (status: string, perMinute: number) => ({
        series: `tiers_http_requests_total{namespace="tiers-prod",service="api",route="/jobs",method="POST",status="${status}"}`,
        values: `0+${perMinute}x30`,
      });
      const unit = {
        rule_files: ["prod.rules.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [series("500", 10), series("202", 100)],
            alert_rule_test: [
              // Pending through the alert's `for:` (5m), firing after it.
              { eval_time: "3m", alertname: "ErrorRate", exp_alerts: [] },
              {
                eval_time: "15m",
                alertname: "ErrorRate",
                exp_alerts: [{ exp_labels: alert.labels, exp_annotations: alert.annotations }],
              },
            ],
          },
          {
            interval: "1m",
            input_series: [series("500", 1), series("202", 199)],
            alert_rule_test: [{ eval_time: "15m", alertname: "ErrorRate", exp_alerts: [] }],
          },
        ],
      };
      await writeFile(join(work, "prod.rules.test.yaml"), stringify(unit));
      const tested = promtool(["test", "rules", "prod.rules.test.yaml"], work);
      expect(tested.status, tested.stdout + tested.stderr).toBe(0);
      expect(tested.stdout).toMatch(/SUCCESS/);
    });
  });
});
