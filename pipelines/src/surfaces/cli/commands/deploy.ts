/**
 * `tiers deploy --env staging|prod [--dry-run] [--kubeconfig FILE] [--context NAME]`: applies
 * the tier's rendered overlay (the digests its pins name), waits for the rollouts, smoke-checks
 * the health endpoints, switches colours in blue-green tiers and rolls back by itself when a
 * check fails. `--dry-run` renders, checks and prints what would be applied without a cluster.
 */
import type { Command } from "commander";
import { tierOf } from "../../../core/environment/index.ts";
import { UsageError } from "../../../core/errors.ts";
import { formatFinding, ManifestError } from "../../../core/manifests/index.ts";
import { DeployError, deployTier } from "../../../engines/host/deploy.ts";
import { deployKubeconfig } from "../../../engines/host/kubeconfig.ts";
import { requireDeployWindow } from "../../../engines/host/promotion/deploy-window.ts";
import { SecretStore } from "../../../engines/host/secrets.ts";
import { defaultKubeconfigSecret } from "../../../tools/kubectl.ts";
import { type CliContext, contextFrom, type RegisterCommand } from "../context.ts";

/** Options of `tiers deploy`. */
export interface DeployCommandOptions {
  /** Tier to deploy. */
  env?: string;
  /** Render, check and print; touch no cluster. */
  dryRun?: boolean;
  /** kubeconfig file (its content is handled as a secret). */
  kubeconfig?: string;
  /** kubeconfig context. */
  context?: string;
  /** Print the rendered manifests a dry run would apply. */
  manifests?: boolean;
}

export const registerDeploy: RegisterCommand = (program) => {
  program
    .command("deploy")
    .description(
      "apply a Kubernetes tier's pinned overlay, wait, smoke-check, roll back on failure",
    )
    .option("--env <tier>", "tier to deploy (a tier whose runtime is kubernetes)")
    .option("--dry-run", "render, check and show the plan and manifests; contact no cluster")
    .option("--manifests", "with --dry-run: print the manifests that would be applied")
    .option(
      "--kubeconfig <file>",
      "kubeconfig to use, read as a secret (default: $TIERS_KUBECONFIG, $KUBECONFIG, ~/.kube/config)",
    )
    .option("--context <name>", "kubeconfig context (default: the file's current context)")
    .addHelpText(
      "after",
      `
The overlay k8s/overlays/<tier> is rendered with kubectl's kustomize, validated against the
Kubernetes schemas, the tier policies and the tier's config, then applied server-side. Prod is
blue-green: the idle colour is updated and smoke-checked through the preview Service before
the live Service switches; the previous colour keeps running for an instant switch-back.
Outside the tier's windows the deploy is refused unless every pinned digest carries a window
override someone else recorded (\`tiers approve --override window\`). A tier with deploy.verify
keeps checking for that period and records the pins as verified, or restores the last verified.

Examples:
  $ tiers deploy --env staging --dry-run     what would be applied, no cluster needed
  $ tiers deploy --env prod --kubeconfig ~/.kube/prod.yaml`,
    )
    .action(async (options: DeployCommandOptions, command: Command) => {
      await runDeploy(contextFrom(command), options);
    });
};

/** `tiers deploy` (and `tiers env <tier> deploy`): deploy one Kubernetes tier. */
export async function runDeploy(context: CliContext, options: DeployCommandOptions): Promise<void> {
  if (!options.env) {
    throw new UsageError("missing --env <tier>", { hint: "e.g. tiers deploy --env staging" });
  }
  const model = await context.model();
  const tier = tierOf(model, options.env);
  // A deploy applies pins to a cluster: outside the tier's windows it waits (a dry run
  // touches nothing, so it is always allowed).
  // A recorded window override for every pinned digest lets an emergency fix through.
  if (!options.dryRun) {
    const through = await requireDeployWindow({
      root: context.root,
      tier: options.env,
      model,
      now: new Date(),
    });
    if (through) context.reporter.warn(options.env, through, tier.marker);
  }
  const kubeconfig = deployKubeconfig(process.env, options.kubeconfig);
  const secrets = new SecretStore().define(defaultKubeconfigSecret, { file: kubeconfig });
  try {
    const result = await deployTier({
      root: context.root,
      tier: options.env,
      model,
      reporter: context.reporter,
      secrets,
      dryRun: Boolean(options.dryRun),
      ...(options.context ? { context: options.context } : {}),
    });
    if (result.outcome === "dry-run") {
      for (const finding of result.findings) {
        context.reporter.error(options.env, formatFinding(finding), tier.marker);
      }
      if (options.manifests) context.reporter.raw(result.manifests);
      if (result.findings.length)
        throw new ManifestError(`k8s/overlays/${options.env}`, result.findings);
      context.reporter.info(
        options.env,
        "dry run: overlay renders and passes every check",
        tier.marker,
      );
    }
  } catch (error) {
    if (error instanceof DeployError) {
      for (const step of error.result.steps) {
        context.reporter.info(
          options.env,
          `${step.outcome === "ok" ? "✓" : step.outcome === "skipped" ? "○" : "✗"} ${step.name}${step.detail ? `: ${step.detail}` : ""}`,
          tier.marker,
        );
      }
    }
    throw error;
  }
}
