import { describe, expect, it } from "vitest";
import {
  fmtCheck,
  initOffline,
  parseFmtCheck,
  parseValidateJson,
  plan,
  test as terraformTest,
  validate,
} from "../../../pipelines/src/tools/terraform.ts";

describe("terraform argument vectors", () => {
  it("checks formatting recursively without rewriting files", () => {
    const call = fmtCheck("terraform");
    expect(call.args).toEqual(["fmt", "-check", "-recursive", "-diff", "-no-color"]);
    expect(call.cwd).toBe("terraform");
  });

  it("initialises without a backend and never prompts", () => {
    expect(initOffline("terraform/modules/tier").args).toEqual([
      "init",
      "-backend=false",
      "-input=false",
      "-no-color",
    ]);
    expect(validate("x").args).toEqual(["validate", "-json", "-no-color"]);
    expect(terraformTest("x").args).toEqual(["test", "-no-color"]);
  });

  it("plans one tier from its variable file with credentials as secret environment", () => {
    const call = plan({
      dir: "terraform/live",
      tier: "prod",
      credentials: { AWS_SECRET_ACCESS_KEY: "aws-secret-key" },
    });
    expect(call.args).toContain("-var-file=prod.tfvars");
    expect(call.args).toContain("-out=prod.tfplan");
    expect(call.args).toContain("-input=false");
    expect(call.secretEnv).toEqual({ AWS_SECRET_ACCESS_KEY: "aws-secret-key" });
    expect(call.args.join(" ")).not.toContain("aws-secret-key");
  });
});

describe("terraform output parsing", () => {
  it("reads validate -json diagnostics with file:line:col", () => {
    const report = parseValidateJson(
      JSON.stringify({
        format_version: "1.0",
        valid: false,
        error_count: 1,
        warning_count: 0,
        diagnostics: [
          {
            severity: "error",
            summary: "Reference to undeclared input variable",
            detail: 'An input variable with the name "tierr" has not been declared.',
            range: { filename: "main.tf", start: { line: 4, column: 12, byte: 80 } },
          },
        ],
      }),
      "terraform/modules/tier",
    );
    expect(report.valid).toBe(false);
    expect(report.errorCount).toBe(1);
    expect(report.diagnostics[0]).toMatchObject({
      severity: "error",
      where: "terraform/modules/tier/main.tf:4:12",
    });
  });

  it("refuses output that is not validate -json", () => {
    expect(() => parseValidateJson("{}")).toThrow(/valid/);
  });

  it("lists the files fmt -check names", () => {
    const out = [
      "modules/tier/main.tf",
      "--- old/modules/tier/main.tf",
      "+++ new/modules/tier/main.tf",
      "@@ -1,3 +1,3 @@",
      "-type=string",
      "live/prod.tfvars",
    ].join("\n");
    expect(parseFmtCheck(out)).toEqual(["modules/tier/main.tf", "live/prod.tfvars"]);
  });
});
