/**
 * What a deploy did, as its callers (promotion, rollback, the CLI, the infra and verification
 * steps) read it: the steps it ran, how it ended, and the error that carries that record when
 * the tier is not healthy. Apart from deploy.ts so the steps it calls can name these types
 * without importing the deploy itself.
 */

import { TiersError } from "../../core/errors.ts";
import type { Colour, DeployPlan, ManifestFinding } from "../../core/manifests/index.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import type { PeriodOutcome } from "./verify-period.ts";

/** Runs one invocation and returns its result, non-zero exits included (never throws for them). */
export type Runner = (invocation: Invocation) => Promise<ToolResult>;

/** One executed step, for the record a caller (promotion, rollback) may store. */
export interface DeployStep {
  name: string;
  outcome: "ok" | "failed" | "skipped";
  detail?: string;
}

/** How a deploy ended. */
export type DeployOutcome = "dry-run" | "deployed" | "rolled-back" | "failed";

/** What a deploy did. */
export interface DeployResult {
  tier: string;
  outcome: DeployOutcome;
  plan: DeployPlan;
  /** The manifests applied (or, for a dry run, that would be). */
  manifests: string;
  /** Image references the tier runs after this deploy (or would run). */
  images: string[];
  steps: DeployStep[];
  /** Colours live after the deploy, per blue-green service. */
  liveColours: Record<string, Colour>;
  /** Findings of the checks (empty unless a dry run reports them). */
  findings: ManifestFinding[];
  /** What the verification period after the deploy did, when the tier has one. */
  verification?: PeriodOutcome;
}

/** The tier is not healthy after the deploy; `result` says what ran and what was undone. */
export class DeployError extends TiersError {
  readonly result: DeployResult;
  constructor(message: string, result: DeployResult, hint?: string, cause?: unknown) {
    super(message, { where: `tier ${result.tier}`, hint, cause });
    this.result = result;
  }
}
