/**
 * The deploy's infrastructure step, for a tier whose config says `infra.apply: with-deploy`:
 * after the migration Job and before anything of the application rolls out, apply the tier's
 * saved plan with engines/host/infra.ts's applyInfra — the same plan-from-this-commit check,
 * approvals gate, protected-resource refusal and releases/infra/ record as `tiers infra apply`.
 * This is the design's order: build → database migrations → infrastructure → application →
 * smoke. A tier on `separate` (the default) keeps its own infra job and this step does nothing.
 * A deploy with no saved plan leaves the infrastructure as it is and says so.
 *
 * A failed or refused apply stops the deploy with an error that says what this deploy had
 * already changed (the migrations, and whether terraform itself ran), and nothing rolls out.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { EnvironmentModel } from "../../core/environment/model.ts";
import type { Tier } from "../../core/environment/schema.ts";
import { firstLine, TiersError } from "../../core/errors.ts";
import {
  appliedWithDeploy,
  describeSummary,
  summaryPath,
  summarySchema,
} from "../../core/infra/plan.ts";
import type { Reporter } from "../../core/log.ts";
import type { DeployStep } from "./deploy-result.ts";
import {
  applyInfra,
  type InfraOptions,
  type InfraRunner,
  infraEnv,
  infraHostRunner,
  parseJson,
} from "./infra.ts";

/**
 * How a deploy reaches terraform: this machine's (optionally a given runner, environment and
 * terraform/ dir, as tests inject them), or `unavailable` with the reason when the engine
 * running the deploy cannot apply a saved plan (the Dagger deploy receives none).
 */
export type DeployInfra =
  | Pick<InfraOptions, "run" | "env" | "terraformDir" | "now">
  | { unavailable: string };

export interface InfraStepInput {
  root: string;
  model: EnvironmentModel;
  tier: Tier;
  reporter: Reporter;
  /** Steps this deploy already ran (the migration Job's), for the failure message. */
  before: readonly DeployStep[];
  infra?: DeployInfra | undefined;
}

export interface InfraStepOutcome {
  /** The step for the deploy record; none when the tier's infra is applied separately. */
  steps: DeployStep[];
  /** Set when the deploy must stop before the rollout. */
  failure?: TiersError;
}

const stepName = "infra apply";

/** The saved plan's summary text, or undefined when none was saved. */
async function savedSummary(root: string, tier: string): Promise<string | undefined> {
  return readFile(join(root, summaryPath(tier)), "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new TiersError(`cannot read the saved plan summary: ${error.message}`, {
      where: summaryPath(tier),
    });
  });
}

/** What the deploy would do about infrastructure, for a dry run's plan lines. */
export async function describeInfraStep(input: Omit<InfraStepInput, "before">): Promise<string[]> {
  const { tier } = input;
  if (!appliedWithDeploy(tier.infra)) return [];
  if (input.infra && "unavailable" in input.infra)
    return [`infra: refuses, ${input.infra.unavailable}`];
  const text = await savedSummary(input.root, tier.tier);
  if (text === undefined) return ["infra: no saved plan, infrastructure left as it is"];
  const parsed = summarySchema.safeParse(parseJson(text));
  // A real deploy refuses it (applyInfra); the dry run says so instead of planning past it.
  if (!parsed.success)
    return [`infra: refuses, the saved plan summary ${summaryPath(tier.tier)} is malformed`];
  return [
    `infra: applies the saved plan ${parsed.data.plan_digest.slice(0, 19)} after the migrations`,
    ...describeSummary(parsed.data).map((line) => `infra: ${line}`),
  ];
}

/** Runs the step; never throws for a refused or failed apply (see `failure`). */
export async function applyInfraInDeploy(input: InfraStepInput): Promise<InfraStepOutcome> {
  const { tier } = input;
  if (!appliedWithDeploy(tier.infra)) return { steps: [] };
  const stop = (detail: string, cause: TiersError, terraformRan: string): InfraStepOutcome => ({
    steps: [{ name: stepName, outcome: "failed", detail }],
    failure: new TiersError(
      `infrastructure apply failed, so nothing of the application rolled out: ${firstLine(cause)}. Already done by this deploy: ${alreadyDone(input.before)}; ${terraformRan}. No Deployment or Service was changed.`,
      { where: `tier ${tier.tier}`, ...(cause.hint ? { hint: cause.hint } : {}), cause },
    ),
  });
  if (input.infra && "unavailable" in input.infra) {
    const why = new TiersError(
      `this engine cannot apply infrastructure: ${input.infra.unavailable}`,
      {
        hint: `apply it with its own job (\`tiers infra apply --env ${tier.tier}\`) and set infra.apply: separate, or deploy from a host`,
      },
    );
    return stop("unavailable", why, "terraform did not run");
  }
  let text: string | undefined;
  try {
    text = await savedSummary(input.root, tier.tier);
  } catch (error) {
    return stop("unreadable plan", error as TiersError, "terraform did not run");
  }
  if (text === undefined) {
    input.reporter.info(
      tier.tier,
      `infra: no saved plan (${summaryPath(tier.tier)}): infrastructure left as it is`,
      tier.marker,
    );
    return { steps: [{ name: stepName, outcome: "skipped", detail: "no saved plan" }] };
  }

  // Watch for terraform's own `apply`: refused before it, nothing changed; failed in it, some may.
  const given = input.infra ?? {};
  const env = given.env ?? process.env;
  const inner: InfraRunner = given.run ?? infraHostRunner(input.root, infraEnv(env));
  let applyExit: number | undefined;
  const run: InfraRunner = async (invocation) => {
    const result = await inner(invocation);
    if (invocation.args[0] === "apply") applyExit = result.exitCode;
    return result;
  };
  try {
    const applied = await applyInfra({
      root: input.root,
      tier: tier.tier,
      model: input.model,
      reporter: input.reporter,
      env,
      run,
      ...(given.terraformDir ? { terraformDir: given.terraformDir } : {}),
      ...(given.now ? { now: given.now } : {}),
    });
    return {
      steps: [
        {
          name: stepName,
          outcome: "ok",
          detail: `${applied.summary.plan_digest.slice(0, 19)} applied, recorded ${applied.record}`,
        },
      ],
    };
  } catch (error) {
    if (!(error instanceof TiersError)) throw error;
    const records = `releases/infra/${tier.tier}/`;
    const ran =
      applyExit === undefined
        ? "terraform applied nothing (it stopped before `terraform apply`)"
        : `terraform apply exited ${applyExit} part-way: what it reached is in the tier's Terraform state, and the attempt is recorded under ${records}`;
    return stop(applyExit === undefined ? "refused" : "terraform apply failed", error, ran);
  }
}

function alreadyDone(steps: readonly DeployStep[]): string {
  const done = steps.filter((s) => s.outcome === "ok").map((s) => s.name);
  return done.length ? done.join(", ") : "nothing (no migration Job ran)";
}
