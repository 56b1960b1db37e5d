/**
 * The security and provenance evidence of a candidate digest, read from git at HEAD like every
 * other promotion record: the scan record and the scanner's report (for the `security-scan`
 * gate), and the SBOM and provenance `tiers plan` shows next to the gates.
 */
import type { z } from "zod";
import type { Candidate } from "../../../core/promotion/gates.ts";
import {
  describeProvenance,
  provenanceDir,
  provenancePath,
  provenanceSchema,
} from "../../../core/promotion/provenance.ts";
import { describeInvalid, type RecordRead } from "../../../core/promotion/record-read.ts";
import {
  cycloneDxSchema,
  requiredComponents,
  type ScanFact,
  sbomPath,
  sbomsDir,
  scanRecordPath,
  scanRecordSchema,
  scanSummarySchema,
  scansDir,
  severityCounts,
} from "../../../core/promotion/security.ts";
import type { SupplyChainLine } from "../../../core/promotion/supply-chain-plan.ts";
import { type PromotionSources, readRecord } from "./sources.ts";

/** The scan of a digest: its record, then the report the record names. */
export async function scanFact(
  records: PromotionSources["records"],
  digest: string,
): Promise<ScanFact> {
  const read = await readRecord(records, scanRecordSchema, scanRecordPath(digest));
  if (read.state !== "present") return { state: "record", read };
  const record = read.value;
  if (record.digest !== digest) {
    return {
      state: "record",
      read: {
        state: "invalid",
        file: read.file,
        where: read.file,
        why: `names digest ${record.digest}, expected ${digest}`,
      },
    };
  }
  const report = await readRecord(records, scanSummarySchema(record.format), record.report);
  return { state: "report", record, read: report };
}

function describe<T>(read: RecordRead<T>, present: (value: T) => string): string {
  if (read.state === "present") return `${present(read.value)} (${read.file})`;
  if (read.state === "absent") return `none recorded (${read.file})`;
  return `UNREADABLE: ${describeInvalid(read)}`;
}

/**
 * The evidence files in git at HEAD: one listing per directory (cached by the repository), so
 * a plan reads only the files that exist instead of asking git for each absent one.
 */
export async function recordedEvidence(records: PromotionSources["records"]): Promise<Set<string>> {
  const dirs = [sbomsDir, provenanceDir, scansDir];
  return new Set((await Promise.all(dirs.map((dir) => records.files(dir)))).flat());
}

/** The lines `tiers plan` prints about one candidate's SBOM, scan and provenance. */
export async function supplyChainLines(
  records: PromotionSources["records"],
  candidate: Candidate,
  recorded: ReadonlySet<string>,
  scan?: ScanFact,
): Promise<SupplyChainLine[]> {
  const digest = candidate.digest;
  if (!digest) return [];
  const read = <T>(schema: z.ZodType<T>, path: string): Promise<RecordRead<T>> =>
    recorded.has(path)
      ? readRecord(records, schema, path)
      : Promise.resolve({ state: "absent", file: path });
  const [sbom, provenance, scanned] = await Promise.all([
    read(cycloneDxSchema, sbomPath(digest)),
    read(provenanceSchema, provenancePath(digest)),
    scan ??
      (recorded.has(scanRecordPath(digest))
        ? scanFact(records, digest)
        : ({
            state: "record",
            read: { state: "absent", file: scanRecordPath(digest) },
          } satisfies ScanFact)),
  ]);
  const scanText =
    scanned.state === "record"
      ? describe(scanned.read, () => "")
      : describe(
          scanned.read,
          (s) => `${s.scanner.name} ${s.scanner.version}: ${severityCounts(s.findings)}`,
        );
  return [
    {
      service: candidate.service,
      kind: "sbom",
      ok: sbom.state === "present",
      text: describe(
        sbom,
        (b) => `CycloneDX ${b.specVersion}, ${requiredComponents(b)} installed component(s)`,
      ),
    },
    {
      service: candidate.service,
      kind: "scan",
      ok: scanned.state === "report" && scanned.read.state === "present",
      text: scanText,
    },
    {
      service: candidate.service,
      kind: "provenance",
      ok: provenance.state === "present",
      text: describe(provenance, describeProvenance),
    },
  ];
}
