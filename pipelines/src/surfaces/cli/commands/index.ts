import type { RegisterCommand } from "../context.ts";

/**
 * Every `tiers` command, in the order `tiers --help` lists them, each loaded only when it runs:
 * the commands reach very different engines (the Kubernetes schemas, the Dagger SDK, execa), and
 * importing all of them made a cold `tiers validate` pay for every one. A new command is one
 * file in this folder plus one line here.
 */
export const commandLoaders: Readonly<Record<string, () => Promise<RegisterCommand>>> = {
  validate: async () => (await import("./validate.ts")).registerValidate,
  add: async () => (await import("./add.ts")).registerAdd,
  ci: async () => (await import("./ci.ts")).registerCi,
  admission: async () => (await import("./admission.ts")).registerAdmission,
  doctor: async () => (await import("./doctor.ts")).registerDoctor,
  build: async () => (await import("./build.ts")).registerBuild,
  publish: async () => (await import("./publish.ts")).registerPublish,
  env: async () => (await import("./env/index.ts")).registerEnv,
  deploy: async () => (await import("./deploy.ts")).registerDeploy,
  infra: async () => (await import("./infra.ts")).registerInfra,
  // Promotion: the ladder, test verdicts, preview, promote, sign/verify passages, approvals,
  // reject, roll back.
  status: async () => (await import("./status.ts")).registerStatus,
  "record-tests": async () => (await import("./record-tests.ts")).registerRecordTests,
  "record-scan": async () => (await import("./record-scan.ts")).registerRecordScan,
  "record-evidence": async () => (await import("./record-evidence.ts")).registerRecordEvidence,
  plan: async () => (await import("./plan.ts")).registerPlan,
  promote: async () => (await import("./promote.ts")).registerPromote,
  sign: async () => (await import("./sign.ts")).registerSign,
  verify: async () => (await import("./verify.ts")).registerVerify,
  approve: async () => (await import("./approve.ts")).registerApprove,
  reject: async () => (await import("./reject.ts")).registerReject,
  rollback: async () => (await import("./rollback.ts")).registerRollback,
};

/**
 * The line `tiers --help` lists for each command. The listing is built from these alone, so
 * `tiers --help` (and the "did you mean" of a mistyped command) loads no command module and
 * no engine; each command's own `--help` shows its full description and options.
 */
export const commandSummaries: Readonly<Record<string, string>> = {
  validate: "check every tier file and policy",
  add: "scaffold a tier or a service, leaving a repository `tiers validate` accepts",
  ci: "CI templates generated from the tier model",
  admission: "the cluster's admission policies, generated from the tier model",
  doctor: "which tools are usable on this machine, and what each missing one disables",
  build: "build each service image once per commit",
  publish: "push images and record their digests",
  env: "act on a tier: tiers env <tier> <action> (see tiers env --help)",
  deploy: "render and apply a tier's overlay, roll back on failure",
  infra: "plan or apply a tier's infrastructure (terraform/, the tier's own state)",
  status: "the whole promotion ladder at a glance",
  "record-tests": "record the test tier's verdict for a commit in git",
  "record-scan": "record a vulnerability scanner's report of a digest in git",
  "record-evidence": "record the SBOM and provenance of a published commit in git",
  plan: "preview a promotion; changes nothing",
  promote: "promote a digest into a tier after every gate passes",
  sign: "sign a tier's passage with cosign",
  verify: "verify a tier's passages against its signing policy",
  approve: "record an approval of a digest for a tier",
  reject: "mark a digest never promotable again",
  rollback: "restore an earlier pin from the overlay's git history",
};
