/**
 * `tiers infra plan|apply --env <tier>` on this machine: terraform against the tier's own state
 * backend (environments/<tier>.yaml `infra.state`) with terraform/live/<tier>.tfvars.
 *
 * plan: copies terraform/ into a per-tier working copy under .tiers/infra/<tier>/ (so tiers
 * never share a `.terraform/` or a backend), inits, plans to .tiers/infra/<tier>.tfplan, reads
 * `terraform show -json` into a summary (.tiers/infra/<tier>.plan.json) and commits a record
 * under releases/infra/<tier>/. When a provider cannot be downloaded it still validates the
 * tier's values against modules/tier (provider-free) and says plainly what was not planned.
 *
 * apply: only the saved plan, only when it was made from the current commit (later commits
 * may touch releases/ alone), only after the tier's approvals gate (core/promotion/gates.ts,
 * the one promotion uses) passes, and never when it destroys or replaces a protected resource.
 */
import { createHash } from "node:crypto";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { tierOf } from "../../core/environment/index.ts";
import type { EnvironmentModel } from "../../core/environment/model.ts";
import type { Tier } from "../../core/environment/schema.ts";
import { TiersError } from "../../core/errors.ts";
import {
  backendConfig,
  budgetLine,
  budgetOf,
  describeSummary,
  type InfraRecord,
  infraDir,
  infraRecordPath,
  localBackendOverride,
  type PlanSummary,
  planFilePath,
  protectedRemovals,
  renderInfraRecord,
  secretNameDrift,
  summarise,
  summaryPath,
  summarySchema,
} from "../../core/infra/plan.ts";
import { Reporter } from "../../core/log.ts";
import { ciEnvironment } from "../../core/promotion/ci.ts";
import { approvalsVerdict, gateLine } from "../../core/promotion/gates.ts";
import { approvalPath, approvalSchema, type GateResult } from "../../core/promotion/records.ts";
import * as git from "../../tools/git.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import * as terraform from "../../tools/terraform.ts";
import { atomicWrite } from "./atomic-write.ts";
import { PromotionRepo, whoAmI } from "./history.ts";
import { runHost } from "./run.ts";

/** Runs one terraform invocation; non-zero exits are returned, not thrown. */
export type InfraRunner = (invocation: Invocation) => Promise<ToolResult>;

export interface InfraOptions {
  root: string;
  tier: string;
  model: EnvironmentModel;
  reporter?: Reporter;
  env?: NodeJS.ProcessEnv;
  /** terraform/ relative to root (tests point at a provider-free fixture copy). */
  terraformDir?: string;
  /** Upper bound of one terraform call; terraform's own -lock-timeout is shorter. */
  timeoutMs?: number;
  now?: () => Date;
  /** Runs terraform; defaults to infraHostRunner (tests and the deploy step wrap it). */
  run?: InfraRunner;
}

export type PlanOutcome =
  | { outcome: "planned"; summary: PlanSummary; record: string }
  | {
      outcome: "checked-offline";
      providers: string[];
      checked: string[];
      budget: PlanSummary["budget"];
      record: string;
    };

const defaultTimeoutMs = 30 * 60_000;

/** The environment terraform runs with: non-interactive, no update check. */
export function infraEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
}

/** terraform on this machine, each call bounded by `timeoutMs`; exits are returned, not thrown. */
export function infraHostRunner(
  root: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = defaultTimeoutMs,
): InfraRunner {
  return (invocation) =>
    runHost(invocation, { root, env, reject: false, signal: AbortSignal.timeout(timeoutMs) });
}

function setup(options: InfraOptions) {
  const tier = tierOf(options.model, options.tier);
  if (!tier.infra) {
    throw new TiersError(`tier ${tier.tier} declares no infrastructure (no \`infra\` key)`, {
      where: `environments/${tier.tier}.yaml`,
      hint: "add infra.state (backend local or s3) to manage the tier with terraform/",
    });
  }
  const env = infraEnv(options.env);
  const run = options.run ?? infraHostRunner(options.root, env, options.timeoutMs);
  const work = join(options.root, infraDir, tier.tier, "terraform");
  return {
    tier,
    infra: tier.infra,
    env,
    run,
    work,
    live: join(work, "live"),
    reporter: options.reporter ?? new Reporter(),
    repo: new PromotionRepo(options.root, env),
    now: options.now ?? (() => new Date()),
    source: options.terraformDir ?? "terraform",
  };
}

