/**
 * Deploy a Kubernetes tier from this machine: render the overlay, check it, run the migration
 * Job, apply the tier's saved infra plan when its config asks (deploy-infra.ts), apply, wait for the rollouts, smoke-check the health endpoints, switch colours
 * (blue-green) and roll back by itself when a check fails. Every decision comes from
 * core/manifests (planDeploy); this file runs the plan's kubectl invocations in order through an
 * injected runner, so the whole flow can be exercised with a fake cluster. Entry point:
 * `deployTier(options)`, which throws a DeployError carrying the DeployResult when the tier
 * does not end up healthy.
 */
import { runtimeEnvironment, tierOf } from "../../core/environment/index.ts";
import type { EnvironmentModel } from "../../core/environment/model.ts";
import type { Tier } from "../../core/environment/schema.ts";
import { firstLine, TiersError } from "../../core/errors.ts";
import { Reporter } from "../../core/log.ts";
import {
  type Colour,
  checkRendered,
  describePlan,
  isUnpromoted,
  type KubeObject,
  liveColourOf,
  ManifestError,
  overlayDir,
  parseManifests,
  planDeploy,
  renderedImages,
  renderManifests,
  type SmokeCheck,
} from "../../core/manifests/index.ts";
import { ToolError } from "../../tools/errors.ts";
import * as kubectl from "../../tools/kubectl.ts";

export {
  DeployError,
  type DeployOutcome,
  type DeployResult,
  type DeployStep,
  type Runner,
} from "./deploy-result.ts";

import { applyInfraInDeploy, type DeployInfra, describeInfraStep } from "./deploy-infra.ts";
import { DeployError, type DeployResult, type DeployStep, type Runner } from "./deploy-result.ts";
import { verifyBeforeDeploy } from "./deploy-verify.ts";
import { runMigrationJob } from "./migration-job.ts";
import { runHost } from "./run.ts";
import type { SecretStore } from "./secrets.ts";
import { type PeriodOptions, runVerificationPeriod, VerificationFailed } from "./verify-period.ts";

/** The default runner: the host runner with `reject: false`, so the deploy reads exit codes. */
export function hostRunner(root: string, secrets?: SecretStore, signal?: AbortSignal): Runner {
  return (invocation) => runHost(invocation, { root, secrets, signal, reject: false });
}

