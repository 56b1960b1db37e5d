/**
 * The infrastructure stage under Dagger: `tiers infra plan|apply` (engines/host/infra.ts, the
 * same code a laptop runs) in the promotion toolbox plus the pinned terraform binary, on a fresh
 * clone, so the run's record is committed and pushed like a promotion's. The saved plan leaves
 * the plan container as a Directory and enters the apply container the same way, so apply
 * still applies exactly the plan that was reviewed (its digest is checked by the host engine).
 */
import { type Container, type Directory, dag, type Secret } from "@dagger.io/dagger";
import { infraDir, planFilePath, summaryPath } from "../../core/infra/plan.ts";
import { toolImageRef } from "../../tools/images.ts";
import { ciEnvironmentVariables } from "./promotion.ts";
import { freshRunId } from "./run.ts";
import type { StageInputs } from "./stage-inputs.ts";
import { checkoutDir, pushBranch, runCli, type ToolboxOptions, toolbox } from "./toolbox.ts";

/** Where terraform lives in hashicorp/terraform (its entrypoint, docs: hub.docker.com/r/hashicorp/terraform). */
const terraformBinary = "/bin/terraform";

export interface InfraStepOptions extends ToolboxOptions {
  /** Cloud credentials as secret environment variables (AWS_ACCESS_KEY_ID, ...). */
  cloudEnv?: Readonly<Record<string, Secret>>;
  /** apply: the directory infraPlan returned (`<tier>.tfplan` + `<tier>.plan.json`). */
  plan?: Directory;
}

/** The container that runs `tiers infra <action> --env <tier>` and the push of its record. */
export function infraStep(
  action: "plan" | "apply",
  tier: string,
  options: InfraStepOptions,
): { cli: Container; push: Container } {
  let box = toolbox({
    ...options,
    secretEnv: { ...options.secretEnv, ...options.cloudEnv },
  }).withFile(
    "/usr/local/bin/terraform",
    dag.container().from(toolImageRef("terraform")).file(terraformBinary),
  );
  if (options.plan) box = box.withDirectory(`${checkoutDir}/${infraDir}`, options.plan);
  const cli = runCli(box, ["infra", action, "--env", tier]);
  return { cli, push: pushBranch(cli, options.branch) };
}

/** The saved plan and its summary, out of the plan container (for `infraApply --plan`). */
export function savedPlan(cli: Container, tier: string, printed: string): Directory {
  return dag
    .directory()
    .withFile(`${tier}.tfplan`, cli.file(`${checkoutDir}/${planFilePath(tier)}`))
    .withFile(`${tier}.plan.json`, cli.file(`${checkoutDir}/${summaryPath(tier)}`))
    .withNewFile(`${tier}.plan.txt`, printed);
}

/** Cloud credentials and the apply inputs of an infra step, as the module's functions take them. */
export interface InfraInputs {
  awsAccessKeyId?: Secret | undefined;
  awsSecretAccessKey?: Secret | undefined;
  /** The CI environment the job runs in (approvals.source: ci-environment). */
  ciEnvironment?: string | undefined;
  plan?: Directory | undefined;
}

/** An infra step on a fresh clone of the module's remote, with the module's git settings. */
export async function infraPipelineStep(
  pipeline: StageInputs,
  action: "plan" | "apply",
  tier: string,
  inputs: InfraInputs,
): Promise<{ cli: Container; push: Container }> {
  const { settings } = pipeline;
  const context = await pipeline.context();
  const cloudEnv: Record<string, Secret> = {};
  if (inputs.awsAccessKeyId) cloudEnv.AWS_ACCESS_KEY_ID = inputs.awsAccessKeyId;
  if (inputs.awsSecretAccessKey) cloudEnv.AWS_SECRET_ACCESS_KEY = inputs.awsSecretAccessKey;
  return infraStep(action, tier, {
    nodeImage: context.baseImage,
    remote: await pipeline.remote(),
    branch: settings.branch,
    ...(settings.gitToken
      ? { gitAuth: await pipeline.gitCredentials(settings.gitUsername, settings.gitToken) }
      : {}),
    cloudEnv,
    env: inputs.ciEnvironment ? ciEnvironmentVariables(inputs.ciEnvironment) : {},
    ...(inputs.plan ? { plan: inputs.plan } : {}),
    runId: freshRunId(),
  });
}
