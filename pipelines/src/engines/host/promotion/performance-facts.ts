/**
 * The `performance` gate's facts (issue 15): the candidate's load-test figures, from its
 * commit's test record, and the baseline: the figures recorded for the commit of the digest
 * pinned in the target tier (its pin in the overlay, whose passage into that tier names the
 * commit). Reads only through the injected record reader; the rule for a missing or unreadable
 * baseline is core's (core/promotion/performance.ts).
 */
import type { EnvironmentModel } from "../../../core/environment/index.ts";
import { unpromotedDigest } from "../../../core/manifests/pins.ts";
import { hasOverlay } from "../../../core/promotion/chain.ts";
import type { Candidate } from "../../../core/promotion/gates.ts";
import { findPin } from "../../../core/promotion/overlay.ts";
import {
  type CandidatePerformance,
  type PerformanceBaseline,
  performanceVerdict,
} from "../../../core/promotion/performance.ts";
import { describeInvalid } from "../../../core/promotion/record-read.ts";
import {
  passagePath,
  passageSchema,
  testReportPath,
  testReportSchema,
} from "../../../core/promotion/records.ts";
import { isDigest, shortDigest } from "../../../core/promotion/refs.ts";
import { type RecordReader, readRecord } from "./sources.ts";

/** The candidate's own figures: what its commit's test record says. */
export async function candidatePerformance(
  records: RecordReader,
  candidate: Candidate,
): Promise<CandidatePerformance> {
  if (!candidate.commit) return { ok: false, why: "the image's commit is unknown" };
  const read = await readRecord(records, testReportSchema, testReportPath(candidate.commit));
  if (read.state === "absent") {
    return { ok: false, why: `no test record ${read.file}; run \`tiers env test run\` on it` };
  }
  if (read.state === "invalid") {
    return { ok: false, why: `the test record cannot be read: ${describeInvalid(read)}` };
  }
  return { ok: true, commit: candidate.commit, figures: read.value.performance };
}

/** The figures of the digest `tier` pins for the candidate's service, or why there are none. */
export async function pinnedBaseline(
  records: RecordReader,
  model: EnvironmentModel,
  tier: string,
  candidate: Candidate,
): Promise<PerformanceBaseline> {
  if (!hasOverlay(model, tier)) return { state: "none", why: `${tier} pins no digests` };
  let pins: Awaited<ReturnType<RecordReader["pinsAt"]>>;
  try {
    pins = await records.pinsAt(tier);
  } catch (error) {
    return { state: "invalid", why: `the pins of ${tier} cannot be read: ${String(error)}` };
  }
  const pinned = findPin(pins ?? [], candidate.service, candidate.repository)?.digest;
  if (!pinned || pinned === unpromotedDigest || !isDigest(pinned)) {
    return { state: "none", why: `nothing is pinned in ${tier} yet for ${candidate.service}` };
  }
  const passage = await readRecord(records, passageSchema, passagePath(tier, pinned));
  if (passage.state === "invalid") {
    return { state: "invalid", why: describeInvalid(passage) };
  }
  const commit = passage.state === "present" ? passage.value.commit : null;
  if (!commit) {
    return {
      state: "none",
      why: `the pinned ${shortDigest(pinned)} has no passage into ${tier} naming its commit`,
    };
  }
  const report = await readRecord(records, testReportSchema, testReportPath(commit));
  if (report.state === "invalid") return { state: "invalid", why: describeInvalid(report) };
  if (report.state === "absent") {
    return { state: "none", why: `the pinned commit ${commit.slice(0, 12)} has no test record` };
  }
  const figures = report.value.performance;
  return figures
    ? { state: "figures", commit, figures }
    : {
        state: "none",
        why: `the pinned commit ${commit.slice(0, 12)} was recorded without performance figures`,
      };
}

/** The `performance` verdict of one candidate entering `tier`, when its criteria are set. */
export async function performanceFacts(
  records: RecordReader,
  model: EnvironmentModel,
  tier: string,
  candidate: Candidate,
): Promise<{ ok: boolean; why: string } | undefined> {
  const criteria = model.tiers[tier]?.promotion.criteria?.performance;
  if (!criteria) return undefined;
  const [own, baseline] = await Promise.all([
    candidatePerformance(records, candidate),
    pinnedBaseline(records, model, tier, candidate),
  ]);
  return performanceVerdict(candidate.service, criteria, own, baseline);
}