/** JSON text as a value, or undefined when it is not JSON (the schema check then refuses it). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function failure(what: string, result: ToolResult, where: string, hint?: string): TiersError {
  const text = (result.stderr || result.stdout).trim().split("\n").slice(-12).join("\n");
  return new TiersError(`${what} failed (exit ${result.exitCode}):\n${text}`, {
    where,
    ...(hint ? { hint } : {}),
  });
}

async function sha256File(path: string): Promise<string> {
  return `sha256:${createHash("sha256")
    .update(await readFile(path))
    .digest("hex")}`;
}

/** Commits one infra record on top of `head`; returns its path. */
async function commitRecord(
  repo: PromotionRepo,
  head: string,
  record: InfraRecord,
): Promise<string> {
  const path = infraRecordPath(record);
  await repo.commit({
    expectedHead: head,
    writes: [{ path, content: renderInfraRecord(record) }],
    message: `${record.kind} ${record.tier}: ${record.outcome}\n\nCommit: ${record.commit}\nPlan: ${record.plan_digest ?? "none"}\nBy: ${record.by}\n`,
  });
  return path;
}

/** Refuses uncommitted changes to what a plan is made from. */
async function requireClean(repo: PromotionRepo, source: string, tier: Tier): Promise<void> {
  const dirty = await repo.dirty([source, "environments"]);
  if (dirty.length) {
    throw new TiersError(
      `uncommitted changes to the infrastructure inputs: ${dirty.map((l) => l.slice(3)).join(", ")}`,
      {
        where: tier.tier,
        hint: "commit them first: a plan is made from, and recorded against, one commit",
      },
    );
  }
}

/**
 * A fresh working copy of the committed terraform/ for the tier (nothing left from an earlier
 * run), initialised with the tier's backend. Apply prepares it again, so a saved plan can be
 * applied on another machine or container than the one that made it.
 */
async function prepareWorkingCopy(
  s: ReturnType<typeof setup>,
  options: InfraOptions,
): Promise<ToolResult> {
  await rm(s.work, { recursive: true, force: true });
  await mkdir(s.work, { recursive: true });
  await cp(join(options.root, s.source), s.work, {
    recursive: true,
    filter: (src) => ![".terraform", ".tfstate", ".tfplan"].some((x) => src.endsWith(x)),
  });
  if (s.infra.state.backend === "local") {
    await mkdir(join(options.root, infraDir), { recursive: true });
    await writeFile(join(s.live, "tiers_backend_override.tf"), localBackendOverride());
  }
  return s.reporter.step(s.tier.tier, `terraform init (${s.infra.state.backend} state)`, () =>
    s.run(terraform.initBackend(s.live, backendConfig(s.infra, options.root))),
  );
}

