/**
 * plan, promote, rollback and record-tests under Dagger: the `tiers` CLI itself on a fresh
 * clone of the remote, in the toolbox of toolbox.ts. What the module adds is how the inputs
 * arrive: the remote from the settings or the checkout's git config (remote.ts), credentials
 * bound under the names the host engine reads, and — for `--commit` — the artefact record
 * rebuilt from what the registry serves for that commit.
 */
import type { Container, File, Secret } from "@dagger.io/dagger";
import { artefactDir, fullCommit, serializeArtefactRecord } from "../../core/artefact.ts";
import { TiersError, UsageError } from "../../core/errors.ts";
import { digestFileName, isDigest } from "../../core/promotion/refs.ts";
import { scanFormats } from "../../core/promotion/security.ts";
import {
  renderTestRunReport,
  type TestRunReport,
  testRunReportPath,
  testRunReportsDir,
} from "../../core/promotion/test-run.ts";
import { publishedImages } from "./release.ts";
import { freshRunId } from "./run.ts";
import type { StageInputs } from "./stage-inputs.ts";
import { pushBranch, runCli, toolbox } from "./toolbox.ts";

export interface PromotionOptions {
  /** A published commit whose images the CLI plans or promotes (need not be HEAD). */
  commit?: string | undefined;
  kubeconfig?: Secret | undefined;
  actor?: string | undefined;
  ciEnvironment?: string | undefined;
  oidcToken?: Secret | undefined;
  cosignKey?: Secret | undefined;
  cosignPassword?: Secret | undefined;
  /** Extra files to place in the clone before the CLI runs. */
  files?: Readonly<Record<string, string>>;
  /** Dagger files to place in the clone, by path. */
  uploads?: Readonly<Record<string, File>>;
  push?: boolean;
}

export interface PromotionStep {
  cli: Container;
  push?: Container;
}

/** The output formats of `plan --format`. */
export const planFormats = ["text", "json"] as const;

