/**
 * The security-scan gate and the readers behind it, fed grype reports recorded in grype's own
 * JSON format (test/fixtures/security/grype/, from anchore/grype's presenter snapshots).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateSources } from "../../../../pipelines/src/core/environment/index.ts";
import {
  type CandidateFacts,
  candidateGates,
  requiredGates,
} from "../../../../pipelines/src/core/promotion/gates.ts";
import { readRecordText } from "../../../../pipelines/src/core/promotion/record-read.ts";
import {
  findingsAbove,
  readScanReport,
  type ScanFact,
  type ScanRecord,
  scanRecordPath,
  scanReportPath,
  scanSummarySchema,
  securityVerdict,
  severityCounts,
} from "../../../../pipelines/src/core/promotion/security.ts";
import { edit } from "../environment/fixtures.ts";

const fixtures = join(import.meta.dirname, "../../../fixtures/security/grype");
const report = (name: string) => readFileSync(join(fixtures, name), "utf8");
const digest = `sha256:${"a".repeat(64)}`;

const record: ScanRecord = {
  kind: "scan",
  digest,
  format: "grype",
  report: scanReportPath(digest, "grype"),
  scanner: { name: "grype", version: "[not provided]" },
  recorded_by: "ci",
  recorded_at: "2026-12-01T00:00:00.000Z",
};

/** The fact fact-gathering builds from a report text read from git. */
function reportFact(text: string | undefined): ScanFact {
  return {
    state: "report",
    record,
    read: readRecordText(scanSummarySchema("grype"), text, record.report),
  };
}

describe("grype JSON report reader (grype's own presenter snapshots)", () => {
  it("grype snapshot TestJsonImgsPresenter: reads each match's id, severity and package, and the scanned manifest digest", () => {
    const summary = readScanReport("grype", report("TestJsonImgsPresenter.golden"), "r.json");
    expect(summary.scanner).toEqual({ name: "grype", version: "[not provided]" });
    expect(summary.findings).toEqual([
      { id: "CVE-1999-0001", severity: "low", package: "package-1", version: "1.1.1" },
      { id: "CVE-1999-0002", severity: "critical", package: "package-2", version: "2.2.2" },
    ]);
    expect(summary.scannedDigest).toBe(
      "sha256:ca738abb87a8d58f112d3400ebb079b61ceae7dc290beb34bda735be4b1941d5",
    );
    expect(severityCounts(summary.findings)).toBe("1 critical, 1 low");
  });

  it("grype snapshot TestJsonDirsPresenter: a directory scan names no digest", () => {
    const summary = readScanReport("grype", report("TestJsonDirsPresenter.golden"), "r.json");
    expect(summary.scannedDigest).toBeUndefined();
    expect(summary.findings).toHaveLength(2);
  });

  it("grype snapshot TestEmptyJsonPresenter: no matches is no findings", () => {
    const summary = readScanReport("grype", report("TestEmptyJsonPresenter.golden"), "r.json");
    expect(severityCounts(summary.findings)).toBe("no findings");
  });

  it("refuses what is not a grype report, naming the file and the field", () => {
    expect(() => readScanReport("grype", "{", "bad.json")).toThrow(/not JSON/);
    expect(() => readScanReport("grype", '{"matches": []}', "bad.json")).toThrow(
      /not a grype JSON report: descriptor/,
    );
    const trivy = JSON.stringify({ SchemaVersion: 2, Results: [] });
    expect(() => readScanReport("grype", trivy, "trivy.json")).toThrow(/matches/);
  });

  it("a missing or unrecognised severity is unknown, and unknown is above every threshold", () => {
    const doc = JSON.parse(report("TestJsonDirsPresenter.golden"));
    delete doc.matches[0].vulnerability.severity;
    doc.matches[1].vulnerability.severity = "Serious";
    const summary = readScanReport("grype", JSON.stringify(doc), "r.json");
    expect(summary.findings.map((f) => f.severity)).toEqual(["unknown", "unknown"]);
    expect(findingsAbove(summary.findings, "critical")).toHaveLength(2);
  });
});

