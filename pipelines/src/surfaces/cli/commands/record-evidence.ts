/**
 * `tiers record-evidence --commit <sha> [--engine host|dagger]`: commits the SBOM and SLSA
 * provenance of a published commit's digests under releases/ (and attests them when
 * TIERS_COSIGN_KEY is set), as `tiers publish` does on the host. For an engine that pushed the
 * images somewhere else: `dagger call publish` runs this on a fresh clone of the git remote, so
 * both engines record one evidence format, made by one function (engines/host/supply-chain.ts).
 */
import type { Command } from "commander";
import { fullCommit } from "../../../core/artefact.ts";
import { UsageError } from "../../../core/errors.ts";
import { recordPublishedEvidence } from "../../../engines/host/supply-chain.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

const engines = ["host", "dagger"] as const;

interface RecordEvidenceFlags {
  commit: string;
  engine: string;
  startedOn?: string;
  finishedOn?: string;
}

function timestamp(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value))) {
    throw new UsageError(`${flag} must be an ISO 8601 time, got "${value}"`);
  }
  return new Date(value).toISOString();
}

export const registerRecordEvidence: RegisterCommand = (program) => {
  program
    .command("record-evidence")
    .description(
      "record the SBOM and SLSA provenance of a published commit's digests in git (what plan shows and security evidence builds on)",
    )
    .requiredOption("--commit <sha>", "the published commit (its .tiers/artefacts/ record)")
    .option("--engine <engine>", `the engine that built the images (${engines.join(", ")})`, "host")
    .option("--started-on <time>", "when the builds started (default: the record's created)")
    .option("--finished-on <time>", "when the builds finished (default: the record's created)")
    .addHelpText(
      "after",
      `
The SBOMs are made with \`npm sbom\` from this checkout's lock file, which must be the
published commit's (anything else fails and records nothing). \`tiers publish\` records the
same evidence itself; this command is for an engine that published elsewhere.

Examples:
  $ tiers record-evidence --commit <sha> --engine dagger`,
    )
    .action(async (flags: RecordEvidenceFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      if (!(engines as readonly string[]).includes(flags.engine)) {
        throw new UsageError(`--engine must be ${engines.join(" or ")}, got "${flags.engine}"`);
      }
      const startedOn = timestamp("--started-on", flags.startedOn);
      const finishedOn = timestamp("--finished-on", flags.finishedOn);
      const commit = await recordPublishedEvidence({
        root: cli.root,
        commit: fullCommit(flags.commit),
        engine: flags.engine as (typeof engines)[number],
        reporter: cli.reporter,
        ...(startedOn ? { startedOn } : {}),
        ...(finishedOn ? { finishedOn } : {}),
      });
      cli.reporter.info(undefined, `committed ${commit.slice(0, 12)}`);
    });
};
