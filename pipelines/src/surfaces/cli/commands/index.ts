import type { RegisterCommand } from "../context.ts";
import { registerApprove } from "./approve.ts";
import { registerBuild } from "./build.ts";
import { registerDeploy } from "./deploy.ts";
import { registerDoctor } from "./doctor.ts";
import { registerEnv } from "./env.ts";
import { registerPlan } from "./plan.ts";
import { registerPromote } from "./promote.ts";
import { registerPublish } from "./publish.ts";
import { registerRecordTests } from "./record-tests.ts";
import { registerReject } from "./reject.ts";
import { registerRollback } from "./rollback.ts";
import { registerSign } from "./sign.ts";
import { registerStatus } from "./status.ts";
import { registerValidate } from "./validate.ts";
import { registerVerify } from "./verify.ts";

/**
 * Every `tiers` command, in the order `tiers --help` lists them. A new command is one file in
 * this folder plus one line here.
 */
export const commands: RegisterCommand[] = [
  registerValidate,
  registerDoctor,
  registerBuild,
  registerPublish,
  registerEnv,
  registerDeploy,
  // Promotion: preview, promote, sign/verify passages, reject, roll back, the ladder.
  registerStatus,
  registerRecordTests,
  registerPlan,
  registerPromote,
  registerSign,
  registerVerify,
  registerApprove,
  registerReject,
  registerRollback,
];
