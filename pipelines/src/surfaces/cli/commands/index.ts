import type { RegisterCommand } from "../context.ts";

/**
 * Every `tiers` command, in the order `tiers --help` lists them, each loaded only when it runs:
 * the commands reach very different engines (the Kubernetes schemas, the Dagger SDK, execa), and
 * importing all of them made a cold `tiers validate` pay for every one. A new command is one
 * file in this folder plus one line here.
 */
export const commandLoaders: Readonly<Record<string, () => Promise<RegisterCommand>>> = {
  validate: async () => (await import("./validate.ts")).registerValidate,
  doctor: async () => (await import("./doctor.ts")).registerDoctor,
  build: async () => (await import("./build.ts")).registerBuild,
  publish: async () => (await import("./publish.ts")).registerPublish,
  env: async () => (await import("./env.ts")).registerEnv,
  deploy: async () => (await import("./deploy.ts")).registerDeploy,
  infra: async () => (await import("./infra.ts")).registerInfra,
  // Promotion: the ladder, test verdicts, preview, promote, sign/verify passages, approvals,
  // reject, roll back.
  status: async () => (await import("./status.ts")).registerStatus,
  "record-tests": async () => (await import("./record-tests.ts")).registerRecordTests,
  plan: async () => (await import("./plan.ts")).registerPlan,
  promote: async () => (await import("./promote.ts")).registerPromote,
  sign: async () => (await import("./sign.ts")).registerSign,
  verify: async () => (await import("./verify.ts")).registerVerify,
  approve: async () => (await import("./approve.ts")).registerApprove,
  reject: async () => (await import("./reject.ts")).registerReject,
  rollback: async () => (await import("./rollback.ts")).registerRollback,
};
