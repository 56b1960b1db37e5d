/**
 * `tiers record-scan (--digest <sha256:…> | --commit <sha> --service <s>) --report <file>
 * [--format grype] [--repository <repo>]`:
 * records a vulnerability scanner's own report of a published digest in git
 * (releases/scans/), where the security-scan gate reads it. The scan itself runs where the
 * scanner reaches its vulnerability data (a CI job); tiers reads its report, never re-scans.
 */
import type { Command } from "commander";
import { fullCommit } from "../../../core/artefact.ts";
import { scanFormats } from "../../../core/promotion/security.ts";
import { recordScan } from "../../../engines/host/supply-chain.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

interface RecordScanFlags {
  digest?: string;
  commit?: string;
  service?: string;
  report: string;
  format: string;
  repository?: string;
}

export const registerRecordScan: RegisterCommand = (program) => {
  program
    .command("record-scan")
    .description(
      "record a vulnerability scanner's report of a digest in git (what the security-scan gate reads)",
    )
    .option("--digest <sha256:…>", "the published digest the report is about")
    .option(
      "--commit <sha>",
      "with --service: the digest is that service's in the commit's artefact record",
    )
    .option("--service <name>", "with --commit: the service whose published image was scanned")
    .requiredOption("--report <file>", "the scanner's report, exactly as it wrote it")
    .option("--format <format>", `report format (${scanFormats.join(", ")})`, "grype")
    .option(
      "--repository <repo>",
      "the digest's repository (<registry>/<namespace>/<service>), to attest the report to repo@digest with cosign when TIERS_COSIGN_KEY is set (default: from the artefact record in .tiers/artefacts/ naming the digest)",
    )
    .addHelpText(
      "after",
      `
The report is checked to read in its format (and, for an image scan, to be about this digest),
then committed as releases/scans/sha256-<hex>.<format>.json with a record naming it. The
security-scan gate reads both from HEAD and judges them by promotion.criteria.security.

Examples:
  $ grype 127.0.0.1:5000/tiers/api@sha256:… -o json > api.grype.json   (in CI)
  $ tiers record-scan --digest sha256:… --report api.grype.json --format grype
  $ tiers record-scan --commit <sha> --service api --report api.grype.json   (scanned by tag)`,
    )
    .action(async (flags: RecordScanFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      const { commit } = await recordScan({
        root: cli.root,
        ...(flags.digest !== undefined ? { digest: flags.digest } : {}),
        ...(flags.commit !== undefined ? { commit: fullCommit(flags.commit) } : {}),
        ...(flags.service !== undefined ? { service: flags.service } : {}),
        report: flags.report,
        format: flags.format,
        reporter: cli.reporter,
        ...(flags.repository ? { repository: flags.repository } : {}),
      });
      cli.reporter.info(undefined, `committed ${commit.slice(0, 12)}`);
    });
};