/** Options of a deploy. */
export interface DeployOptions {
  /** Repository root. */
  root: string;
  /** Tier to deploy (its runtime must be kubernetes). */
  tier: string;
  /** The loaded environment model. */
  model: EnvironmentModel;
  /** Where progress lines go. */
  reporter?: Reporter;
  /** Executes invocations; defaults to the host runner. Tests inject a fake cluster here. */
  run?: Runner;
  /** Secrets for the default runner (must define the kubeconfig secret). */
  secrets?: SecretStore;
  /** Logical secret name of the kubeconfig (default `kubeconfig`). */
  kubeconfigSecret?: string;
  /** kubeconfig context (default: the file's current context). */
  context?: string;
  /** Render, check and plan only; no cluster is contacted. */
  dryRun?: boolean;
  /** Waits between smoke attempts; injectable so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
  verify?: import("./deploy-verify.ts").DeployVerifier; // pins' facts (default: git, skopeo, cosign)
  /** terraform for a tier with infra.apply: with-deploy (engines/host/deploy-infra.ts). */
  infra?: DeployInfra;
  /** The verification period after the deploy (deploy.verify): skip it, or say the lock is held. */
  period?: PeriodOptions;
  /** The period's clock; tests set it and advance it in `sleep`. */
  now?: () => Date;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Renders `k8s/overlays/<tier>` with kubectl's built-in kustomize and parses the result. */
export async function renderOverlay(
  run: Runner,
  tier: string,
): Promise<{ text: string; objects: KubeObject[] }> {
  const invocation = kubectl.kustomize(overlayDir(tier));
  const result = await run(invocation);
  if (result.exitCode !== 0) {
    const error = kubectl.kubectlError(invocation, result);
    throw new TiersError(`could not render ${overlayDir(tier)}: ${error.message}`, {
      where: overlayDir(tier),
      hint: "run `kubectl kustomize` on the overlay and fix what it reports",
    });
  }
  return { text: result.stdout, objects: parseManifests(result.stdout, overlayDir(tier)) };
}

/**
 * Deploys one Kubernetes tier. Order: render → check (schema, policies, drift, pins) → run the
 * migration Job (a failure stops here, before anything is read or applied) → apply the saved
 * infra plan when the tier's infra.apply is with-deploy (a failure stops here too) → read the live
 * colours → apply → rollout status → smoke → switch → smoke again. Any failure after the
 * apply triggers the tier's automatic rollback (if its config turns it on) before the error.
 */
export async function deployTier(options: DeployOptions): Promise<DeployResult> {
  const reporter = options.reporter ?? new Reporter();
  const run = options.run ?? hostRunner(options.root, options.secrets);
  const sleep = options.sleep ?? sleepFor;
  const tier = tierOf(options.model, options.tier);
  if (tier.runtime !== "kubernetes") {
    throw new TiersError(
      `tier ${tier.tier} runs on ${tier.runtime}, not Kubernetes: nothing to deploy with kubectl`,
      {
        where: `environments/${tier.tier}.yaml`,
        hint: tier.runtime === "compose" ? "use `tiers env dev up`" : "use `tiers env test run`",
      },
    );
  }
  const access: kubectl.ClusterAccess = {
    kubeconfigSecret: options.kubeconfigSecret ?? kubectl.defaultKubeconfigSecret,
    ...(options.context ? { context: options.context } : {}),
  };
  const name = tier.tier;
  const say = (text: string) => reporter.info(name, text, tier.marker);

  // 1. Render and check: nothing reaches a cluster unless the overlay is right.
  const { objects } = await reporter.step(name, `render ${overlayDir(name)}`, () =>
    renderOverlay(run, name),
  );
  const findings = checkRendered(objects, tier, {
    runtimeEnvironment: runtimeEnvironment(options.model, name),
  });
  const images = renderedImages(objects);
  const unpromoted = images.filter((i) => isUnpromoted(i.digest));
  await verifyBeforeDeploy(options, say); // every pin must hold first, dry run included
  if (options.dryRun) {
    // No cluster: plan as a first deploy, with the colours the overlay renders.
    const plan = planDeploy(objects, tier);
    const result: DeployResult = {
      tier: name,
      outcome: "dry-run",
      plan,
      manifests: renderManifests(plan.apply),
      images: [...new Set(images.map((i) => i.image))],
      steps: [],
      liveColours: {},
      findings,
    };
    for (const line of describePlan(plan)) say(`plan: ${line}`);
    const infraLines = await describeInfraStep({ ...infraInput(options, tier, reporter) });
    for (const line of infraLines) say(`plan: ${line}`);
    if (unpromoted.length) {
      reporter.warn(
        name,
        `nothing promoted to ${name} yet (${[...new Set(unpromoted.map((i) => i.container))].join(", ")} pinned to the placeholder digest): a real deploy refuses`,
        tier.marker,
      );
    }
    return result;
  }

  if (findings.length) throw new ManifestError(overlayDir(name), findings);
  if (unpromoted.length) {
    throw new TiersError(
      `nothing has been promoted to ${name} yet: ${unpromoted.map((i) => `${i.object} (${i.container})`).join(", ")} still pinned to the placeholder digest`,
      {
        where: `${overlayDir(name)}/kustomization.yaml`,
        hint: `run \`tiers promote --env ${name}\` first`,
      },
    );
  }

  // 2. Database migrations, before anything else is read or changes (engines/host/migration-job.ts).
  const migration = await runMigrationJob({
    objects,
    access,
    run,
    reporter,
    sleep,
    tier: name,
    marker: tier.marker,
  });
  const rollout = objects.filter((o) => o !== migration.job);
  /** Stops before anything of the application is read or changed. */
  const stopBeforeRollout = (failure: TiersError, steps: DeployStep[]) =>
    new DeployError(
      failure.message,
      {
        tier: name,
        outcome: "failed",
        plan: planDeploy(rollout, tier),
        manifests: "",
        images: [...new Set(images.map((i) => i.image))],
        steps,
        liveColours: {},
        findings: [],
      },
      failure.hint,
      failure.cause ?? failure,
    );
  if (migration.failure) throw stopBeforeRollout(migration.failure, migration.steps);

  // 2b. Infrastructure changes, when the tier applies them with the deploy (deploy-infra.ts).
  const infra = await applyInfraInDeploy({
    ...infraInput(options, tier, reporter),
    before: migration.steps,
  });
  const before = [...migration.steps, ...infra.steps];
  if (infra.failure) throw stopBeforeRollout(infra.failure, before);

  // 3. Which colour is live now (blue-green only): read from the cluster, never from git.
  const live: Record<string, Colour | undefined> = {};
  const firstPlan = planDeploy(rollout, tier);
  for (const sw of firstPlan.switches) {
    const service = Object.keys(tier.services).find(
      (s) => `${tier.project}-${name}-${s}` === sw.resource,
    )!;
    const invocation = kubectl.getService({
      ...access,
      namespace: firstPlan.namespace,
      name: sw.liveService,
    });
    const result = await run(invocation);
    if (result.exitCode === 0) {
      live[service] = liveColourOf(kubectl.parseService(result.stdout).selector);
    } else {
      const error = kubectl.kubectlError(invocation, result);
      if (error.kind !== "not-found") throw error;
      live[service] = undefined;
    }
  }
  const plan = planDeploy(rollout, tier, live);
  const manifests = renderManifests(plan.apply);
  const result: DeployResult = {
    tier: name,
    outcome: "failed",
    plan,
    manifests,
    images: [...new Set(images.map((i) => i.image))],
    steps: before,
    liveColours: Object.fromEntries(
      Object.entries(live).filter((e): e is [string, Colour] => e[1] !== undefined),
    ),
    findings: [],
  };
  const record = (step: DeployStep) => result.steps.push(step);
  for (const line of describePlan(plan)) say(line);

  // 3. Server-side dry run first: the API server validates and admits every object without
  // persisting any, so a manifest it would reject changes nothing (a real apply is per object
  // and could stop half-way). Objects in a namespace this very apply creates cannot be
  // dry-run; that one case proceeds.
  const dryRunCall = kubectl.apply({ ...access, manifests, dryRun: "server" });
  const dry = await run(dryRunCall);
  if (dry.exitCode !== 0) {
    const error = kubectl.kubectlError(dryRunCall, dry);
    const newNamespace = new RegExp(`namespaces? "${plan.namespace}" not found`).test(dry.stderr);
    if (!newNamespace) {
      record({ name: "server dry run", outcome: "failed", detail: error.kind });
      throw new DeployError(
        `server-side dry run of the manifests failed (${error.kind}); nothing was applied`,
        result,
        error.hint,
        error,
      );
    }
    record({
      name: "server dry run",
      outcome: "skipped",
      detail: `namespace ${plan.namespace} is new`,
    });
  } else {
    record({ name: "server dry run", outcome: "ok" });
  }

  // 4. Apply.
  const applyCall = kubectl.apply({ ...access, manifests });
  const applied = await reporter
    .step(name, `apply ${plan.apply.length} objects`, async () => {
      const r = await run(applyCall);
      if (r.exitCode !== 0) throw kubectl.kubectlError(applyCall, r);
      return kubectl.parseApplyOutput(r.stdout);
    })
    .catch((error: unknown) => {
      record({ name: "apply", outcome: "failed", detail: message(error) });
      throw new DeployError(`apply to ${plan.namespace} failed`, result, hintOf(error), error);
    });
  record({ name: "apply", outcome: "ok", detail: `${applied.length} objects` });

  /** Undoes each Deployment's last rollout; true when every one went back to a revision. */
  const undo = async (why: string, deployments: string[]): Promise<boolean> => {
    let all = true;
    for (const deployment of deployments) {
      const call = kubectl.rolloutUndo({ ...access, namespace: plan.namespace, deployment });
      const r = await run(call);
      if (r.exitCode === 0) {
        record({ name: `rollout undo ${deployment}`, outcome: "ok", detail: why });
        reporter.warn(name, `rolled back deployment/${deployment} (${why})`, tier.marker);
        continue;
      }
      const error = kubectl.kubectlError(call, r);
      all = false;
      record({ name: `rollout undo ${deployment}`, outcome: "failed", detail: error.kind });
      if (error.kind === "no-rollout-history") {
        reporter.warn(
          name,
          `deployment/${deployment} has no earlier revision to roll back to`,
          tier.marker,
        );
      } else {
        reporter.error(
          name,
          `rollback of deployment/${deployment} failed: ${error.kind}`,
          tier.marker,
        );
      }
    }
    return all;
  };
  const updated = plan.rollouts.map((r) => r.deployment);
  let rollbackTried = false;
  /** Message suffix saying what the automatic rollback achieved. */
  const outcomeNote = (done: string) =>
    result.outcome === "rolled-back"
      ? `; ${done}`
      : rollbackTried
        ? "; automatic rollback incomplete, see the steps"
        : "";

  // 5. Rollouts.
  for (const wait of plan.rollouts) {
    const call = kubectl.rolloutStatus({
      ...access,
      namespace: plan.namespace,
      deployment: wait.deployment,
      timeoutSeconds: wait.timeoutSeconds,
    });
    const r = await reporter
      .step(name, `rollout of deployment/${wait.deployment}`, async () => {
        const out = await run(call);
        if (out.exitCode !== 0) throw kubectl.kubectlError(call, out);
        return undefined;
      })
      .catch((error: unknown) =>
        error instanceof ToolError
          ? error
          : new ToolError(call, { kind: "failed", message: message(error) }),
      );
    if (r instanceof ToolError) {
      record({ name: `rollout ${wait.deployment}`, outcome: "failed", detail: r.kind });
      if (plan.rollbackOnHealth) {
        const undone = await undo(`rollout of ${wait.deployment} failed: ${r.kind}`, updated);
        result.outcome = undone ? "rolled-back" : "failed";
        rollbackTried = true;
      }
      throw new DeployError(
        `rollout of deployment/${wait.deployment} failed (${r.kind})${outcomeNote("rolled back")}`,
        result,
        r.hint,
        r,
      );
    }
    record({ name: `rollout ${wait.deployment}`, outcome: "ok" });
  }

  // 6. Smoke checks (through the preview Services before any switch).
  const smokeFailure = await smoke(plan.smoke, plan.namespace, access, run, sleep, reporter, name);
  if (smokeFailure) {
    record({ name: "smoke", outcome: "failed", detail: smokeFailure });
    if (plan.rollbackOnSmoke) {
      const undone = await undo(`smoke check failed: ${smokeFailure}`, updated);
      result.outcome = undone ? "rolled-back" : "failed";
      rollbackTried = true;
    }
    throw new DeployError(
      `smoke check failed: ${smokeFailure}${outcomeNote("rolled back, live traffic never moved")}`,
      result,
      "look at the pods' logs; the live colour (if any) still serves traffic",
    );
  }
  record({ name: "smoke", outcome: "ok", detail: `${plan.smoke.length} checks` });

  // 7. Blue-green: move the live selector, then check through it.
  const switched: typeof plan.switches = [];
  for (const sw of plan.switches) {
    if (!sw.live) {
      record({
        name: `switch ${sw.liveService}`,
        outcome: "skipped",
        detail: `first deploy: serves ${sw.target}`,
      });
      continue;
    }
    const call = kubectl.patchServiceSelector({
      ...access,
      namespace: plan.namespace,
      name: sw.liveService,
      selector: sw.switchTo,
    });
    const r = await run(call);
    if (r.exitCode !== 0) {
      const error = kubectl.kubectlError(call, r);
      record({ name: `switch ${sw.liveService}`, outcome: "failed", detail: error.kind });
      await switchBack(switched);
      throw new DeployError(
        `switching service/${sw.liveService} to ${sw.target} failed (${error.kind})`,
        result,
        error.hint,
        error,
      );
    }
    switched.push(sw);
    record({
      name: `switch ${sw.liveService}`,
      outcome: "ok",
      detail: `${sw.live} -> ${sw.target}`,
    });
    say(
      `service/${sw.liveService} now serves ${sw.target}; ${sw.keptDeployment} kept for switch-back`,
    );
  }
  async function switchBack(done: typeof plan.switches): Promise<boolean> {
    let all = true;
    for (const sw of done) {
      if (!sw.switchBack) continue;
      const call = kubectl.patchServiceSelector({
        ...access,
        namespace: plan.namespace,
        name: sw.liveService,
        selector: sw.switchBack,
      });
      const r = await run(call);
      if (r.exitCode !== 0) all = false;
      record({
        name: `switch back ${sw.liveService}`,
        outcome: r.exitCode === 0 ? "ok" : "failed",
        detail: `${sw.target} -> ${sw.live}`,
      });
    }
    return all;
  }
  if (switched.length) {
    const after = await smoke(
      plan.smokeAfterSwitch,
      plan.namespace,
      access,
      run,
      sleep,
      reporter,
      name,
    );
    if (after) {
      record({ name: "smoke after switch", outcome: "failed", detail: after });
      if (plan.rollbackOnSmoke) {
        // Traffic back on the kept colour is the rollback; the idle colour is undone as well so
        // the next instant switch-back lands on a known-good revision.
        const back = await switchBack(switched);
        await undo(`smoke after switch failed: ${after}`, updated);
        result.outcome = back ? "rolled-back" : "failed";
        rollbackTried = true;
      }
      throw new DeployError(
        `smoke check after the switch failed: ${after}${outcomeNote("traffic switched back")}`,
        result,
        "the previous colour serves traffic again; inspect the new colour's pods",
      );
    }
    record({ name: "smoke after switch", outcome: "ok" });
  }
  for (const sw of plan.switches)
    result.liveColours[serviceOf(sw.resource, tier.project, name)] = sw.target;
  result.outcome = "deployed";
  say(`deployed ${result.images.join(", ")}`);
  // 8. The verification period (deploy.verify), its record and its rollback: verify-period.ts.
  const period = await runVerificationPeriod({
    root: options.root,
    model: options.model,
    tier,
    plan,
    sleep,
    now: options.now ?? (() => new Date()),
    reporter,
    options: options.period ?? {},
    check: (checks) => smoke(checks, plan.namespace, access, run, sleep, reporter, name),
    rollbackInCluster: async (why) => {
      const back = await switchBack(switched);
      return (await undo(why, updated)) && back;
    },
    redeploy: () => deployTier({ ...options, period: { ...options.period, skip: true } }),
  }).catch((error: unknown) => {
    if (error instanceof VerificationFailed) {
      result.verification = error.period;
      const back = error.period.restoredBy || error.period.undoneInCluster;
      result.outcome = back ? "rolled-back" : "failed";
      throw new DeployError(error.message, result, error.hint, error);
    }
    throw error;
  });
  if (period) result.verification = period;
  return result;
}

/** What the infrastructure step needs from the deploy's options. */
function infraInput(options: DeployOptions, tier: Tier, reporter: Reporter) {
  return { root: options.root, model: options.model, tier, reporter, infra: options.infra };
}

function serviceOf(resource: string, project: string, tier: string): string {
  return resource.slice(`${project}-${tier}-`.length);
}

/** Runs the checks in order; returns a description of the first that never passed. */
async function smoke(
  checks: readonly SmokeCheck[],
  namespace: string,
  access: kubectl.ClusterAccess,
  run: Runner,
  sleep: (ms: number) => Promise<void>,
  reporter: Reporter,
  tier: string,
): Promise<string | undefined> {
  for (const check of checks) {
    const call = kubectl.proxyGet({
      ...access,
      namespace,
      service: check.via,
      port: check.port,
      path: check.path,
    });
    let last = "";
    let passed = false;
    for (let attempt = 1; attempt <= check.attempts; attempt++) {
      const r = await run(call);
      if (r.exitCode === 0) {
        passed = true;
        break;
      }
      last = kubectl.classifyKubectlError(`${r.stderr}\n${r.stdout}`);
      if (attempt < check.attempts) await sleep(check.intervalSeconds * 1000);
    }
    const label = `${check.service} ${check.probe} GET ${check.path} via ${check.via}`;
    if (!passed) {
      reporter.error(tier, `✗ smoke ${label}: ${last} after ${check.attempts} attempts`);
      return `${label}: ${last}`;
    }
    reporter.info(tier, `✓ smoke ${label}`);
  }
  return undefined;
}

function message(error: unknown): string {
  return firstLine(error);
}

function hintOf(error: unknown): string | undefined {
  return error instanceof TiersError ? error.hint : undefined;
}
