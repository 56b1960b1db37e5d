/**
 * Security evidence of a published digest (issue 15): its SBOM, the vulnerability scanner's own
 * report, and the `security-scan` gate that judges the report against the tier's threshold.
 *
 * Layout under releases/ (keyed by digest, as every per-digest record is; refs.ts names them):
 *   releases/sboms/sha256-<hex>.cdx.json          CycloneDX JSON as the SBOM tool printed it
 *   releases/scans/sha256-<hex>.yaml              which report, which format, who recorded it
 *   releases/scans/sha256-<hex>.<format>.json     the scanner's own report, byte for byte
 *
 * The scan runs where the scanner reaches its vulnerability data (a user's CI); tiers only
 * reads the report, in the scanner's own format, so nothing here re-implements a scanner.
 */

import { TiersError } from "../errors.ts";
import { z } from "../zod.ts";
import type { RecordRead } from "./record-read.ts";
import { describeInvalid } from "./record-read.ts";
import { releasesDir } from "./records.ts";
import { digestFileName } from "./refs.ts";

/**
 * Severities from least to most severe, as grype names them (grype/vulnerability/severity.go:
 * "negligible", "low", "medium", "high", "critical"; "unknown" when the data has none).
 */
export const severities = ["negligible", "low", "medium", "high", "critical"] as const;
export type Severity = (typeof severities)[number];

/** `promotion.criteria.security`: the worst severity a candidate may still carry. */
export const securityCriteriaSchema = z.strictObject({
  /** Findings above this severity fail `security-scan`; findings of unknown severity always do. */
  max_severity: z.enum(severities),
});
export type SecurityCriteria = z.infer<typeof securityCriteriaSchema>;

/** Report formats tiers reads. */
export const scanFormats = ["grype"] as const;
export type ScanFormat = (typeof scanFormats)[number];

export const sbomsDir = `${releasesDir}/sboms`;
export const scansDir = `${releasesDir}/scans`;

export function sbomPath(digest: string): string {
  return `${sbomsDir}/${digestFileName(digest)}.cdx.json`;
}

export function scanRecordPath(digest: string): string {
  return `${scansDir}/${digestFileName(digest)}.yaml`;
}

export function scanReportPath(digest: string, format: ScanFormat): string {
  return `${scansDir}/${digestFileName(digest)}.${format}.json`;
}

/**
 * The part of grype's JSON report (`grype -o json`) the gate reads. Field names from
 * anchore/grype grype/presenter/models/{document,match,vulnerability,vulnerability_metadata,
 * package,descriptor}.go: `matches[].vulnerability.{id,severity}` (severity is the embedded
 * VulnerabilityMetadata's), `matches[].artifact.{name,version}`, `descriptor.{name,version}`,
 * `source.target.manifestDigest` for image scans. Other fields pass through unread.
 */
export const grypeReportSchema = z.looseObject({
  matches: z.array(
    z.looseObject({
      vulnerability: z.looseObject({
        id: z.string().min(1),
        /** Omitted (omitempty) when the data source gives none: treated as unknown. */
        severity: z.string().optional(),
      }),
      artifact: z.looseObject({ name: z.string(), version: z.string() }),
    }),
  ),
  source: z.looseObject({ type: z.string(), target: z.unknown() }).nullable().optional(),
  descriptor: z.looseObject({
    name: z.literal("grype"),
    version: z.string(),
    timestamp: z.string().optional(),
  }),
});
export type GrypeReport = z.infer<typeof grypeReportSchema>;

/** One finding, whichever scanner reported it. */
export interface Finding {
  id: string;
  /** A known severity, or "unknown" (the gate fails closed on it). */
  severity: Severity | "unknown";
  package: string;
  version: string;
}

/** What a report says, reduced to what the gate and `tiers plan` need. */
export interface ScanSummary {
  scanner: { name: string; version: string };
  findings: Finding[];
  /** The manifest digest the scanner saw, when it scanned an image (grype image sources). */
  scannedDigest?: string;
  /** When the scanner says it ran (grype's descriptor.timestamp), if it says. */
  scannedAt?: string;
}

function knownSeverity(value: string | undefined): Severity | "unknown" {
  const lower = (value ?? "").toLowerCase();
  return (severities as readonly string[]).includes(lower) ? (lower as Severity) : "unknown";
}

/** A grype report, summarised. */
export function summariseGrype(report: GrypeReport): ScanSummary {
  const target = report.source?.target;
  const manifestDigest =
    report.source?.type === "image" && target && typeof target === "object"
      ? (target as { manifestDigest?: unknown }).manifestDigest
      : undefined;
  return {
    scanner: { name: report.descriptor.name, version: report.descriptor.version },
    findings: report.matches.map((m) => ({
      id: m.vulnerability.id,
      severity: knownSeverity(m.vulnerability.severity),
      package: m.artifact.name,
      version: m.artifact.version,
    })),
    ...(typeof manifestDigest === "string" && manifestDigest
      ? { scannedDigest: manifestDigest }
      : {}),
    ...(report.descriptor.timestamp ? { scannedAt: report.descriptor.timestamp } : {}),
  };
}

/** The schema a format's report is read with, and how it is summarised. */
export const scanReaders: Record<
  ScanFormat,
  { schema: z.ZodType<unknown>; summarise: (report: never) => ScanSummary }
> = {
  grype: { schema: grypeReportSchema, summarise: summariseGrype },
};

