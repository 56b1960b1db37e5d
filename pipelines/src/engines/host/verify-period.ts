/**
 * The verification period after a deploy (`deploy.verify: { for, every }`, issue 16): the tier's
 * smoke and health checks run again every `every` until `for` has passed, on an injected clock
 * and sleep (tests never wait; the schema bounds the period). When it passes, the deployed pins
 * are recorded in git as verified (releases/verifications/<tier>/…): the tier's last verified
 * release. When a check fails, the tier goes back to that release — the overlay and a rollback
 * history record naming the check and the minute, written by the rollback machinery
 * (promotion/rollback.ts, writeRollback), then deployed — or, with no verified release on
 * record, to the tier's own automatic rollback (`deploy.rollback`), and says which.
 */
import type { Tier } from "../../core/environment/index.ts";
import type { EnvironmentModel } from "../../core/environment/model.ts";
import { firstLine, TiersError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import type { DeployPlan, SmokeCheck } from "../../core/manifests/index.ts";
import { overlayPath } from "../../core/promotion/overlay.ts";
import {
  rejectionPath,
  rejectionSchema,
  renderRecord,
  type VerificationRecord,
  verificationDir,
  verificationPath,
  verificationSchema,
} from "../../core/promotion/records.ts";
import { rollbackChanges } from "../../core/promotion/rollback.ts";
import { serviceOfRepository } from "../../core/promotion/services.ts";
import {
  describePeriod,
  describePins,
  type LastVerified,
  lastVerified,
  periodMinute,
  periodSchedule,
  type VerificationVerdict,
  verificationVerdict,
  verifiedPins,
} from "../../core/promotion/verification.ts";
import { overlayPins, readOverlay } from "./deploy-verify.ts";
import { PromotionRepo, whoAmI } from "./history.ts";
import { RestoredByVerification } from "./promotion/deploy-step.ts";
import { locked, requireCleanOverlay } from "./promotion/lock.ts";
import { writeRollback } from "./promotion/rollback.ts";
import { type RecordReader, readRecord } from "./promotion/sources.ts";
import { tierHistory } from "./promotion/time-facts.ts";

/** How a deploy treats the tier's verification period. */
export interface PeriodOptions {
  /** Run no period (a restore of verified pins is deployed without one: they were verified). */
  skip?: boolean;
  /**
   * The caller already holds the promotion lock (promote and rollback deploy under it), so the
   * records are written without taking it again.
   */
  lockHeld?: boolean;
  /** Environment for git (actor, config); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What the period did, kept on the DeployResult. */
export type PeriodOutcome =
  | { outcome: "verified"; record: string; checksRun: number }
  | {
      outcome: "failed";
      check: string;
      minute: number;
      at: string;
      /** The commit that restored the last verified pins, when there was one to restore. */
      restoredBy?: string;
      /** Why the pins were not restored from a verification record, when they were not. */
      notRestored?: string;
      /** The tier's own cluster rollback ran instead and undid the deploy. */
      undoneInCluster?: boolean;
    };

/** What deployTier hands the hook: its plan, checks and the cluster-side rollback it has. */
export interface PeriodContext {
  root: string;
  model: EnvironmentModel;
  tier: Tier;
  plan: DeployPlan;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  reporter: Reporter;
  options: PeriodOptions;
  /** Runs the checks once (with their own retries); the first that never passed, else undefined. */
  check: (checks: readonly SmokeCheck[]) => Promise<string | undefined>;
  /** The tier's own automatic rollback (rollout undo, switch back), when deploy.rollback has it. */
  rollbackInCluster: (why: string) => Promise<boolean>;
  /** Deploys the working tree's overlay again, without a period. */
  redeploy: () => Promise<unknown>;
}

/** The checks a period runs: each service through the Service that now takes live traffic. */
export function periodChecks(plan: DeployPlan): SmokeCheck[] {
  const previews = new Set(plan.switches.map((s) => s.previewService));
  return [...plan.smoke.filter((c) => !previews.has(c.via)), ...plan.smokeAfterSwitch];
}

/** A check that failed during the period, thrown after the rollback it caused. */
export class VerificationFailed extends TiersError {
  readonly period: Extract<PeriodOutcome, { outcome: "failed" }>;
  constructor(
    message: string,
    period: Extract<PeriodOutcome, { outcome: "failed" }>,
    where: string,
    hint: string,
  ) {
    super(message, { where, hint });
    this.period = period;
  }
}

/**
 * For a deployer inside promote or rollback: a deploy whose period already restored the last
 * verified pins becomes RestoredByVerification, so the caller does not roll back a second time.
 */
export function restoredByPeriod(error: unknown): never {
  const period = error instanceof TiersError ? periodOf(error) : undefined;
  if (period?.outcome === "failed" && period.restoredBy) {
    throw new RestoredByVerification(error as TiersError, period.restoredBy);
  }
  throw error;
}

function periodOf(error: TiersError): PeriodOutcome | undefined {
  const result = (error as { result?: { verification?: PeriodOutcome } }).result;
  return result?.verification;
}

/** Every verification record of a tier at HEAD, each as present or invalid (fail closed). */
export async function readLastVerified(records: RecordReader, tier: string): Promise<LastVerified> {
  const reads = [];
  try {
    for (const file of await records.files(verificationDir(tier))) {
      if (file.endsWith(".yaml")) reads.push(await readRecord(records, verificationSchema, file));
    }
  } catch (error) {
    return { state: "invalid", file: verificationDir(tier), why: firstLine(error) };
  }
  return lastVerified(reads);
}

/**
 * What `plan` and `status` say about a tier's verification: for a tier with deploy.verify, the
 * verdict (last verified, period running or failed); for one without, the last verified release
 * when a record exists (else undefined). Unreadable records fail the verdict, naming the file.
 */
export async function tierVerification(
  records: RecordReader,
  name: string,
  tier: Tier,
  /** Read only when a period may still run (verificationVerdict). */
  now: () => Date,
): Promise<VerificationVerdict | undefined> {
  const last = await readLastVerified(records, name);
  const verify = tier.deploy.verify;
  if (!verify) {
    if (last.state === "absent") return undefined;
    return verificationVerdict({ verify: undefined, last, history: [], now });
  }
  const history = await tierHistory(records, name);
  if (!history.ok) {
    return { ok: false, why: `the history of ${name} cannot be read: ${history.why}` };
  }
  return verificationVerdict({ verify, last, history: history.value, now });
}

/**
 * Runs the tier's verification period after a successful deploy; returns undefined when the
 * tier has none (or `skip`). Throws VerificationFailed after rolling back when a check fails.
 */
export async function runVerificationPeriod(
  ctx: PeriodContext,
): Promise<PeriodOutcome | undefined> {
  const verify = ctx.tier.deploy.verify;
  if (!verify || ctx.options.skip) return undefined;
  const name = ctx.tier.tier;
  const say = (text: string) => ctx.reporter.info(name, text, ctx.tier.marker);
  const repo = new PromotionRepo(ctx.root, ctx.options.env ?? process.env);
  // What was deployed, read before the wait: the commit and the overlay's pins.
  const commit = await repo.head();
  const pins = overlayPins(ctx.model, name, await readOverlay(ctx.root, name)).map((p) => ({
    service: p.service,
    image: p.image,
    digest: p.digest ?? "",
  }));
  const checks = periodChecks(ctx.plan);
  const schedule = periodSchedule(verify);
  const started = ctx.now();
  say(
    `verification period: ${checks.length} check(s) every ${verify.every} for ${verify.for} (${schedule.length} runs)`,
  );
  let runs = 0;
  for (const offset of schedule) {
    const wait = started.getTime() + offset - ctx.now().getTime();
    if (wait > 0) await ctx.sleep(wait);
    const failure = await ctx.check(checks);
    runs++;
    if (failure) {
      const at = ctx.now();
      const minute = periodMinute(started.getTime(), at.getTime());
      return failed(ctx, repo, {
        check: failure,
        minute,
        at,
        runs,
        period: describePeriod(verify),
      });
    }
  }
  const ended = ctx.now();
  const record: VerificationRecord = {
    kind: "verification",
    tier: name,
    commit,
    pins,
    period: { for: verify.for, every: verify.every },
    started_at: started.toISOString(),
    ended_at: ended.toISOString(),
    checks_run: runs,
    checks: checks.map(checkLabel),
    recorded_by: await whoAmI(repo, ctx.options.env ?? process.env),
  };
  const path = verificationPath(name, ended, commit);
  // Never commit a record that would read back as malformed (a pin without a digest, say).
  const parsed = verificationSchema.safeParse(record);
  if (!parsed.success) {
    throw new TiersError(
      `the verification period of ${name} passed, but its record would be malformed (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}); nothing was recorded`,
      { where: path, hint: "pin every service of the overlay by digest, then deploy again" },
    );
  }
  await underLock(repo, ctx.options, `verify ${name}`, async () => {
    await repo.commit({
      expectedHead: await repo.head(),
      writes: [{ path, content: renderRecord(record, `${name} verified over ${verify.for}`) }],
      message: `verify ${name}: ${describePins(record)} held for ${verify.for}\n\n${runs} run(s) of ${checks.length} check(s) every ${verify.every}, ${record.started_at} to ${record.ended_at}.\nDeployed commit: ${commit}\nRecorded-by: ${record.recorded_by}`,
    });
  });
  say(`✓ verified: ${describePins(record)} held for ${verify.for} (${path})`);
  return { outcome: "verified", record: path, checksRun: runs };
}

function checkLabel(check: SmokeCheck): string {
  return `${check.service} ${check.probe} GET ${check.path} via ${check.via}`;
}

async function underLock<T>(
  repo: PromotionRepo,
  options: PeriodOptions,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  return options.lockHeld ? work() : locked(repo, what, work);
}

/** A check failed: restore the last verified release, else the tier's own rollback. */
async function failed(
  ctx: PeriodContext,
  repo: PromotionRepo,
  failure: { check: string; minute: number; at: Date; runs: number; period: string },
): Promise<never> {
  const name = ctx.tier.tier;
  const period: Extract<PeriodOutcome, { outcome: "failed" }> = {
    outcome: "failed",
    check: failure.check,
    minute: failure.minute,
    at: failure.at.toISOString(),
  };
  const failedText = `verification period failed in minute ${failure.minute} of ${failure.period}: ${failure.check}`;
  ctx.reporter.error(name, `✗ ${failedText}`, ctx.tier.marker);
  const restore = await underLock(repo, ctx.options, `restore ${name}`, () =>
    restoreVerified(ctx, repo, failure, failedText),
  );
  if ("commit" in restore) {
    period.restoredBy = restore.commit;
    ctx.reporter.warn(
      name,
      `restored the last verified release (${restore.pins}) by commit ${restore.commit.slice(0, 12)}; deploying it`,
      ctx.tier.marker,
    );
    try {
      await ctx.redeploy();
    } catch (error) {
      throw new VerificationFailed(
        `${failedText}; the last verified release (${restore.pins}) was restored by commit ${restore.commit.slice(0, 12)} but its deploy failed: ${firstLine(error)}`,
        period,
        overlayPath(name),
        `deploy it again with \`tiers deploy --env ${name}\` once the cluster answers`,
      );
    }
    throw new VerificationFailed(
      `${failedText}; rolled back to the last verified release (${restore.pins}, ${restore.file}) by commit ${restore.commit.slice(0, 12)} and deployed it`,
      period,
      overlayPath(name),
      "inspect the failed release's pods and logs; the rollback record names the check",
    );
  }
  period.notRestored = restore.why;
  const plan = ctx.plan;
  const fallback = plan.rollbackOnSmoke
    ? `falling back to the tier's automatic rollback (deploy.rollback: ${plan.switches.length ? "switch back to the kept colour and " : ""}rollout undo)`
    : "and the tier's deploy.rollback does not roll back on smoke: nothing was undone";
  ctx.reporter.warn(name, `${restore.why}; ${fallback}`, ctx.tier.marker);
  const undone = plan.rollbackOnSmoke ? await ctx.rollbackInCluster(failedText) : false;
  period.undoneInCluster = undone;
  throw new VerificationFailed(
    `${failedText}; ${restore.why}; ${plan.rollbackOnSmoke ? (undone ? "rolled back in the cluster by the tier's automatic rollback" : "the tier's automatic rollback was incomplete, see the steps") : "nothing was undone (deploy.rollback does not cover smoke)"}`,
    period,
    restore.where,
    restore.hint,
  );
}

type Restore =
  | { commit: string; pins: string; file: string }
  | { why: string; where: string; hint: string };

/** Writes the overlay back to the last verified pins with a rollback record; or says why not. */
async function restoreVerified(
  ctx: PeriodContext,
  repo: PromotionRepo,
  failure: { check: string; minute: number; at: Date; period: string },
  failedText: string,
): Promise<Restore> {
  const name = ctx.tier.tier;
  const last = await readLastVerified(repo, name);
  if (last.state === "invalid") {
    return {
      why: `refusing to restore from the verification records: ${last.why}`,
      where: last.file,
      hint: "restore the record from git (`git log -p -- <file>`); records are written by tiers only",
    };
  }
  if (last.state === "absent") {
    return {
      why: `no verified release of ${name} on record (${verificationDir(name)} is empty)`,
      where: verificationDir(name),
      hint: "a release becomes verified when a deploy's verification period passes",
    };
  }
  const head = await repo.head();
  try {
    await requireCleanOverlay(repo, name);
  } catch (error) {
    return {
      why: `the last verified release cannot be restored: ${firstLine(error)}`,
      where: overlayPath(name),
      hint: "commit or discard the overlay's change, then `tiers rollback --env <tier>`",
    };
  }
  const current = (await repo.pinsAt(name, head)) ?? [];
  const target = { commit: last.record.commit, pins: verifiedPins(last.record) };
  const changes = rollbackChanges(current, target, (repository) =>
    serviceOfRepository(ctx.model, name, repository),
  );
  if (changes.every((c) => c.from === c.to)) {
    return {
      why: `the failing pins are the last verified release (${last.file}): there is no verified release to go back to`,
      where: last.file,
      hint: "promote a good artefact, or `tiers rollback --env <tier> --to <digest>`",
    };
  }
  for (const c of changes) {
    // The restored digest must not have been rejected since it was verified.
    const rejected = await readRecord(repo, rejectionSchema, rejectionPath(c.to));
    if (rejected.state !== "absent") {
      return {
        why:
          rejected.state === "present"
            ? `the last verified ${c.service} ${c.to} was rejected since (${rejected.value.reason})`
            : `the rejection record of the last verified ${c.service} ${c.to} cannot be read (${rejected.why})`,
        where: rejected.state === "invalid" ? rejected.where : rejected.file,
        hint: "promote a good artefact, or roll back `--to` another digest",
      };
    }
  }
  const commit = await writeRollback(repo, {
    tier: name,
    head,
    changes,
    reason: `automatic: ${failedText}; restored the last verified release (${last.file})`,
    restoredFrom: last.record.commit,
    who: await whoAmI(repo, ctx.options.env ?? process.env),
    now: failure.at,
    failedCheck: {
      check: failure.check,
      at: failure.at.toISOString(),
      minute: failure.minute,
      period: failure.period,
    },
  });
  return { commit, pins: describePins(last.record), file: last.file };
}
