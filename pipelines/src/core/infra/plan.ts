/**
 * The infrastructure stage's decisions, pure: the backend settings `terraform init` gets from a
 * tier's config, the per-resource summary of a saved plan, which planned changes would destroy
 * or replace a protected resource, and the tier's budget as terraform parsed it. The engine
 * (engines/host/infra.ts) gathers the facts and runs terraform; everything it decides is here.
 */

import type { InfraSettings } from "../environment/schema.ts";
import { TiersError } from "../errors.ts";
import { releasesDir, renderRecord } from "../promotion/records.ts";
import { z } from "../zod.ts";

/** Where `tiers infra` keeps plans, summaries and per-tier working copies (never committed). */
export const infraDir = ".tiers/infra";

export function planFilePath(tier: string): string {
  return `${infraDir}/${tier}.tfplan`;
}

export function summaryPath(tier: string): string {
  return `${infraDir}/${tier}.plan.json`;
}

/**
 * `-backend-config` pairs for the tier's state. S3: bucket, key, region, lock table and
 * encryption (terraform s3 backend: developer.hashicorp.com/terraform/language/backend/s3).
 * Local: the state file path, absolute so the per-tier working copy can live anywhere.
 */
export function backendConfig(infra: InfraSettings, root: string): Record<string, string> {
  const state = infra.state;
  if (state.backend === "local") return { path: `${root.replace(/\/$/, "")}/${state.path}` };
  return {
    bucket: state.bucket,
    key: state.key,
    region: state.region,
    dynamodb_table: state.lock_table,
    encrypt: "true",
  };
}

/** The backend block the working copy declares for a local-state tier (an `_override.tf`). */
export function localBackendOverride(): string {
  return [
    "# Written by `tiers infra plan` for a tier whose infra.state.backend is local (dev).",
    'terraform {\n  backend "local" {}\n}\n',
  ].join("\n");
}

/** What one planned action does to a resource, in the summary's words. */
export type Effect = "add" | "change" | "destroy" | "replace" | "read" | "no-op";

/** terraform's action lists (json-format doc, "Change Representation") in one word. */
export function effectOf(actions: readonly string[]): Effect {
  const key = actions.join(",");
  if (key === "create") return "add";
  if (key === "update") return "change";
  if (key === "delete") return "destroy";
  if (key === "delete,create" || key === "create,delete") return "replace";
  if (key === "read") return "read";
  if (key === "no-op") return "no-op";
  throw new TiersError(`unknown terraform plan action list [${key}]`, {
    hint: "tiers reads plan format 1.x; upgrade tiers for this terraform version",
  });
}

export interface ChangeLike {
  address: string;
  type: string;
  module: string;
  actions: string[];
  before: Record<string, unknown> | null;
}

/** Why a resource may never be destroyed or replaced by a plan, or undefined when it may. */
export function protectionOf(change: ChangeLike): string | undefined {
  const before = change.before ?? {};
  if (change.module === "module.state" || change.module.startsWith("module.state.")) {
    return "it holds the tier's Terraform state (module.state)";
  }
  if (before.deletion_protection === true || before.deletion_protection_enabled === true) {
    return "it has deletion protection";
  }
  if (before.object_lock_enabled === true) return "it is an Object Lock bucket";
  if (change.type === "aws_s3_bucket_object_lock_configuration") {
    return "it is an Object Lock configuration";
  }
  return undefined;
}

export const summarySchema = z.strictObject({
  kind: z.literal("infra-plan"),
  tier: z.string(),
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  /** sha256 of the saved plan file: what apply checks and what `record` approvals name. */
  plan_digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  planned_at: z.string(),
  terraform_version: z.string(),
  counts: z.strictObject({
    add: z.number(),
    change: z.number(),
    destroy: z.number(),
    replace: z.number(),
  }),
  resources: z.array(
    z.strictObject({
      address: z.string(),
      effect: z.enum(["add", "change", "destroy", "replace"]),
      protected: z.string().nullable(),
    }),
  ),
  budget: z
    .strictObject({ monthly_usd: z.number(), alert_thresholds: z.array(z.number()) })
    .nullable(),
});
export type PlanSummary = z.infer<typeof summarySchema>;

