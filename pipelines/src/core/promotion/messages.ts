/**
 * The commit messages promotion writes (subject, body, trailers) and the one-line form of a
 * gate. The git history is the deploy log, so these texts are part of the interface.
 */

import { gateLabel } from "./gates.ts";
import type { PlannedChange } from "./plan.ts";
import type { GateResult } from "./records.ts";

/** `<kind> <tier>: <first line>`, a blank line, then the rest. */
export function commitMessage(kind: string, tier: string, lines: string[]): string {
  return `${kind} ${tier}: ${lines[0]}\n\n${lines.slice(1).join("\n")}\n`;
}

/** One line per pin move: `<service>: <from> -> <to>`. */
export function changeLines(changes: readonly PlannedChange[]): string[] {
  return changes.map((c) => `${c.service}: ${c.from ?? "(nothing)"} -> ${c.to}`);
}

/** `<service>@<short digest>, …` of the pins that move, then the artefact commit. */
export function promotionSummary(changes: readonly PlannedChange[], commit: string | null): string {
  const moved = changes.filter((c) => c.from !== c.to);
  const services = moved.map((c) => `${c.service}@${c.to.slice(7, 19)}`).join(", ");
  return `${services}${commit ? ` (commit ${commit.slice(0, 12)})` : ""}`;
}

/** The message of a promotion commit. */
export function promotionMessage(input: {
  tier: string;
  changes: readonly PlannedChange[];
  commit: string | null;
  gates: readonly GateResult[];
  evidence: string;
  signer: string | null;
  by: string;
}): string {
  return commitMessage("promote", input.tier, [
    promotionSummary(input.changes, input.commit),
    ...changeLines(input.changes),
    "",
    "Gates:",
    ...input.gates.map((g) => `  ${g.ok ? "ok  " : "FAIL"} ${gateLabel(g)}`),
    "",
    `Evidence: ${input.evidence}${input.signer ? ` (signer ${input.signer})` : ""}`,
    `Promoted-by: ${input.by}`,
  ]);
}

/** The message of a rollback commit (manual, or automatic after a failed deploy). */
export function rollbackMessage(input: {
  tier: string;
  changes: readonly PlannedChange[];
  restoredFrom: string | null;
  reason: string;
  by: string;
}): string {
  return commitMessage("rollback", input.tier, [
    `${input.changes.map((c) => `${c.service}@${c.to.slice(7, 19)}`).join(", ")}${input.restoredFrom ? ` (restores pins of ${input.restoredFrom.slice(0, 12)})` : ""}`,
    ...changeLines(input.changes),
    "",
    `Reason: ${input.reason}`,
    `Rolled-back-by: ${input.by}`,
  ]);
}

/** The message of a rejection commit. */
export function rejectionMessage(digest: string, reason: string, by: string): string {
  return `reject ${digest.slice(0, 19)}: ${reason}\n\nDigest: ${digest}\nRejected-by: ${by}\n`;
}

/** The message of an approval commit. */
export function approvalMessage(tier: string, digest: string, by: string): string {
  return `approve ${tier}: ${digest.slice(0, 19)} by ${by}\n`;
}

/** The message of an override commit: which gate, for which digest, by whom and why. */
export function overrideMessage(
  tier: string,
  digest: string,
  gate: string,
  by: string,
  reason: string,
): string {
  return `override ${tier}: ${gate} waived for ${digest.slice(0, 19)} by ${by}\n\nReason: ${reason}\n`;
}

/** The message of a test-report commit. */
export function testReportMessage(commit: string, passed: boolean, summary: string): string {
  return `tests ${passed ? "passed" : "FAILED"} for ${commit.slice(0, 12)}: ${summary}\n`;
}

/** The message of a commit that adds signatures to passages. */
export function signMessage(
  tier: string,
  signed: ReadonlyArray<{ service: string; digest: string }>,
  signer: string | null,
): string {
  return `sign ${tier}: ${signed.map((r) => `${r.service}@${r.digest.slice(7, 19)}`).join(", ")}\n\nSigner: ${signer}\n`;
}