/** The CLI flags of `tiers plan` for a `--format`, or a usage error listing the valid ones. */
export function planFormatFlags(format: string): string[] {
  if (!(planFormats as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be ${planFormats.join(" or ")}, got "${format}"`);
  }
  return format === "json" ? ["--json"] : [];
}

/** The CLI flags that choose what a plan or promotion is about. */
export function selection(choice: {
  commit?: string | undefined;
  digest?: string | undefined;
  service?: string | undefined;
}): string[] {
  return [
    ...(choice.commit ? ["--commit", fullCommit(choice.commit)] : []),
    ...(choice.digest ? ["--digest", choice.digest] : []),
    ...(choice.service ? ["--service", choice.service] : []),
  ];
}

/**
 * The variables the host engine reads for approvals.source: ci-environment (core/promotion/ci.ts),
 * as a CI runner sets them, for a job that runs in that protected environment.
 */
export function ciEnvironmentVariables(ciEnvironment: string): Record<string, string> {
  return { GITHUB_ACTIONS: "true", GITHUB_ENVIRONMENT: ciEnvironment };
}

/** The toolbox running `tiers <args>` on a fresh clone, every credential bound. Lazy. */
export async function promotionStep(
  pipeline: StageInputs,
  args: readonly string[],
  options: PromotionOptions,
): Promise<PromotionStep> {
  const { settings } = pipeline;
  const context = await pipeline.context();
  const registryLogin = await pipeline.registryLogin(context.registry);
  const files: Record<string, string> = { ...options.files };
  if (options.commit) {
    // `--commit` reads the artefact record; CI publishes in another job, so it is rebuilt
    // here from what the registry serves for the commit (the same facts publish recorded).
    const commit = fullCommit(options.commit);
    const images = await publishedImages(pipeline, context, commit, {
      source: pipeline.source,
      secrets: {},
      runId: freshRunId(),
      ...(registryLogin ? { registryAuth: registryLogin } : {}),
    });
    files[`.tiers/artefacts/${commit}.json`] = serializeArtefactRecord({
      commit,
      created: new Date().toISOString(),
      registry: context.registry,
      images,
    });
  }
  const secretEnv: Record<string, Secret> = {};
  const env: Record<string, string> = {};
  if (options.oidcToken) secretEnv.SIGSTORE_ID_TOKEN = options.oidcToken;
  if (options.cosignPassword) secretEnv.COSIGN_PASSWORD = options.cosignPassword;
  if (options.cosignKey) {
    secretEnv.COSIGN_PRIVATE_KEY = options.cosignKey;
    env.TIERS_COSIGN_KEY = "env://COSIGN_PRIVATE_KEY";
  }
  if (options.actor) env.TIERS_ACTOR = options.actor;
  if (settings.registry) env.TIERS_REGISTRY = settings.registry;
  if (options.ciEnvironment) Object.assign(env, ciEnvironmentVariables(options.ciEnvironment));
  const box = runCli(
    toolbox({
      nodeImage: context.baseImage,
      remote: await pipeline.remote(),
      branch: settings.branch,
      ...(settings.gitToken
        ? { gitAuth: await pipeline.gitCredentials(settings.gitUsername, settings.gitToken) }
        : {}),
      ...(registryLogin ? { registryAuth: registryLogin } : {}),
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      secretEnv,
      env,
      files,
      ...(options.uploads ? { uploads: options.uploads } : {}),
      runId: freshRunId(),
    }),
    args,
  );
  return options.push ? { cli: box, push: pushBranch(box, settings.branch) } : { cli: box };
}

/**
 * Runs the CLI step and, when it succeeded, the push. A failure keeps the CLI's whole output
 * (the plan with every gate and why) in the error, and pushes nothing.
 */
export async function concludeStep(step: PromotionStep, command: string): Promise<string> {
  const [exitCode, stdout, stderr] = await Promise.all([
    step.cli.exitCode(),
    step.cli.stdout(),
    step.cli.stderr(),
  ]);
  if (exitCode !== 0) {
    throw new TiersError(
      `tiers ${command} failed (exit ${exitCode})\n${[stdout.trimEnd(), stderr.trimEnd()].filter(Boolean).join("\n")}`,
      { hint: "the output above is the promotion engine's own; nothing was pushed" },
    );
  }
  if (step.push) await step.push.sync();
  return stdout;
}

/**
 * The test tier's local report (core/promotion/test-run.ts: the shape `tiers env test run`
 * writes and `tiers record-tests` parses), for a run in which every suite passed: a failed
 * suite stops before this.
 */
export function testReport(
  commit: string,
  services: readonly string[],
  performance?: TestRunReport["performance"],
): { path: string; text: string } {
  const id = `dagger-${commit.slice(0, 12)}`;
  const report: TestRunReport = {
    id,
    commit,
    outcome: "passed",
    services: services.map((service) => ({ service, outcome: "passed" })),
    ...(performance ? { performance } : {}),
  };
  return { path: testRunReportPath(id), text: renderTestRunReport(report) };
}

/**
 * The CLI step that records a Dagger publish's SBOM and provenance (`tiers record-evidence`,
 * the host publish's own evidence code) on a fresh clone: the artefact record the publish
 * returned is placed where the command reads it, with the builds' start and end.
 */
export function evidenceStep(
  record: { commit: string; text: string },
  times: { startedOn: string; finishedOn: string },
): { args: string[]; files: Record<string, string> } {
  const args = ["record-evidence", "--commit", record.commit, "--engine", "dagger"];
  const path = `${artefactDir}/${record.commit}.json`;
  return {
    args: [...args, "--started-on", times.startedOn, "--finished-on", times.finishedOn],
    files: { [path]: record.text },
  };
}

/**
 * The CLI step of `recordScan`: the scanner's report, passed to the module as a File, placed
 * in the clone's untracked .tiers/reports/ and recorded by `tiers record-scan` itself. The
 * digest is given, or is `service`'s in the artefact record of `commit` (rebuilt in the clone
 * from what the registry serves, as for `promote --commit`).
 */
export function scanStep(request: {
  digest?: string | undefined;
  commit?: string | undefined;
  service?: string | undefined;
  format: string;
  repository?: string | undefined;
}): { args: string[]; path: string; commit?: string } {
  if (!(scanFormats as readonly string[]).includes(request.format)) {
    throw new UsageError(
      `--format must be one of ${scanFormats.join(", ")}, got "${request.format}"`,
    );
  }
  let subject: string[];
  let name: string;
  let commit: string | undefined;
  if (request.digest) {
    if (request.commit || request.service) {
      throw new UsageError("give --digest, or --commit with --service, not both");
    }
    if (!isDigest(request.digest)) {
      throw new UsageError(`--digest must be sha256:<64 hex>, got "${request.digest}"`);
    }
    subject = ["--digest", request.digest];
    name = digestFileName(request.digest);
  } else {
    if (!request.commit || !request.service) {
      throw new UsageError("record-scan needs --digest, or --commit with --service");
    }
    commit = fullCommit(request.commit);
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(request.service)) {
      throw new UsageError(`--service must be a service name, got "${request.service}"`);
    }
    subject = ["--commit", commit, "--service", request.service];
    name = `${commit}-${request.service}`;
  }
  const path = `${testRunReportsDir}/scan-${name}.${request.format}.json`;
  return {
    args: [
      "record-scan",
      ...subject,
      "--report",
      path,
      "--format",
      request.format,
      ...(request.repository ? ["--repository", request.repository] : []),
    ],
    path,
    ...(commit ? { commit } : {}),
  };
}