/** Counts and per-resource effects of a plan; reads and no-ops are left out. */
export function summarise(
  changes: readonly ChangeLike[],
  variables: Readonly<Record<string, unknown>>,
): Pick<PlanSummary, "counts" | "resources" | "budget"> {
  const counts = { add: 0, change: 0, destroy: 0, replace: 0 };
  const resources: PlanSummary["resources"] = [];
  for (const change of changes) {
    const effect = effectOf(change.actions);
    if (effect === "read" || effect === "no-op") continue;
    counts[effect]++;
    const removes = effect === "destroy" || effect === "replace";
    resources.push({
      address: change.address,
      effect,
      protected: removes ? (protectionOf(change) ?? null) : null,
    });
  }
  return { counts, resources, budget: budgetOf(variables) };
}

/** The tier's budget from the planned root variables (terraform/live/<tier>.tfvars). */
export function budgetOf(variables: Readonly<Record<string, unknown>>): PlanSummary["budget"] {
  const usd = variables.budget_monthly_usd;
  const thresholds = variables.budget_alert_thresholds;
  if (typeof usd !== "number") return null;
  return {
    monthly_usd: usd,
    alert_thresholds: Array.isArray(thresholds)
      ? thresholds.filter((t): t is number => typeof t === "number")
      : [],
  };
}

/** Summary lines as `tiers infra plan` prints them. */
export function describeSummary(summary: PlanSummary): string[] {
  const c = summary.counts;
  const lines = [
    `plan ${summary.plan_digest.slice(0, 19)} from ${summary.commit.slice(0, 12)}: ${c.add} to add, ${c.change} to change, ${c.destroy} to destroy, ${c.replace} to replace`,
  ];
  const sign = { add: "+", change: "~", destroy: "-", replace: "-/+" } as const;
  for (const r of summary.resources) {
    lines.push(
      `  ${sign[r.effect]} ${r.address}${r.protected ? `  PROTECTED: ${r.protected}` : ""}`,
    );
  }
  lines.push(budgetLine(summary.budget));
  return lines;
}

export function budgetLine(budget: PlanSummary["budget"]): string {
  return budget
    ? `budget: ${budget.monthly_usd} USD/month, alerts at ${budget.alert_thresholds.map((t) => `${t}%`).join(", ")}`
    : "budget: none declared (budget_monthly_usd missing from the tier's tfvars)";
}

/** Protected resources the plan would destroy or replace (apply refuses when non-empty). */
export function protectedRemovals(summary: PlanSummary): string[] {
  return summary.resources
    .filter((r) => r.protected)
    .map((r) => `${r.address} (${r.effect}: ${r.protected})`);
}

/**
 * Secret names the tfvars declare versus the tier config's `secrets` keys: the parameters are
 * created from the references, never from values, and the two lists must stay equal.
 */
export function secretNameDrift(
  tfvars: unknown,
  configured: readonly string[],
): string | undefined {
  if (!Array.isArray(tfvars)) return "secret_names is missing from the tier's tfvars";
  const a = [...tfvars].map(String).sort();
  const b = [...configured].sort();
  return a.join(",") === b.join(",")
    ? undefined
    : `tfvars secret_names [${a.join(", ")}] differ from the tier config's secrets [${b.join(", ")}]`;
}

// --- Records: every infra run is committed under releases/infra/<tier>/ like promotions. ---

export const infraRecordSchema = z.strictObject({
  kind: z.enum(["infra-plan", "infra-apply"]),
  tier: z.string(),
  at: z.string(),
  by: z.string(),
  commit: z.string(),
  plan_digest: z.string().nullable(),
  outcome: z.enum(["planned", "applied", "refused", "failed", "checked-offline"]),
  counts: summarySchema.shape.counts.nullable(),
  gates: z.array(z.strictObject({ gate: z.string(), ok: z.boolean(), why: z.string() })),
  detail: z.string().nullable(),
});
export type InfraRecord = z.infer<typeof infraRecordSchema>;

/** `releases/infra/<tier>/<stamp>-<plan|apply>-<short>.yaml`, sortable like history records. */
export function infraRecordPath(record: InfraRecord): string {
  const stamp = record.at.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const short = (record.plan_digest ?? record.commit).replace(/^sha256:/, "").slice(0, 12);
  return `${releasesDir}/infra/${record.tier}/${stamp}-${record.kind.replace("infra-", "")}-${short}.yaml`;
}

export function renderInfraRecord(record: InfraRecord): string {
  return renderRecord(record, `${record.kind} of ${record.tier}: ${record.outcome}`);
}

/**
 * Whether `tiers deploy` applies the tier's saved plan (infra.apply: with-deploy) rather than
 * leaving it to the separate infra job, the default (docs/terraform.md "Deploy order").
 */
export function appliedWithDeploy(infra: InfraSettings | undefined): boolean {
  return infra?.apply === "with-deploy";
}