describe("security-scan verdict", () => {
  const high = { max_severity: "high" } as const;

  it("grype report with a Critical finding fails max_severity high, naming the finding and the file", () => {
    const verdict = securityVerdict(
      high,
      digest,
      reportFact(report("TestJsonDirsPresenter.golden")),
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.why).toMatch(
      /1 finding\(s\) above high: CVE-1999-0002 \(critical, package-2@2\.2\.2\)/,
    );
    expect(verdict.why).toContain(record.report);
  });

  it("grype report with only a Low finding passes max_severity high, and fails max_severity negligible", () => {
    const fact = reportFact(report("dir-low-only.golden"));
    expect(securityVerdict(high, digest, fact)).toEqual({
      ok: true,
      why: `nothing above high: 1 low (grype [not provided], ${record.report})`,
    });
    expect(securityVerdict({ max_severity: "negligible" }, digest, fact).ok).toBe(false);
  });

  it("grype image report of another digest fails: the scan is not of this candidate", () => {
    const verdict = securityVerdict(
      high,
      digest,
      reportFact(report("TestJsonImgsPresenter.golden")),
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.why).toMatch(/is a scan of sha256:ca738abb.*, not of sha256:aaaa/);
  });

  it("fails closed: no record, an unreadable record, a report missing from git, an unreadable report, no threshold", () => {
    const absent: ScanFact = {
      state: "record",
      read: { state: "absent", file: scanRecordPath(digest) },
    };
    expect(securityVerdict(high, digest, absent).why).toMatch(
      /no scan recorded .*releases\/scans\/sha256-a{64}\.yaml.*tiers record-scan/,
    );
    const broken: ScanFact = {
      state: "record",
      read: {
        state: "invalid",
        file: scanRecordPath(digest),
        where: `${scanRecordPath(digest)}:3:1`,
        why: "record is malformed: format: Invalid option",
      },
    };
    expect(securityVerdict(high, digest, broken)).toEqual({
      ok: false,
      why: `scan record cannot be read: ${scanRecordPath(digest)}:3:1: record is malformed: format: Invalid option`,
    });
    const missing = securityVerdict(high, digest, reportFact(undefined));
    expect(missing.ok).toBe(false);
    expect(missing.why).toMatch(
      /names releases\/scans\/sha256-a{64}\.grype\.json, which is not in git/,
    );
    const garbled = securityVerdict(high, digest, reportFact('{"matches": [{}]'));
    expect(garbled.ok).toBe(false);
    expect(garbled.why).toMatch(
      /^scan report cannot be read: releases\/scans\/sha256-a{64}\.grype\.json/,
    );
    expect(
      securityVerdict(undefined, digest, reportFact(report("dir-low-only.golden"))).why,
    ).toMatch(/declares no promotion\.criteria\.security/);
  });

  it("candidateGates runs security-scan only when the tier lists it, and fails closed without facts", () => {
    const facts: CandidateFacts = {
      candidate: {
        service: "svc",
        repository: "127.0.0.1:5000/x/svc",
        reference: `127.0.0.1:5000/x/svc@${digest}`,
        digest,
        commit: "c".repeat(40),
      },
      previousTier: "t1",
      previousIsChainStart: false,
      passage: { ok: true, why: "ok" },
      signature: { ok: true, why: "ok" },
      tests: { ok: true, value: { passed: true, where: "w", summary: "s" } },
      labels: { ok: true, value: {} },
      registryDigest: { ok: true, value: digest },
      rejection: { state: "absent", file: "f" },
    };
    const without = requiredGates(["passage"], false);
    expect(candidateGates("p", facts, without).some((g) => g.gate === "security-scan")).toBe(false);
    const withScan = requiredGates(["passage", "security-scan"], false);
    const unread = candidateGates("p", facts, withScan).find((g) => g.gate === "security-scan");
    expect(unread).toMatchObject({
      ok: false,
      why: "the scan report was not read",
      service: "svc",
    });
    const judged = candidateGates(
      "p",
      { ...facts, security: { criteria: high, scan: reportFact(report("dir-low-only.golden")) } },
      withScan,
    ).find((g) => g.gate === "security-scan");
    expect(judged?.ok).toBe(true);
  });
});

describe("promotion.criteria.security in a tier file (fixture chain)", () => {
  const fixtureDir = join(import.meta.dirname, "../../../fixtures/environments/chain");
  const files = () =>
    Object.fromEntries(
      readdirSync(fixtureDir)
        .filter((n) => n.endsWith(".yaml"))
        .map((n) => [n, readFileSync(join(fixtureDir, n), "utf8")]),
    );
  const validate = (f: Record<string, string>) =>
    validateSources(Object.entries(f).map(([n, text]) => ({ file: `environments/${n}`, text })));
  const withSecurity = (criteria: string | null) => {
    const f = files();
    f["prod.yaml"] = edit(
      f["prod.yaml"]!,
      "gates: [passage, signature, not-rejected, no-dev-image, approvals]",
      `gates: [passage, signature, not-rejected, no-dev-image, approvals, security-scan]${criteria === null ? "" : `\n  criteria:\n    security: { max_severity: ${criteria} }`}`,
    );
    return f;
  };

  it("a known severity validates and reaches the model", () => {
    const result = validate(withSecurity("high"));
    expect(result.problems).toEqual([]);
    expect(result.model!.tiers.prod!.promotion.criteria).toEqual({
      security: { max_severity: "high" },
    });
  });

  it("an unknown severity is refused at its field; security-scan without a threshold at gates", () => {
    const bad = validate(withSecurity("severe")).problems;
    expect(bad.map((p) => p.path)).toContain("promotion.criteria.security.max_severity");
    const none = validate(withSecurity(null)).problems;
    expect(none).toEqual([
      expect.objectContaining({
        file: "environments/prod.yaml",
        path: "promotion.gates",
        message: expect.stringMatching(/security-scan needs a threshold/),
      }),
    ]);
  });
});
