/**
 * The supply-chain evidence block of a promotion plan (issue 15): each candidate's SBOM, scan
 * summary and provenance, printed by `tiers plan` just above the gates. Informational: only
 * the `security-scan` gate decides anything, so a missing SBOM is named, not fatal.
 */
import type { OutputLine } from "./gates.ts";

export interface SupplyChainLine {
  service: string;
  kind: "sbom" | "scan" | "provenance";
  /** Whether the evidence is recorded and readable. */
  ok: boolean;
  text: string;
}

/** `evidence:` and one line per service and kind, e.g. `  sbom [api]: CycloneDX 1.5, …`. */
export function supplyChainPlanLines(lines: readonly SupplyChainLine[]): OutputLine[] {
  if (lines.length === 0) return [];
  return [
    { level: "info", text: "evidence (releases/):" },
    ...lines.map((l) => ({
      level: "info" as const,
      text: `  ${l.ok ? "·" : "?"} ${l.kind} [${l.service}]: ${l.text}`,
    })),
  ];
}
