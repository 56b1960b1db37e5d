/**
 * terraform: argument vectors for formatting checks, offline validation and per-tier plans, and
 * a parser for `terraform validate -json` so problems are reported with file:line:col.
 *
 * Cloud credentials are never arguments: a plan names secret environment variables
 * (`Invocation.secretEnv`) that the engine binds. `-input=false` everywhere, because a pipeline
 * that waits for a prompt hangs CI instead of failing it.
 */
import type { Invocation } from "./invocation.ts";

/** `terraform fmt -check -recursive -diff <dir>`: exits 3 when a file is not canonically formatted. */
export function fmtCheck(dir: string): Invocation {
  return {
    tool: "terraform",
    args: ["fmt", "-check", "-recursive", "-diff", "-no-color"],
    cwd: dir,
  };
}

/**
 * `terraform init -backend=false -input=false`: prepares a configuration for validation without
 * touching remote state. It succeeds offline only when no provider has to be downloaded.
 */
export function initOffline(dir: string): Invocation {
  return {
    tool: "terraform",
    args: ["init", "-backend=false", "-input=false", "-no-color"],
    cwd: dir,
    env: { TF_IN_AUTOMATION: "1" },
  };
}

/** `terraform validate -json`: checks syntax, references and types of an initialised directory. */
export function validate(dir: string): Invocation {
  return {
    tool: "terraform",
    args: ["validate", "-json", "-no-color"],
    cwd: dir,
    env: { TF_IN_AUTOMATION: "1" },
  };
}

/** `terraform test`: runs a module's `tests/*.tftest.hcl` (offline for provider-free modules). */
export function test(dir: string): Invocation {
  return {
    tool: "terraform",
    args: ["test", "-no-color"],
    cwd: dir,
    env: { TF_IN_AUTOMATION: "1" },
  };
}

/** Options for a per-tier plan. */
export interface PlanOptions {
  /** Root module directory (e.g. `terraform/live`). */
  dir: string;
  /** The tier whose `<tier>.tfvars` is used. */
  tier: string;
  /** Where to write the plan file, relative to `dir`. */
  out?: string;
  /** Environment variable name -> logical secret name (cloud credentials). */
  credentials?: Readonly<Record<string, string>>;
}

/** `terraform plan -var-file=<tier>.tfvars -out=<file>`: what would change for one tier. */
export function plan(options: PlanOptions): Invocation {
  return {
    tool: "terraform",
    args: [
      "plan",
      "-input=false",
      "-no-color",
      "-lock-timeout=120s",
      `-var-file=${options.tier}.tfvars`,
      `-out=${options.out ?? `${options.tier}.tfplan`}`,
    ],
    cwd: options.dir,
    env: { TF_IN_AUTOMATION: "1" },
    secretEnv: options.credentials ?? {},
  };
}

/** `terraform output -json [name]`: outputs of the current state, as terraform parsed them. */
export function output(dir: string, name?: string): Invocation {
  return { tool: "terraform", args: ["output", "-json", ...(name ? [name] : [])], cwd: dir };
}

/** One problem terraform reported, located in a file. */
export interface TerraformDiagnostic {
  severity: "error" | "warning";
  summary: string;
  detail: string;
  /** `file:line:col` when terraform gave a range. */
  where?: string;
}

/** The parsed result of `terraform validate -json`. */
export interface ValidateReport {
  valid: boolean;
  errorCount: number;
  warningCount: number;
  diagnostics: TerraformDiagnostic[];
}

/** Parses `terraform validate -json` output (documented format, version 1.x). */
export function parseValidateJson(stdout: string, dir = ""): ValidateReport {
  const data = JSON.parse(stdout) as {
    valid?: boolean;
    error_count?: number;
    warning_count?: number;
    diagnostics?: {
      severity?: string;
      summary?: string;
      detail?: string;
      range?: { filename?: string; start?: { line?: number; column?: number } };
    }[];
  };
  if (typeof data.valid !== "boolean") {
    throw new Error("terraform validate -json output has no `valid` field");
  }
  return {
    valid: data.valid,
    errorCount: data.error_count ?? 0,
    warningCount: data.warning_count ?? 0,
    diagnostics: (data.diagnostics ?? []).map((d) => ({
      severity: d.severity === "warning" ? "warning" : "error",
      summary: d.summary ?? "",
      detail: d.detail ?? "",
      where: d.range?.filename
        ? `${dir ? `${dir}/` : ""}${d.range.filename}:${d.range.start?.line ?? 1}:${d.range.start?.column ?? 1}`
        : undefined,
    })),
  };
}

/** Files `terraform fmt -check` lists as unformatted (it prints one path per line before the diff). */
export function parseFmtCheck(stdout: string): string[] {
  return (
    stdout
      .split("\n")
      .map((line) => line.trim())
      // Diff headers (`--- old/x.tf`, `+++ new/x.tf`) also end in .tf; file names have no spaces.
      .filter((line) => !line.includes(" ") && (line.endsWith(".tf") || line.endsWith(".tfvars")))
  );
}