/** Plans the tier's infrastructure; see the file comment. */
export async function planInfra(options: InfraOptions): Promise<PlanOutcome> {
  const s = setup(options);
  const { tier, reporter } = s;
  const say = (text: string) => reporter.info(tier.tier, text, tier.marker);
  const head = await s.repo.head();
  await requireClean(s.repo, s.source, tier);
  const by = await whoAmI(s.repo, s.env);
  const at = s.now().toISOString();

  const where = `${s.source}/live (${tier.tier})`;
  const init = await prepareWorkingCopy(s, options);
  if (init.exitCode !== 0) {
    const providers = terraform.parseProviderDownloadFailure(init.stderr);
    if (!providers.length) throw failure("terraform init", init, where);
    return offlineCheck(s, providers, head, by, at);
  }

  const planFile = join(options.root, planFilePath(tier.tier));
  const planned = await reporter.step(
    tier.tier,
    `terraform plan -var-file=${tier.tier}.tfvars`,
    () => s.run(terraform.plan({ dir: s.live, tier: tier.tier, out: planFile })),
  );
  if (planned.exitCode !== 0) throw failure("terraform plan", planned, where);
  const shown = await s.run(terraform.showPlanJson(s.live, planFile));
  if (shown.exitCode !== 0) throw failure("terraform show -json", shown, where);
  const json = terraform.parsePlanJson(shown.stdout, planFilePath(tier.tier));

  const drift = secretNameDrift(json.variables.secret_names, Object.keys(tier.secrets));
  if (drift) {
    await rm(planFile, { force: true });
    throw new TiersError(drift, {
      where: `${s.source}/live/${tier.tier}.tfvars`,
      hint: `make secret_names the keys of \`secrets\` in environments/${tier.tier}.yaml`,
    });
  }

  const summary: PlanSummary = {
    kind: "infra-plan",
    tier: tier.tier,
    commit: head,
    plan_digest: await sha256File(planFile),
    planned_at: at,
    terraform_version: json.terraformVersion,
    ...summarise(json.changes, json.variables),
  };
  await atomicWrite(
    join(options.root, summaryPath(tier.tier)),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
  for (const line of describeSummary(summary)) say(line);
  const refused = protectedRemovals(summary);
  for (const line of refused) reporter.warn(tier.tier, `apply will refuse: ${line}`, tier.marker);
  const record = await commitRecord(s.repo, head, {
    kind: "infra-plan",
    tier: tier.tier,
    at,
    by,
    commit: head,
    plan_digest: summary.plan_digest,
    outcome: "planned",
    counts: summary.counts,
    gates: [],
    detail: refused.length ? `destroys protected: ${refused.join("; ")}` : null,
  });
  say(`saved ${planFilePath(tier.tier)} and ${summaryPath(tier.tier)}; recorded ${record}`);
  return { outcome: "planned", summary, record };
}

/**
 * No provider download: validate and plan modules/tier (provider-free) with the tier's tfvars,
 * which runs every guard rail and reads the budget, and record that only this was checked.
 */
async function offlineCheck(
  s: ReturnType<typeof setup>,
  providers: string[],
  head: string,
  by: string,
  at: string,
): Promise<PlanOutcome> {
  const { tier, reporter } = s;
  const moduleDir = join(s.work, "modules", "tier");
  const tfvars = join(s.live, `${tier.tier}.tfvars`);
  const where = `${s.source}/modules/tier with ${s.source}/live/${tier.tier}.tfvars`;
  const checked: string[] = [];
  const fmt = await s.run(terraform.fmtCheck(s.work));
  if (fmt.exitCode !== 0) throw failure("terraform fmt -check", fmt, s.source);
  checked.push(`terraform fmt -check of ${s.source}/`);
  const init = await s.run(terraform.initOffline(moduleDir));
  if (init.exitCode !== 0) throw failure("terraform init -backend=false", init, where);
  const offlinePlan = join(moduleDir, "offline.tfplan");
  const plan = await s.run({
    tool: "terraform",
    args: ["plan", "-input=false", "-no-color", `-var-file=${tfvars}`, `-out=${offlinePlan}`],
    cwd: moduleDir,
  });
  if (plan.exitCode !== 0)
    throw failure("terraform plan of modules/tier (guard rails)", plan, where);
  checked.push(`modules/tier validation (guard rails) of ${tier.tier}.tfvars`);
  const shown = await s.run(terraform.showPlanJson(moduleDir, offlinePlan));
  if (shown.exitCode !== 0) throw failure("terraform show -json", shown, where);
  const json = terraform.parsePlanJson(shown.stdout, where);
  const drift = secretNameDrift(json.variables.secret_names, Object.keys(tier.secrets));
  if (drift) throw new TiersError(drift, { where: `${s.source}/live/${tier.tier}.tfvars` });
  checked.push(`secret_names = the secrets of environments/${tier.tier}.yaml`);
  const budget = budgetOf(json.variables);
  reporter.warn(
    tier.tier,
    `terraform could not download provider ${providers.join(", ")} (no registry access): ${s.source}/live was NOT planned and no plan was saved`,
    tier.marker,
  );
  reporter.info(tier.tier, `still checked: ${checked.join("; ")}`, tier.marker);
  reporter.info(tier.tier, budgetLine(budget), tier.marker);
  const record = await commitRecord(s.repo, head, {
    kind: "infra-plan",
    tier: tier.tier,
    at,
    by,
    commit: head,
    plan_digest: null,
    outcome: "checked-offline",
    counts: null,
    gates: [],
    detail: `provider ${providers.join(", ")} unavailable; checked: ${checked.join("; ")}`,
  });
  return { outcome: "checked-offline", providers, checked, budget, record };
}

export interface ApplyOutcome {
  summary: PlanSummary;
  gates: GateResult[];
  record: string;
}

/** Applies the tier's saved plan; see the file comment for what it refuses. */
export async function applyInfra(options: InfraOptions): Promise<ApplyOutcome> {
  const s = setup(options);
  const { tier, reporter } = s;
  const say = (text: string) => reporter.info(tier.tier, text, tier.marker);
  const summaryFile = join(options.root, summaryPath(tier.tier));
  const planFile = join(options.root, planFilePath(tier.tier));
  const text = await readFile(summaryFile, "utf8").catch(() => undefined);
  if (text === undefined) {
    throw new TiersError(`no saved plan for ${tier.tier}`, {
      where: summaryPath(tier.tier),
      hint: `run \`tiers infra plan --env ${tier.tier}\` first`,
    });
  }
  const parsed = summarySchema.safeParse(parseJson(text));
  if (!parsed.success || parsed.data.tier !== tier.tier) {
    throw new TiersError("the saved plan summary is malformed or belongs to another tier", {
      where: summaryPath(tier.tier),
      hint: `run \`tiers infra plan --env ${tier.tier}\` again`,
    });
  }
  const summary = parsed.data;
  const digest = await sha256File(planFile).catch(() => undefined);
  if (digest !== summary.plan_digest) {
    throw new TiersError(
      digest ? "the plan file is not the one the summary describes" : "the plan file is missing",
      { where: planFilePath(tier.tier), hint: `run \`tiers infra plan --env ${tier.tier}\` again` },
    );
  }

  const head = await s.repo.head();
  await requireClean(s.repo, s.source, tier);
  if (head !== summary.commit) {
    // Records written since (the plan's own, approvals) move HEAD; any other change is new input.
    const diff = await s.repo.run(git.diffNames(summary.commit, head), true);
    const changed = diff.stdout.split("\n").filter(Boolean);
    const inputs = changed.filter((p) => !p.startsWith("releases/"));
    if (diff.exitCode !== 0 || inputs.length) {
      throw new TiersError(
        `the saved plan was made from ${summary.commit.slice(0, 12)}, not the current commit ${head.slice(0, 12)}${inputs.length ? ` (changed since: ${inputs.slice(0, 5).join(", ")})` : ""}`,
        {
          where: planFilePath(tier.tier),
          hint: `run \`tiers infra plan --env ${tier.tier}\` again`,
        },
      );
    }
  }

  const by = await whoAmI(s.repo, s.env);
  const at = s.now().toISOString();
  const base = {
    kind: "infra-apply" as const,
    tier: tier.tier,
    at,
    by,
    commit: head,
    plan_digest: summary.plan_digest,
    counts: summary.counts,
  };

  // The approvals gate promotion uses, for the plan's digest (`record` approvals name it).
  const approvers = new Map<string, string[]>();
  if (tier.approvals.source === "record") {
    const approval = await s.repo.record(
      approvalSchema,
      approvalPath(tier.tier, summary.plan_digest),
    );
    approvers.set(summary.plan_digest, approval?.approvals.map((a) => a.by) ?? []);
  }
  const verdict = approvalsVerdict(
    tier.tier,
    { required: tier.approvals.required, source: tier.approvals.source },
    ciEnvironment(s.env),
    approvers,
  );
  const gates: GateResult[] = [{ gate: "approvals", ok: verdict.ok, why: verdict.why }];
  const removals = protectedRemovals(summary);
  gates.push({
    gate: "protected-resources",
    ok: removals.length === 0,
    why: removals.length
      ? `destroys or replaces ${removals.join("; ")}`
      : "no protected resource destroyed or replaced",
  });
  for (const g of gates) say(gateLine(g).text);
  const refused = gates.filter((g) => !g.ok);
  if (refused.length) {
    await commitRecord(s.repo, head, {
      ...base,
      outcome: "refused",
      gates,
      detail: refused.map((g) => g.why).join("; "),
    });
    throw new TiersError(`apply refused: ${refused.map((g) => `${g.gate}: ${g.why}`).join("; ")}`, {
      where: `tier ${tier.tier}`,
      hint: refused.some((g) => g.gate === "approvals")
        ? tier.approvals.source === "record"
          ? `approve the plan: tiers approve --env ${tier.tier} --digest ${summary.plan_digest}`
          : `run in the CI environment "${tier.tier}"`
        : "protected resources are never removed by the pipeline; change the configuration",
    });
  }

  const init = await prepareWorkingCopy(s, options);
  if (init.exitCode !== 0) throw failure("terraform init", init, `${s.source}/live (${tier.tier})`);
  const applied = await reporter.step(tier.tier, `terraform apply ${basename(planFile)}`, () =>
    s.run(terraform.applyPlan(s.live, planFile)),
  );
  const ok = applied.exitCode === 0;
  const record = await commitRecord(s.repo, head, {
    ...base,
    outcome: ok ? "applied" : "failed",
    gates,
    detail: ok ? null : (applied.stderr || applied.stdout).trim().split("\n").slice(-3).join(" "),
  });
  if (!ok) throw failure("terraform apply", applied, `${s.source}/live (${tier.tier})`);
  // A saved plan is spent once applied (terraform would call it stale anyway).
  await rm(planFile, { force: true });
  await rm(summaryFile, { force: true });
  say(`applied ${summary.plan_digest.slice(0, 19)}; recorded ${record}`);
  return { summary, gates, record };
}
