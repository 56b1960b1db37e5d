/**
 * Promotion records: the git half of the evidence. Every fact promotion relies on or creates
 * (a passage, a rejection, an approval, a promotion or rollback) is one small YAML file under
 * `releases/`, so `git log releases/` is the audit trail and a review can see it.
 *
 * Layout (paths are relative to the repository root):
 *   releases/passages/<tier>/sha256-<hex>.yaml     a digest passed <tier>'s gates
 *   releases/rejections/sha256-<hex>.yaml          a digest may never be promoted again
 *   releases/approvals/<tier>/sha256-<hex>.yaml    who approved a digest for <tier>
 *   releases/overrides/<tier>/sha256-<hex>.yaml    who waived a time gate (soak, window) and why
 *   releases/history/<tier>/<stamp>-<action>.yaml  each promotion and rollback of <tier>
 *   releases/tests/<commit>.yaml                   the test tier's verdict on a commit
 *   releases/verifications/<tier>/<stamp>-<commit>.yaml  pins that passed <tier>'s verification period
 */
import { stringify } from "yaml";
import { TiersError } from "../errors.ts";
import { parseYaml } from "../yaml.ts";
import { z } from "../zod.ts";
import { performanceFiguresSchema } from "./performance.ts";
import { digestFileName } from "./refs.ts";

export const releasesDir = "releases";

const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex>");

/** A recorded override that waived a failing time gate (`tiers approve --override`). */
export const waiverSchema = z.strictObject({
  by: z.string().min(1),
  at: z.string(),
  reason: z.string().min(1),
});
export type Waiver = z.infer<typeof waiverSchema>;

/** One gate's outcome, as printed by `tiers plan` and kept in records. */
export const gateResultSchema = z.object({
  gate: z.string(),
  ok: z.boolean(),
  why: z.string(),
  service: z.string().optional(),
  /** Set when the gate failed on its facts and a recorded override let it pass. */
  waiver: waiverSchema.optional(),
});
export type GateResult = z.infer<typeof gateResultSchema>;

