import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Problem, validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import { asSources, edit, locate, repoRoot } from "./fixtures.ts";

const fixtureDir = join(repoRoot, "test/fixtures/observability/environments");

/** The observability fixture's files, keyed by name, so each test edits its own copy. */
function fixtureFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(fixtureDir)) {
    files[name] = readFileSync(join(fixtureDir, name), "utf8");
  }
  return files;
}

function problemsAfter(change: (files: Record<string, string>) => void): Problem[] {
  const files = fixtureFiles();
  change(files);
  return validateSources(asSources(files)).problems;
}

describe("observability, alerting and flags in the tier model", () => {
  it("the fixture passes schema and every policy, and merges per tier", () => {
    const { model, problems } = validateSources(asSources(fixtureFiles()));
    expect(problems).toEqual([]);
    expect(model!.tiers.prod!.observability.tracing.sample_rate).toBe(0.05);
    expect(model!.tiers.dev!.observability.metrics.path).toBe("/metrics"); // from base
    expect(model!.tiers.dev!.flags.verbose_errors).toMatchObject({ default: false, value: true });
    expect(model!.tiers.prod!.alerting.rules.error_rate).toEqual({
      enabled: true,
      threshold: 0.01,
      for: "5m",
      severity: "critical",
    });
  });

  it("prod may not sample more than 0.1 of its traces (policy/tracing-sample-rate)", () => {
    let prod = "";
    const problems = problemsAfter((f) => {
      prod = f["prod.yaml"] = edit(f["prod.yaml"]!, "sample_rate: 0.05", "sample_rate: 0.5");
    });
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(prod, "sample_rate: 0.5", "0.5"),
        path: "observability.tracing.sample_rate",
        rule: "policy/tracing-sample-rate",
        tier: "prod",
        message:
          "prod may sample at most 0.1 of its traces, not 0.5: full sampling at production load costs more than it tells; set observability.tracing.sample_rate: 0.1 or less",
      },
    ]);
  });

  it("staging may sample every trace: the cap binds prod only", () => {
    const problems = problemsAfter((f) => {
      f["staging.yaml"] = edit(f["staging.yaml"]!, "sample_rate: 0.5", "sample_rate: 1");
    });
    expect(problems).toEqual([]);
  });

  it("a dev_only flag turned on in staging is refused there (policy/dev-only-flag)", () => {
    let staging = "";
    const problems = problemsAfter((f) => {
      staging = f["staging.yaml"] = edit(
        f["staging.yaml"]!,
        "flags: {}",
        "flags:\n  verbose_errors: { value: true }",
      );
    });
    expect(problems).toEqual([
      {
        file: "environments/staging.yaml",
        ...locate(staging, "verbose_errors: { value: true }", "true"),
        path: "flags.verbose_errors.value",
        rule: "policy/dev-only-flag",
        tier: "staging",
        message:
          'staging may not turn on flag "verbose_errors": it is dev_only (unfinished work); set flags.verbose_errors.value: false in environments/staging.yaml',
      },
    ]);
  });

  it("a dev_only flag on by default in base.yaml is refused once per release tier, at base.yaml", () => {
    let base = "";
    const problems = problemsAfter((f) => {
      base = f["base.yaml"] = edit(
        f["base.yaml"]!,
        "  verbose_errors:\n    default: false",
        "  verbose_errors:\n    default: true",
      );
    });
    const where = locate(base, "    default: true", "true");
    expect(problems.map((p) => [p.file, p.line, p.column, p.rule, p.tier])).toEqual([
      ["environments/base.yaml", where.line, where.column, "policy/dev-only-flag", "prod"],
      ["environments/base.yaml", where.line, where.column, "policy/dev-only-flag", "staging"],
    ]);
  });

  it("an unknown flag in a tier file is one located problem naming the declared flags", () => {
    let test = "";
    const problems = problemsAfter((f) => {
      test = f["test.yaml"] = edit(
        f["test.yaml"]!,
        "  verbose_errors: { value: true }",
        "  verbose_errors: { value: true }\n  verbose_erors: { value: true }",
      );
    });
    expect(problems).toEqual([
      {
        file: "environments/test.yaml",
        ...locate(test, "verbose_erors: {", "{"),
        path: "flags.verbose_erors",
        rule: "policy/unknown-flag",
        tier: "test",
        message:
          'unknown flag "verbose_erors": flags are declared in environments/base.yaml with a default and a description; declared: pause_enqueue, verbose_errors',
      },
    ]);
  });

  it("a flag fully declared in a tier file is still unknown: declarations live in base.yaml", () => {
    const problems = problemsAfter((f) => {
      f["dev.yaml"] = edit(
        f["dev.yaml"]!,
        "  verbose_errors: { value: true }",
        "  verbose_errors: { value: true }\n  dark_mode: { default: true, description: Dark. }",
      );
    });
    expect(problems.map((p) => [p.file, p.path, p.rule])).toEqual([
      ["environments/dev.yaml", "flags.dark_mode", "policy/unknown-flag"],
    ]);
  });

  it.each([
    ["error_rate", "threshold: 0.01", "threshold: 1.5", "1.5"],
    ["p95_latency", "threshold: 0.3", "threshold: 0", "0"],
    ["availability", "threshold: 0.999", "threshold: 1", "1"],
  ])(
    "a %s threshold that can never fire is refused with file:line (policy/alert-threshold)",
    (alert, from, to, shown) => {
      let prod = "";
      const problems = problemsAfter((f) => {
        prod = f["prod.yaml"] = edit(f["prod.yaml"]!, from, to);
      });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatchObject({
        file: "environments/prod.yaml",
        ...locate(prod, `${alert}: { ${to}`, shown),
        path: `alerting.rules.${alert}.threshold`,
        rule: "policy/alert-threshold",
        tier: "prod",
      });
      expect(problems[0]!.message).toContain(`alerting.rules.${alert}.threshold is ${shown}`);
    },
  );

  it("tracing enabled without an endpoint is a schema problem at the endpoint", () => {
    const problems = problemsAfter((f) => {
      f["staging.yaml"] = edit(
        f["staging.yaml"]!,
        'endpoint: "env:OTEL_EXPORTER_OTLP_ENDPOINT" # the cluster',
        "endpoint: null # the cluster",
      );
    });
    expect(problems.map((p) => [p.file, p.path, p.rule])).toEqual([
      ["environments/staging.yaml", "observability.tracing.endpoint", "schema/invalid-value"],
    ]);
  });

  it("a monitored tier must serve metrics", () => {
    const problems = problemsAfter((f) => {
      f["prod.yaml"] = edit(
        f["prod.yaml"]!,
        "metrics: { interval_seconds: 15,",
        "metrics: { enabled: false, interval_seconds: 15,",
      );
    });
    expect(problems.map((p) => [p.path, p.tier])).toEqual([
      ["observability.metrics.enabled", "prod"],
    ]);
  });

  it("retention.logs_days is gone: log retention has one source", () => {
    const problems = problemsAfter((f) => {
      f["dev.yaml"] = edit(f["dev.yaml"]!, "retention:\n", "retention:\n  logs_days: 1\n");
    });
    expect(problems.map((p) => [p.path, p.rule])).toEqual([
      ["retention.logs_days", "schema/unknown-key"],
    ]);
  });
});
