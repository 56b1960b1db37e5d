/**
 * The deploy's database migration step on a cluster: remove the previous release's migration
 * Job, apply this release's with the objects it reads at start, follow it until it completes or
 * fails (bounded by the Job's own activeDeadlineSeconds plus a margin), and on failure report the
 * Job's logs. Which objects form the step is core's decision (core/manifests/migration.ts); this
 * file only runs kubectl through the deploy's injected runner. No Deployment or Service is
 * touched here, and the deploy calls it before it reads or changes anything else.
 */
import { TiersError } from "../../core/errors.ts";
import type { Reporter } from "../../core/log.ts";
import {
  field,
  type KubeObject,
  migrationJobOf,
  migrationPrerequisitesOf,
  renderManifests,
} from "../../core/manifests/index.ts";
import { ToolError } from "../../tools/errors.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import * as kubectl from "../../tools/kubectl.ts";

/** Seconds between two reads of the Job's status. */
export const migrationPollSeconds = 2;
/** Seconds the wait allows beyond the Job's activeDeadlineSeconds (the controller marks it Failed then). */
export const migrationMarginSeconds = 30;
/** activeDeadlineSeconds assumed for a Job that declares none (the policies require one). */
const defaultDeadlineSeconds = 300;

/** What the migration step did: its steps for the deploy record, and the failure if any. */
export interface MigrationOutcome {
  /** The overlay's migration Job (absent: the step was skipped). */
  job?: KubeObject;
  steps: { name: string; outcome: "ok" | "failed" | "skipped"; detail?: string }[];
  /** Set when the deploy must stop here; its message carries the Job's logs. */
  failure?: TiersError;
}

/** What the step needs from the deploy. */
export interface MigrationInput {
  objects: readonly KubeObject[];
  access: kubectl.ClusterAccess;
  run: (invocation: Invocation) => Promise<ToolResult>;
  reporter: Reporter;
  tier: string;
  marker?: string;
  sleep: (ms: number) => Promise<void>;
  /** Clock for the wall-clock bound; injectable with `sleep`. */
  now?: () => number;
}

/** Runs the overlay's migration Job, if it has one. Never throws for a cluster failure. */
export async function runMigrationJob(input: MigrationInput): Promise<MigrationOutcome> {
  const { objects, access, run, reporter, tier } = input;
  const job = migrationJobOf(objects);
  if (!job) {
    return {
      steps: [
        { name: "migrations", outcome: "skipped", detail: "the overlay has no migration Job" },
      ],
    };
  }
  const steps: MigrationOutcome["steps"] = [];
  const stepName = `migrations job/${job.metadata.name}`;
  const namespace = job.metadata.namespace ?? "default";
  const deadline = Number(field(job, "spec.activeDeadlineSeconds") ?? defaultDeadlineSeconds);
  const limitSeconds = deadline + migrationMarginSeconds;
  const target = { ...access, namespace, job: job.metadata.name };
  const fail = (detail: string, hint: string, cause?: ToolError): MigrationOutcome => {
    steps.push({ name: stepName, outcome: "failed", detail: detail.split("\n")[0] });
    reporter.error(tier, `✗ migrations: ${detail.split("\n")[0]}`, input.marker);
    const failure = new TiersError(
      `database migrations failed: ${detail}; no Deployment was changed`,
      { where: `job/${job.metadata.name}`, hint, ...(cause ? { cause } : {}) },
    );
    return { job, steps, failure };
  };
  const logs = async (): Promise<string> => {
    const r = await run(kubectl.jobLogs(target));
    return (r.exitCode === 0 ? r.stdout : `logs unavailable: ${r.stderr}`).trim();
  };

  // A Job's pod template is immutable: the previous release's Job goes first.
  const deleteCall = kubectl.deleteJob({ ...target, timeoutSeconds: 60 });
  const removed = await run(deleteCall);
  if (removed.exitCode !== 0) {
    const error = kubectl.kubectlError(deleteCall, removed);
    return fail(
      `could not remove the previous Job (${error.kind})`,
      error.hint ?? "check access to the namespace",
      error,
    );
  }
  const applyCall = kubectl.apply({
    ...access,
    manifests: renderManifests([...migrationPrerequisitesOf(objects), job]),
  });
  const applied = await run(applyCall);
  if (applied.exitCode !== 0) {
    const error = kubectl.kubectlError(applyCall, applied);
    return fail(
      `the migration Job could not be applied (${error.kind})`,
      error.hint ?? "see kubectl's message",
      error,
    );
  }

  // Follow the Job until Complete or Failed, whichever comes first: a failing migration stops
  // the deploy as soon as the controller says so, not when a wait for "complete" times out.
  const state = await reporter.step(tier, stepName, () => follow(input, target, limitSeconds));
  if (state.state === "complete") {
    steps.push({ name: stepName, outcome: "ok" });
    return { job, steps };
  }
  const hint = "fix the migration (migrations are forward-only) and deploy again";
  const text = await logs();
  if (state.state === "failed") {
    const why = [state.reason, state.message].filter(Boolean).join(": ");
    return fail(`job/${job.metadata.name} failed (${why})\n--- job logs ---\n${text}`, hint);
  }
  if (state.state === "error") {
    return fail(
      `could not read job/${job.metadata.name} (${state.error.kind})\n--- job logs ---\n${text}`,
      state.error.hint ?? hint,
      state.error,
    );
  }
  return fail(
    `job/${job.metadata.name} did not finish within ${limitSeconds}s\n--- job logs ---\n${text}`,
    hint,
  );
}

type Followed = kubectl.JobState | { state: "timeout" } | { state: "error"; error: ToolError };

/** Reads the Job's status every migrationPollSeconds until it finishes or the limit passes. */
async function follow(
  input: MigrationInput,
  target: kubectl.JobOptions,
  limitSeconds: number,
): Promise<Followed> {
  const now = input.now ?? Date.now;
  const started = now();
  const call = kubectl.getJob(target);
  // Two bounds: the wall clock, and a number of reads (so an injected sleep cannot spin forever).
  const reads = Math.ceil(limitSeconds / migrationPollSeconds) + 1;
  for (let read = 1; read <= reads; read++) {
    const r = await input.run(call);
    if (r.exitCode !== 0) return { state: "error", error: kubectl.kubectlError(call, r) };
    let state: kubectl.JobState;
    try {
      state = kubectl.parseJobState(r.stdout);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { state: "error", error: new ToolError(call, { kind: "failed", message }) };
    }
    if (state.state !== "running") return state;
    if (now() - started >= limitSeconds * 1000 || read === reads) break;
    await input.sleep(migrationPollSeconds * 1000);
  }
  return { state: "timeout" };
}
