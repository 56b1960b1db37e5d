/**
 * `tiers plan --env <tier>`: what a promotion would change and whether its gates pass.
 * Changes nothing. Also holds the pieces every promotion command shares (flags, rendering,
 * the deploy step the CLI plugs in).
 */
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { loadModel } from "../../../core/environment/index.ts";
import { ExitCode, firstLine, TiersError, UsageError } from "../../../core/errors.ts";
import { type PromotionPlan, planLines, planToJson } from "../../../core/promotion/plan.ts";
import { parseDigest } from "../../../core/promotion/refs.ts";
import { deployTier } from "../../../engines/host/deploy.ts";
import { findKubeconfig } from "../../../engines/host/kubeconfig.ts";
import type { Deployer } from "../../../engines/host/promotion/deploy-step.ts";
import { computePlan } from "../../../engines/host/promotion/plan.ts";
import type { PromotionRequest } from "../../../engines/host/promotion/request.ts";
import { SecretStore } from "../../../engines/host/secrets.ts";
import { defaultKubeconfigSecret } from "../../../tools/kubectl.ts";
import { type CliContext, contextFrom, type RegisterCommand } from "../context.ts";

/** Flags shared by plan, promote, sign, verify and bless. */
export interface SelectionFlags {
  env?: string;
  digest?: string;
  commit?: string;
  image?: string;
  service?: string;
  evidence?: string;
  json?: boolean;
}

/** Adds the flags that choose what is promoted and how evidence is checked. */
export function selectionOptions(command: Command): Command {
  return command
    .option(
      "--digest <sha256>",
      "promote this digest (its service is found from artefact records or the registry)",
    )
    .option(
      "--commit <sha>",
      "promote every image of this published commit (.tiers/artefacts/<sha>.json)",
    )
    .option(
      "--image <ref>",
      "promote an image reference (a tag is refused by the immutable-reference gate)",
    )
    .option("--service <name>", "only this service (or: the service of a bare --digest)")
    .option(
      "--evidence <kind>",
      "evidence verifier: cosign (signatures) or local (git records + registry digests); default cosign when the signing policy requires signatures (or $TIERS_EVIDENCE)",
    );
}

/** The request a command's flags describe. */
export function requestFrom(
  cli: CliContext,
  flags: SelectionFlags,
  command: string,
): PromotionRequest {
  if (!flags.env) {
    throw new UsageError(`missing --env <tier>`, { hint: `e.g. tiers ${command} --env staging` });
  }
  const request: PromotionRequest = { root: cli.root, tier: flags.env };
  if (flags.digest) request.digest = parseDigest(flags.digest);
  if (flags.commit) request.commit = flags.commit;
  if (flags.image) request.image = flags.image;
  if (flags.service) request.service = flags.service;
  if (flags.evidence) request.evidence = flags.evidence;
  return request;
}

/** Prints a plan, every line led by the tier's marker. */
export function printPlan(cli: CliContext, plan: PromotionPlan, marker: string | undefined): void {
  for (const line of planLines(plan)) {
    if (line.level === "error") cli.reporter.error(plan.tier, line.text, marker);
    else cli.reporter.info(plan.tier, line.text, marker);
  }
}

/** The marker a tier declares (falls back to the defaults before config loads). */
export async function markerOf(root: string, tier: string): Promise<string | undefined> {
  try {
    return (await loadModel(root)).tiers[tier]?.marker;
  } catch {
    return undefined;
  }
}

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
    const result = await deployTier({
      root: cli.root,
      tier,
      model,
      reporter: cli.reporter,
      secrets,
    });
    return {
      outcome: result.outcome === "deployed" ? "deployed" : "failed",
      detail: `${result.outcome}: ${result.steps.map((s) => `${s.name} ${s.outcome}`).join(", ")}`,
    };
  };
}

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Refuses a destructive step without a TTY unless --yes was given. */
export function requireConsent(yes: boolean | undefined, what: string): "ask" | "go" {
  if (yes) return "go";
  if (!process.stdin.isTTY) {
    throw new TiersError(`${what} needs confirmation, and there is no terminal to ask on`, {
      hint: "run it in a terminal, or pass --yes to confirm non-interactively",
    });
  }
  return "ask";
}

export const registerPlan: RegisterCommand = (program) => {
  const command = program
    .command("plan")
    .description(
      "preview a promotion: digests from → to, the overlay diff, every gate and why; changes nothing",
    )
    .option("--env <tier>", "tier to promote into (staging, prod, …)")
    .option("--json", "print the plan as JSON");
  selectionOptions(command)
    .addHelpText(
      "after",
      `
Exit code: 0 when every gate passes (or nothing would change), 1 when a gate fails.
Without --digest/--commit/--image, the plan takes what waits in the tier below.

Examples:
  $ tiers plan --env staging
  $ tiers plan --env prod --commit 3f2a…  --json
  $ tiers plan --env staging --digest sha256:…  --evidence local`,
    )
    .action(async (flags: SelectionFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      const request = requestFrom(cli, flags, "plan");
      const ctx = await computePlan(request);
      if (flags.json) cli.reporter.raw(JSON.stringify(planToJson(ctx.plan), null, 2));
      else printPlan(cli, ctx.plan, ctx.model.tiers[request.tier]?.marker);
      if (!ctx.plan.ok) process.exitCode = ExitCode.failure;
    });
};
