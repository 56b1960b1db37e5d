/** The deploy step a promotion or rollback runs after moving a pin; the engine is injected. */
import type { EnvironmentModel } from "../../../core/environment/index.ts";
import { firstLine, TiersError } from "../../../core/errors.ts";

/** How the deploy step after pinning is run. */
export type DeployMode = "auto" | "skip";

/** Deploys a tier after its pin moved; injected so tests and the CLI choose the engine. */
export type Deployer = (tier: string, model: EnvironmentModel) => Promise<DeployReport>;

export interface DeployReport {
  outcome: "deployed" | "skipped" | "failed";
  detail: string;
  /**
   * The commit by which the deploy's verification period (deploy.verify) already restored the
   * tier's last verified pins after a check failed: the caller must not roll back again.
   */
  restoredBy?: string;
}

/** A deploy whose verification period failed and restored the last verified pins itself. */
export class RestoredByVerification extends TiersError {
  readonly restoredBy: string;
  constructor(error: TiersError, restoredBy: string) {
    super(error.message, {
      ...(error.where ? { where: error.where } : {}),
      ...(error.hint ? { hint: error.hint } : {}),
      cause: error,
    });
    this.restoredBy = restoredBy;
  }
}

/** Runs the deploy step; a thrown deploy is reported as `failed`, never rethrown. */
export async function runDeploy(
  request: { tier: string; deploy?: DeployMode | undefined; deployer?: Deployer | undefined },
  model: EnvironmentModel,
): Promise<DeployReport> {
  if (request.deploy === "skip") {
    return { outcome: "skipped", detail: "--no-deploy: pinned and recorded, deploy skipped" };
  }
  if (!request.deployer) {
    return {
      outcome: "skipped",
      detail: "no deploy engine given: pinned and recorded, deploy skipped",
    };
  }
  try {
    return await request.deployer(request.tier, model);
  } catch (error) {
    if (error instanceof RestoredByVerification) {
      return { outcome: "failed", detail: firstLine(error), restoredBy: error.restoredBy };
    }
    return {
      outcome: "failed",
      detail: error instanceof TiersError ? firstLine(error) : String(error),
    };
  }
}
