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

/**
 * `terraform init -input=false -reconfigure -backend-config=k=v ...`: initialises a root with the
 * tier's own state backend. `-reconfigure` because one working copy per tier never switches
 * backends, and a stale `.terraform/` must not make terraform offer a migration prompt.
 */
export function initBackend(
  dir: string,
  backendConfig: Readonly<Record<string, string>>,
): Invocation {
  return {
    tool: "terraform",
    args: [
      "init",
      "-input=false",
      "-no-color",
      "-reconfigure",
      ...Object.entries(backendConfig).map(([k, v]) => `-backend-config=${k}=${v}`),
    ],
    cwd: dir,
    env: { TF_IN_AUTOMATION: "1" },
  };
}

/** `terraform show -json <planfile>`: the machine-readable plan (see parsePlanJson). */
export function showPlanJson(dir: string, planFile: string): Invocation {
  return {
    tool: "terraform",
    args: ["show", "-json", "-no-color", planFile],
    cwd: dir,
    env: { TF_IN_AUTOMATION: "1" },
  };
}

/**
 * `terraform apply <planfile>`: applies exactly the saved plan (terraform refuses a plan whose
 * state has moved on: "Saved plan is stale"), never re-planning, never prompting.
 */
export function applyPlan(
  dir: string,
  planFile: string,
  credentials: Readonly<Record<string, string>> = {},
): Invocation {
  return {
    tool: "terraform",
    args: ["apply", "-input=false", "-no-color", "-lock-timeout=120s", planFile],
    cwd: dir,
    env: { TF_IN_AUTOMATION: "1" },
    secretEnv: credentials,
  };
}

/** Providers `terraform init` could not download, e.g. `["hashicorp/aws"]` (empty: another failure). */
export function parseProviderDownloadFailure(stderr: string): string[] {
  // terraform's installer messages (internal/command/init.go): "Could not retrieve the list of
  // available versions for provider <addr>: ..." and "Error while installing <addr> v<version>:
  // ...". Lines wrap at 78 columns, so the text is joined before matching.
  const text = stderr.replace(/\s*\n\s*/g, " ");
  const found = new Set<string>();
  const patterns = [
    /available versions for provider ([\w.-]+\/[\w.-]+(?:\/[\w.-]+)?):/g,
    /Error while installing ([\w.-]+\/[\w.-]+(?:\/[\w.-]+)?) v\d/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) found.add(match[1]!);
  }
  return [...found];
}

/** One resource instance's planned change, from `resource_changes` of the JSON plan. */
export interface PlannedChange {
  address: string;
  type: string;
  /** `module.state` for a resource in that module, "" at the root. */
  module: string;
  /** terraform's action list: ["create"], ["update"], ["delete"], ["delete","create"] (replace), ... */
  actions: string[];
  /** Attribute values before the change (null when the resource is being created). */
  before: Record<string, unknown> | null;
}

/** The parts of `terraform show -json <plan>` the infra stage uses. */
export interface PlanJson {
  formatVersion: string;
  terraformVersion: string;
  changes: PlannedChange[];
  /** Root module input variables as planned (`variables.<name>.value`). */
  variables: Record<string, unknown>;
  /** Root outputs as planned (`planned_values.outputs.<name>.value`; unknown values absent). */
  outputs: Record<string, unknown>;
}

/**
 * Parses `terraform show -json <planfile>`. Format: "JSON Output Format",
 * https://developer.hashicorp.com/terraform/internals/json-format (format_version 1.x:
 * `resource_changes[].{address,module_address,type,change.actions,change.before}`,
 * `variables.<name>.value`, `planned_values.outputs`). A major format version other than 1 is
 * refused rather than half-read. Anything before the JSON document (terraform's CLI-config
 * warning on stderr never reaches stdout, but be safe) is skipped.
 */
export function parsePlanJson(stdout: string, where = "terraform show -json"): PlanJson {
  const start = stdout.indexOf("{");
  let data: {
    format_version?: string;
    terraform_version?: string;
    resource_changes?: {
      address?: string;
      module_address?: string;
      type?: string;
      change?: { actions?: string[]; before?: unknown };
    }[];
    variables?: Record<string, { value?: unknown }>;
    planned_values?: { outputs?: Record<string, { value?: unknown }> };
  };
  try {
    data = JSON.parse(start >= 0 ? stdout.slice(start) : stdout);
  } catch (error) {
    throw new Error(`${where}: not a JSON plan (${(error as Error).message})`);
  }
  if (typeof data.format_version !== "string" || !data.format_version.startsWith("1.")) {
    throw new Error(
      `${where}: unsupported plan format_version ${JSON.stringify(data.format_version)} (expected 1.x)`,
    );
  }
  const changes = (data.resource_changes ?? []).map((rc, i) => {
    if (!rc.address || !rc.type || !Array.isArray(rc.change?.actions)) {
      throw new Error(`${where}: resource_changes[${i}] lacks address, type or change.actions`);
    }
    const before = rc.change.before;
    return {
      address: rc.address,
      type: rc.type,
      module: rc.module_address ?? "",
      actions: rc.change.actions,
      before:
        before && typeof before === "object" && !Array.isArray(before)
          ? (before as Record<string, unknown>)
          : null,
    };
  });
  const values = (record: Record<string, { value?: unknown }> | undefined) =>
    Object.fromEntries(
      Object.entries(record ?? {})
        .filter(([, v]) => v && "value" in v)
        .map(([k, v]) => [k, v.value]),
    );
  return {
    formatVersion: data.format_version,
    terraformVersion: data.terraform_version ?? "",
    changes,
    variables: values(data.variables),
    outputs: values(data.planned_values?.outputs),
  };
}
