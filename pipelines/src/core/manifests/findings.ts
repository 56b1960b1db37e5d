/**
 * A finding about rendered manifests: which rule, which object, which field, what is wrong and
 * what the tier config expected. Shared by the schema, policy and drift checks so a report is
 * one list in one format.
 */
import { TiersError } from "../errors.ts";

/** One problem with a rendered overlay. */
export interface ManifestFinding {
  /** Rule id, e.g. `policy/non-root` or `drift/replicas`; documented in docs/k8s.md. */
  rule: string;
  /** `Kind/name` of the object, or the overlay itself when an object is missing. */
  object: string;
  /** Field path inside the object (`spec.replicas`, `/spec/template/...`); "" for the object. */
  path: string;
  message: string;
}

/** `Kind/name path: message [rule]`: one line per finding. */
export function formatFinding(finding: ManifestFinding): string {
  const at = finding.path ? `${finding.object} ${finding.path}` : finding.object;
  return `${at}: ${finding.message} [${finding.rule}]`;
}

/** The rendered overlay breaks schema, policy or agreement with its tier config. */
export class ManifestError extends TiersError {
  readonly findings: readonly ManifestFinding[];

  constructor(overlay: string, findings: readonly ManifestFinding[]) {
    const count = findings.length === 1 ? "1 problem" : `${findings.length} problems`;
    super(`rendered overlay has ${count}:\n  ${findings.map(formatFinding).join("\n  ")}`, {
      where: overlay,
      hint: "fix the overlay (or the tier's environments file), then run `tiers deploy --env <tier> --dry-run`",
    });
    this.findings = findings;
  }
}
