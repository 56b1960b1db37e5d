/** Reject, approve and test reports: the records people and the test tier write into git. */
import { TiersError } from "../../../core/errors.ts";
import {
  approvalMessage,
  rejectionMessage,
  testReportMessage,
} from "../../../core/promotion/messages.ts";
import type { PerformanceFigures } from "../../../core/promotion/performance.ts";
import {
  type ApprovalRecord,
  approvalPath,
  approvalSchema,
  type RejectionRecord,
  rejectionPath,
  rejectionSchema,
  renderRecord,
  type TestReportRecord,
  testReportPath,
} from "../../../core/promotion/records.ts";
import { PromotionRepo, whoAmI } from "../history.ts";
import { locked } from "./lock.ts";

export interface RejectRequest {
  root: string;
  digest: string;
  reason: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}

/** Marks a digest as never promotable again. Rejecting twice changes nothing. */
export async function reject(
  request: RejectRequest,
): Promise<{ changed: boolean; record: RejectionRecord; commit?: string }> {
  if (!request.reason.trim()) {
    throw new TiersError("a rejection needs a reason", { exitCode: 2, hint: '--reason "why"' });
  }
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, `reject ${request.digest}`, async () => {
    const head = await repo.head();
    const path = rejectionPath(request.digest);
    const existing = await repo.record(rejectionSchema, path);
    if (existing) return { changed: false, record: existing };
    const record: RejectionRecord = {
      kind: "rejection",
      digest: request.digest,
      reason: request.reason.trim(),
      rejected_by: await whoAmI(repo, request.env ?? process.env),
      rejected_at: (request.now ?? (() => new Date()))().toISOString(),
    };
    const commit = await repo.commit({
      expectedHead: head,
      writes: [{ path, content: renderRecord(record, `${request.digest} is rejected`) }],
      message: rejectionMessage(request.digest, record.reason, record.rejected_by),
    });
    return { changed: true, record, commit };
  });
}

/** Records one approval of a digest for a tier (`approvals.source: record`). */
export async function approve(request: {
  root: string;
  tier: string;
  digest: string;
  note?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}): Promise<{ changed: boolean; record: ApprovalRecord; commit?: string }> {
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, `approve ${request.tier}`, async () => {
    const head = await repo.head();
    const path = approvalPath(request.tier, request.digest);
    const who = await whoAmI(repo, request.env ?? process.env);
    const existing = await repo.record(approvalSchema, path);
    if (existing?.approvals.some((a) => a.by === who)) return { changed: false, record: existing };
    const entry = {
      by: who,
      at: (request.now ?? (() => new Date()))().toISOString(),
      ...(request.note ? { note: request.note } : {}),
    };
    const record: ApprovalRecord = existing
      ? { ...existing, approvals: [...existing.approvals, entry] }
      : { kind: "approval", tier: request.tier, digest: request.digest, approvals: [entry] };
    const commit = await repo.commit({
      expectedHead: head,
      writes: [
        {
          path,
          content: renderRecord(record, `approvals of ${request.digest} for ${request.tier}`),
        },
      ],
      message: approvalMessage(request.tier, request.digest, who),
    });
    return { changed: true, record, commit };
  });
}

/**
 * Records the test tier's verdict on a commit (what the tests-passed gate reads). Called by
 * the test tier run once it has a result; a later run overwrites the verdict.
 */
export async function recordTestReport(request: {
  root: string;
  commit: string;
  passed: boolean;
  summary: string;
  performance?: PerformanceFigures;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
}): Promise<string> {
  const repo = new PromotionRepo(request.root, request.env ?? process.env);
  return locked(repo, "record test report", async () => {
    const head = await repo.head();
    const record: TestReportRecord = {
      kind: "test-report",
      commit: request.commit,
      passed: request.passed,
      summary: request.summary,
      ...(request.performance ? { performance: request.performance } : {}),
      recorded_by: await whoAmI(repo, request.env ?? process.env),
      recorded_at: (request.now ?? (() => new Date()))().toISOString(),
    };
    return repo.commit({
      expectedHead: head,
      writes: [
        {
          path: testReportPath(request.commit),
          content: renderRecord(record, `test tier verdict on ${request.commit}`),
        },
      ],
      message: testReportMessage(request.commit, request.passed, request.summary),
    });
  });
}