/** A report of `format`, read straight into its summary (what the git record reader takes). */
export function scanSummarySchema(format: ScanFormat): z.ZodType<ScanSummary> {
  const reader = scanReaders[format];
  return reader.schema.transform((report) =>
    (reader.summarise as (report: unknown) => ScanSummary)(report),
  ) as unknown as z.ZodType<ScanSummary>;
}

/** Parses a report's text in `format`; every problem names `where` and the field. */
export function readScanReport(format: ScanFormat, text: string, where: string): ScanSummary {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TiersError(`${format} report is not JSON: ${(error as Error).message}`, { where });
  }
  const parsed = scanSummarySchema(format).safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
      .join("; ");
    throw new TiersError(`not a ${format} JSON report: ${problems}`, {
      where,
      hint: `record the report exactly as the scanner wrote it (${format} -o json)`,
    });
  }
  return parsed.data;
}

/** `releases/scans/sha256-<hex>.yaml`: which report of which format speaks for a digest. */
export const scanRecordSchema = z.strictObject({
  kind: z.literal("scan"),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex>"),
  format: z.enum(scanFormats),
  /** The report file, relative to the repository root. */
  report: z.string().min(1),
  scanner: z.strictObject({ name: z.string(), version: z.string() }),
  recorded_by: z.string(),
  recorded_at: z.string(),
});
export type ScanRecord = z.infer<typeof scanRecordSchema>;

/** Counts by severity, most severe first, e.g. `1 critical, 2 low`; `no findings` when none. */
export function severityCounts(findings: readonly Finding[]): string {
  const order: ReadonlyArray<Severity | "unknown"> = ["unknown", ...[...severities].reverse()];
  const parts = order
    .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return parts.length ? parts.join(", ") : "no findings";
}

/** Findings above `max`: unknown severities count as above any threshold (fail closed). */
export function findingsAbove(findings: readonly Finding[], max: Severity): Finding[] {
  const limit = severities.indexOf(max);
  return findings.filter((f) => f.severity === "unknown" || severities.indexOf(f.severity) > limit);
}

/** The scan evidence of one digest as fact gathering found it. */
export type ScanFact =
  | { state: "record"; read: RecordRead<ScanRecord> }
  | { state: "report"; record: ScanRecord; read: RecordRead<ScanSummary> };

/**
 * The `security-scan` verdict of one digest. Passes only on a readable report of the digest
 * with no finding above the threshold; a missing threshold, record or report, or one that
 * cannot be read, fails closed naming the file.
 */
export function securityVerdict(
  criteria: SecurityCriteria | undefined,
  digest: string | undefined,
  fact: ScanFact | undefined,
): { ok: boolean; why: string } {
  if (!criteria) {
    return {
      ok: false,
      why: "the tier lists security-scan but declares no promotion.criteria.security.max_severity",
    };
  }
  if (!digest || !fact) return { ok: false, why: "no digest, so no scan report to judge" };
  if (fact.state === "record") {
    const read = fact.read;
    if (read.state === "absent") {
      return {
        ok: false,
        why: `no scan recorded for ${digest.slice(0, 19)} (${read.file}); scan it in CI and run \`tiers record-scan --digest ${digest} --report <file> --format grype\``,
      };
    }
    if (read.state === "invalid") {
      return { ok: false, why: `scan record cannot be read: ${describeInvalid(read)}` };
    }
    return { ok: false, why: "scan report was not read" };
  }
  const read = fact.read;
  if (read.state === "absent") {
    return {
      ok: false,
      why: `${scanRecordPath(fact.record.digest)} names ${read.file}, which is not in git`,
    };
  }
  if (read.state === "invalid") {
    return { ok: false, why: `scan report cannot be read: ${describeInvalid(read)}` };
  }
  const summary = read.value;
  if (summary.scannedDigest && summary.scannedDigest !== digest) {
    return {
      ok: false,
      why: `${read.file} is a scan of ${summary.scannedDigest}, not of ${digest}`,
    };
  }
  const scanner = `${summary.scanner.name} ${summary.scanner.version}`;
  const above = findingsAbove(summary.findings, criteria.max_severity);
  if (above.length > 0) {
    const named = above
      .slice(0, 3)
      .map((f) => `${f.id} (${f.severity}, ${f.package}@${f.version})`)
      .join(", ");
    const more = above.length > 3 ? ` and ${above.length - 3} more` : "";
    return {
      ok: false,
      why: `${above.length} finding(s) above ${criteria.max_severity}: ${named}${more} (${scanner}, ${read.file})`,
    };
  }
  return {
    ok: true,
    why: `nothing above ${criteria.max_severity}: ${severityCounts(summary.findings)} (${scanner}, ${read.file})`,
  };
}

/**
 * The part of a CycloneDX JSON BOM `tiers plan` summarises (CycloneDX 1.5 JSON schema:
 * bomFormat "CycloneDX", specVersion, components[].{name,version,scope}).
 */
export const cycloneDxSchema = z.looseObject({
  bomFormat: z.literal("CycloneDX"),
  specVersion: z.string(),
  components: z
    .array(
      z.looseObject({
        name: z.string(),
        version: z.string().optional(),
        scope: z.string().optional(),
      }),
    )
    .default([]),
});
export type CycloneDx = z.infer<typeof cycloneDxSchema>;

/**
 * Components the image installs: npm marks dev and optional dependencies `scope: optional`
 * (npm/cli lib/utils/sbom-cyclonedx.js: `(node.optional || node.devOptional) ? 'optional' :
 * 'required'`), and the production image installs `--omit=dev`.
 */
export function requiredComponents(bom: CycloneDx): number {
  return bom.components.filter((c) => (c.scope ?? "required") === "required").length;
}
