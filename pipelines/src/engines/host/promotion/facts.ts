/**
 * Fact gathering: what the pure gates (core/promotion/gates.ts) judge about each candidate and
 * about the tier — registry digests and labels, the passage and its signature, the test
 * report, a rejection, approvals. Reads only through the injected sources.
 */
import { ociLabel } from "../../../core/artefact.ts";
import { type EnvironmentModel, tierOf } from "../../../core/environment/index.ts";
import { chainStart, previousTier } from "../../../core/promotion/chain.ts";
import { ciEnvironment } from "../../../core/promotion/ci.ts";
import { type EvidenceVerifier, signingPolicy } from "../../../core/promotion/evidence.ts";
import {
  approvalsVerdict,
  type Candidate,
  type CandidateFacts,
  type EvidenceCheck,
  type Fact,
} from "../../../core/promotion/gates.ts";
import { describeInvalid, type RecordRead } from "../../../core/promotion/record-read.ts";
import {
  approvalPath,
  approvalSchema,
  type RejectionRecord,
  rejectionPath,
  rejectionSchema,
  testReportPath,
  testReportSchema,
} from "../../../core/promotion/records.ts";
import { shortDigest } from "../../../core/promotion/refs.ts";
import { passageCheck } from "./passage-records.ts";
import { type PromotionSources, readRecord } from "./sources.ts";

/** The facts of one candidate entering `tier`. */
export async function candidateFacts(
  tier: string,
  model: EnvironmentModel,
  sources: PromotionSources,
  verifier: EvidenceVerifier,
  candidate: Candidate,
  signatureRequired: boolean,
): Promise<CandidateFacts> {
  const from = previousTier(model, tier)!;
  const isStart = chainStart(model) === from;
  // The artefact's immutable tag is its commit SHA: if that tag now serves another digest,
  // someone re-pushed it after the record was written. Both registry reads are independent,
  // so they run side by side.
  const [served, tagged] = await Promise.all([
    sources.registry.inspect(candidate.reference),
    candidate.commit && candidate.digest
      ? sources.registry.inspect(`${candidate.repository}:${candidate.commit}`)
      : undefined,
  ]);

  let registryDigest: Fact<string> = served.ok
    ? { ok: true, value: served.value.digest }
    : { ok: false, why: served.why };
  if (served.ok && tagged && candidate.commit) {
    if (tagged.ok && tagged.value.digest !== candidate.digest) {
      registryDigest = {
        ok: false,
        why: `digest changed: tag ${candidate.commit.slice(0, 12)} now resolves to ${tagged.value.digest}, the record says ${candidate.digest}`,
      };
    }
  }
  const digest = candidate.digest;
  let passage: EvidenceCheck;
  let signature: EvidenceCheck = { ok: false, failure: "missing", why: "not checked" };
  if (!digest) {
    passage = {
      ok: false,
      failure: "missing",
      why: `${candidate.reference} did not resolve to a digest`,
    };
    signature = passage;
  } else if (isStart) {
    passage = served.ok
      ? { ok: true, why: `the registry serves ${shortDigest(digest)} (published)` }
      : { ok: false, failure: "missing", why: served.why };
    signature = { ok: false, failure: "unavailable", why: `${from} makes no signed passages` };
  } else {
    passage = (await passageCheck(sources.records, from, digest, served)).check;
    if (signatureRequired) {
      signature = await verifier.verifySignature(
        { tier: from, digest, repository: candidate.repository },
        signingPolicy(model, tier),
      );
    }
  }

  let tests: CandidateFacts["tests"];
  if (!candidate.commit) {
    tests = {
      ok: false,
      why: `the image's commit is unknown (no ${ociLabel.revision} label)`,
    };
  } else {
    const path = testReportPath(candidate.commit);
    const report = await readRecord(sources.records, testReportSchema, path);
    tests =
      report.state === "present"
        ? {
            ok: true,
            value: { passed: report.value.passed, where: path, summary: report.value.summary },
          }
        : report.state === "absent"
          ? {
              ok: false,
              why: `no test report ${path} in git; run \`tiers env test run\` on that commit`,
            }
          : { ok: false, why: `test report cannot be read: ${describeInvalid(report)}` };
  }

  // Without a digest there is nothing a rejection could name; the passage gate already fails.
  const rejection: RecordRead<RejectionRecord> = digest
    ? await readRecord(sources.records, rejectionSchema, rejectionPath(digest))
    : { state: "absent", file: "releases/rejections/" };

  return {
    candidate,
    previousTier: from,
    previousIsChainStart: isStart,
    passage,
    signature,
    tests,
    labels: served.ok ? { ok: true, value: served.value.labels } : { ok: false, why: served.why },
    registryDigest,
    rejection,
  };
}

/** The approvals verdict of `tier` for these candidates (records in git, or the CI environment). */
export async function approvalsFacts(
  tierName: string,
  model: EnvironmentModel,
  sources: Pick<PromotionSources, "records">,
  candidates: readonly Candidate[],
  env: Readonly<Record<string, string | undefined>>,
  actor?: string,
) {
  const tier = tierOf(model, tierName);
  const byDigest = new Map<string, string[]>();
  const unreadable: string[] = [];
  if (tier.approvals.source === "record") {
    for (const c of candidates) {
      if (!c.digest) continue;
      const read = await readRecord(
        sources.records,
        approvalSchema,
        approvalPath(tierName, c.digest),
      );
      if (read.state === "invalid") unreadable.push(describeInvalid(read));
      byDigest.set(c.digest, read.state === "present" ? read.value.approvals.map((a) => a.by) : []);
    }
  }
  return approvalsVerdict(
    tierName,
    { required: tier.approvals.required, source: tier.approvals.source },
    ciEnvironment(env),
    byDigest,
    actor,
    unreadable,
  );
}
