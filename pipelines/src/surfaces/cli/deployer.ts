/** The deploy step the CLI plugs into promote and rollback: real with a kubeconfig, offline without. */
import { firstLine } from "../../core/errors.ts";
import { deployTier } from "../../engines/host/deploy.ts";
import { findKubeconfig } from "../../engines/host/kubeconfig.ts";
import type { Deployer } from "../../engines/host/promotion/deploy-step.ts";
import { SecretStore } from "../../engines/host/secrets.ts";
import { restoredByPeriod } from "../../engines/host/verify-period.ts";
import { defaultKubeconfigSecret } from "../../tools/kubectl.ts";
import type { CliContext } from "./context.ts";

/**
 * The deploy step promotion runs after pinning. With a kubeconfig it deploys for real (the
 * deploy engine rolls the cluster back itself on failure). Without one — like on machines with
 * no cluster — it renders and checks the overlay offline and reports the deploy as skipped:
 * the pin and the records are in git, and CI (or `tiers deploy`) applies them later.
 */
export function cliDeployer(cli: CliContext, kubeconfigFlag?: string): Deployer {
  return async (tier, model) => {
    const marker = model.tiers[tier]?.marker;
    const kubeconfig = kubeconfigFlag ?? findKubeconfig(process.env);
    if (!kubeconfig) {
      // No cluster to deploy to: render and check offline so a broken overlay still shows up,
      // but never undo a good pin because of it — nothing was deployed.
      let checked = "overlay rendered and checked offline";
      try {
        const dry = await deployTier({
          root: cli.root,
          tier,
          model,
          reporter: cli.reporter,
          dryRun: true,
        });
        for (const finding of dry.findings) {
          cli.reporter.warn(
            tier,
            `overlay check: ${finding.message ?? JSON.stringify(finding)}`,
            marker,
          );
        }
        if (dry.findings.length) checked += `, ${dry.findings.length} finding(s)`;
      } catch (error) {
        checked = `offline render failed: ${firstLine(error)}`;
        cli.reporter.warn(tier, checked, marker);
      }
      return {
        outcome: "skipped",
        detail: `no kubeconfig: pinned and recorded, deploy skipped (${checked}); run \`tiers deploy --env ${tier}\` where a cluster is reachable`,
      };
    }
    const secrets = new SecretStore().define(defaultKubeconfigSecret, { file: kubeconfig });
    // Promote and rollback deploy under the promotion lock, so the verification period
    // (deploy.verify) writes its record without taking it again.
    const result = await deployTier({
      root: cli.root,
      tier,
      model,
      reporter: cli.reporter,
      secrets,
      period: { lockHeld: true },
    }).catch(restoredByPeriod);
    return {
      outcome: result.outcome === "deployed" ? "deployed" : "failed",
      detail: `${result.outcome}: ${result.steps.map((s) => `${s.name} ${s.outcome}`).join(", ")}${result.verification?.outcome === "verified" ? `; verified over the period (${result.verification.record})` : ""}`,
    };
  };
}