/** How a passage was evidenced: which verifier, which signer, which signature. */
export const evidenceSchema = z.object({
  verifier: z.enum(["cosign", "local"]),
  /** `key:<ref>` or `identity:<subject> (<issuer>)`: the signer the tier's policy named. */
  signer: z.string().nullable(),
  /** Where the signature lives (cosign's `<repo>:sha256-<hex>.sig`), when one was made. */
  signature: z.string().nullable(),
  annotations: z.record(z.string(), z.string()).default({}),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const passageSchema = z.strictObject({
  kind: z.literal("passage"),
  tier: z.string(),
  digest,
  service: z.string(),
  repository: z.string(),
  commit: z.string().nullable(),
  recorded_by: z.string(),
  recorded_at: z.string(),
  gates: z.array(gateResultSchema),
  evidence: evidenceSchema,
});
export type PassageRecord = z.infer<typeof passageSchema>;

export const rejectionSchema = z.strictObject({
  kind: z.literal("rejection"),
  digest,
  reason: z.string().min(1),
  rejected_by: z.string(),
  rejected_at: z.string(),
});
export type RejectionRecord = z.infer<typeof rejectionSchema>;

export const approvalSchema = z.strictObject({
  kind: z.literal("approval"),
  tier: z.string(),
  digest,
  approvals: z
    .array(z.strictObject({ by: z.string().min(1), at: z.string(), note: z.string().optional() }))
    .min(1),
});
export type ApprovalRecord = z.infer<typeof approvalSchema>;

/**
 * Overrides of time gates for one digest entering one tier: each names the gate, who waived
 * it, when and why. Only gates the tier lists in `promotion.overrides` can be waived.
 */
export const overrideSchema = z.strictObject({
  kind: z.literal("override"),
  tier: z.string(),
  digest,
  overrides: z
    .array(
      z.strictObject({
        gate: z.enum(["soak", "window"]),
        by: z.string().min(1),
        at: z.string(),
        reason: z.string().min(1),
      }),
    )
    .min(1),
});
export type OverrideRecord = z.infer<typeof overrideSchema>;

export function overridePath(tier: string, digestValue: string): string {
  return `${releasesDir}/overrides/${tier}/${digestFileName(digestValue)}.yaml`;
}

export const pinChangeSchema = z.object({
  service: z.string(),
  image: z.string(),
  from: z.string().nullable(),
  to: z.string(),
});
export type PinChange = z.infer<typeof pinChangeSchema>;

export const historySchema = z.strictObject({
  kind: z.enum(["promotion", "rollback"]),
  tier: z.string(),
  at: z.string(),
  by: z.string(),
  /** The artefact commit the pins came from, when known. */
  commit: z.string().nullable(),
  pins: z.array(pinChangeSchema),
  gates: z.array(gateResultSchema).default([]),
  reason: z.string().nullable().default(null),
  /** Set on automatic rollbacks and rollbacks `--to` a commit: the overlay commit restored. */
  restored_from: z.string().nullable().default(null),
  /** Set on a rollback a verification period caused: the check that failed and when. */
  failed_check: z
    .strictObject({
      check: z.string().min(1),
      at: z.string(),
      /** Minutes into the period (1 = during its first minute). */
      minute: z.number().int().min(1),
      period: z.string(),
    })
    .optional(),
});
export type HistoryRecord = z.infer<typeof historySchema>;

/**
 * The pins of a tier that passed its verification period (`deploy.verify`): the checks ran
 * every `every` for `for` after the deploy of `commit` (the repository commit whose overlay was
 * deployed) and none failed. The newest such record is the tier's last verified release.
 */
export const verificationSchema = z.strictObject({
  kind: z.literal("verification"),
  tier: z.string().min(1),
  /** The repository commit whose overlay was deployed and verified. */
  commit: z.string().regex(/^[0-9a-f]{40}$/, "a 40-hex git commit SHA"),
  pins: z
    .array(z.strictObject({ service: z.string().min(1), image: z.string().min(1), digest }))
    .min(1),
  period: z.strictObject({ for: z.string(), every: z.string() }),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime(),
  checks_run: z.number().int().min(1),
  /** Each check the period ran, as `<service> <probe> GET <path> via <service>`. */
  checks: z.array(z.string().min(1)).min(1),
  recorded_by: z.string().min(1),
});
export type VerificationRecord = z.infer<typeof verificationSchema>;

export function verificationDir(tier: string): string {
  return `${releasesDir}/verifications/${tier}`;
}

/** `releases/verifications/<tier>/20261122T020304Z-<commit12>.yaml`: sorts by time. */
export function verificationPath(tier: string, endedAt: Date, commit: string): string {
  return `${verificationDir(tier)}/${stampOf(endedAt)}-${commit.slice(0, 12)}.yaml`;
}

function stampOf(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

/** The test tier's verdict on a commit: what the `tests-passed` gate reads. */
export const testReportSchema = z.strictObject({
  kind: z.literal("test-report"),
  commit: z.string().regex(/^[0-9a-f]{40}$/, "a 40-hex git commit SHA"),
  passed: z.boolean(),
  /** One line, e.g. "api 42 passed, worker 17 passed". */
  summary: z.string(),
  /** The load test's figures (issue 15); records written before it, or without one, have none. */
  performance: performanceFiguresSchema.optional(),
  recorded_by: z.string(),
  recorded_at: z.string(),
});
export type TestReportRecord = z.infer<typeof testReportSchema>;

export function testReportPath(commit: string): string {
  return `${releasesDir}/tests/${commit}.yaml`;
}

export function passagePath(tier: string, digestValue: string): string {
  return `${releasesDir}/passages/${tier}/${digestFileName(digestValue)}.yaml`;
}

export function rejectionPath(digestValue: string): string {
  return `${releasesDir}/rejections/${digestFileName(digestValue)}.yaml`;
}

export function approvalPath(tier: string, digestValue: string): string {
  return `${releasesDir}/approvals/${tier}/${digestFileName(digestValue)}.yaml`;
}

/** A sortable, collision-resistant name: `20261122T020304Z-promotion-1a2b3c4d.yaml`. */
export function historyPath(tier: string, at: Date, kind: string, digestValue: string): string {
  const stamp = stampOf(at);
  const short = digestValue.replace(/^sha256:/, "").slice(0, 12);
  return `${releasesDir}/history/${tier}/${stamp}-${kind}-${short}.yaml`;
}

/** Serialises a record with a header comment saying what wrote it and why it is in git. */
export function renderRecord(record: object, header: string): string {
  return `# ${header}\n# Written by \`tiers\`; part of the promotion audit trail. Do not edit by hand.\n${stringify(record, { lineWidth: 0 })}`;
}

/** Parses and validates a record file; problems name the file and the field. */
export function parseRecord<T>(schema: z.ZodType<T>, text: string, where: string): T {
  let data: unknown;
  try {
    data = parseYaml(where, text);
  } catch (error) {
    const located = error instanceof TiersError ? error.where : undefined;
    throw new TiersError(`record is not valid YAML: ${(error as Error).message}`, {
      where: located ?? where,
      hint: "restore it from git (`git log -p -- <file>`); records are written by tiers only",
    });
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new TiersError(`record is malformed: ${problems}`, {
      where,
      hint: "restore it from git (`git log -p -- <file>`); records are written by tiers only",
    });
  }
  return result.data;
}
