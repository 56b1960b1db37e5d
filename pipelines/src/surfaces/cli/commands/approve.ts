/** `tiers approve --env <tier> --digest <sha256>`: one approval, for tiers with approvals.source: record. */
import type { Command } from "commander";
import { UsageError } from "../../../core/errors.ts";
import { parseDigest } from "../../../core/promotion/refs.ts";
import { recordOverride } from "../../../engines/host/promotion/overrides.ts";
import { approve } from "../../../engines/host/promotion/records.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

interface ApproveFlags {
  env?: string;
  digest?: string;
  note?: string;
  override?: string;
  reason?: string;
}

export const registerApprove: RegisterCommand = (program) => {
  program
    .command("approve")
    .description("record your approval of a digest for a tier (approvals.source: record)")
    .option("--env <tier>", "the tier the approval is for")
    .option("--digest <sha256>", "the digest approved")
    .option("--note <text>", "a note kept with the approval")
    .option(
      "--override <gate>",
      "waive a time gate (soak or window) for this digest, where the tier's promotion.overrides allows it",
    )
    .option("--reason <text>", "with --override: why (required; kept in the passage record)")
    .addHelpText(
      "after",
      `
The approver is the git user (or the CI actor). Approving twice changes nothing; a tier that
needs N approvals needs N distinct approvers in releases/approvals/<tier>/<digest>.yaml.

With --override soak|window and --reason, it records instead an override of that time gate in
releases/overrides/<tier>/<digest>.yaml; the next promotion of the digest passes the gate as
WAIVED and its passage record keeps who, when and why.

Examples:
  $ tiers approve --env prod --digest sha256:… --note "reviewed the canary"
  $ tiers approve --env prod --digest sha256:… --override window --reason "INC-42 hotfix"`,
    )
    .action(async (flags: ApproveFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      if (!flags.env) throw new UsageError("missing --env <tier>");
      if (!flags.digest) throw new UsageError("missing --digest <sha256:…>");
      const digest = parseDigest(flags.digest);
      if (flags.override !== undefined || flags.reason !== undefined) {
        if (flags.override === undefined) throw new UsageError("--reason goes with --override");
        const result = await recordOverride({
          root: cli.root,
          tier: flags.env,
          digest,
          gate: flags.override,
          reason: flags.reason ?? "",
        });
        const marker = await cli.marker(flags.env);
        cli.reporter.info(
          flags.env,
          result.changed
            ? `override of ${flags.override} recorded for ${digest} entering ${flags.env} (commit ${result.commit?.slice(0, 12)})`
            : `you already recorded an override of ${flags.override} for ${digest} — nothing changed`,
          marker,
        );
        return;
      }
      const result = await approve({
        root: cli.root,
        tier: flags.env,
        digest,
        ...(flags.note ? { note: flags.note } : {}),
      });
      const marker = await cli.marker(flags.env);
      const names = result.record.approvals.map((a) => a.by).join(", ");
      cli.reporter.info(
        flags.env,
        result.changed
          ? `approved ${digest} for ${flags.env} (approvals: ${names}; commit ${result.commit?.slice(0, 12)})`
          : `you already approved ${digest} for ${flags.env} (approvals: ${names}) — nothing changed`,
        marker,
      );
    });
};
