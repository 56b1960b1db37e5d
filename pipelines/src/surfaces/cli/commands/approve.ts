/** `tiers approve --env <tier> --digest <sha256>`: one approval, for tiers with approvals.source: record. */
import type { Command } from "commander";
import { UsageError } from "../../../core/errors.ts";
import { parseDigest } from "../../../core/promotion/refs.ts";
import { approve } from "../../../engines/host/promotion/records.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

export const registerApprove: RegisterCommand = (program) => {
  program
    .command("approve")
    .description("record your approval of a digest for a tier (approvals.source: record)")
    .option("--env <tier>", "the tier the approval is for")
    .option("--digest <sha256>", "the digest approved")
    .option("--note <text>", "a note kept with the approval")
    .addHelpText(
      "after",
      `
The approver is the git user (or the CI actor). Approving twice changes nothing; a tier that
needs N approvals needs N distinct approvers in releases/approvals/<tier>/<digest>.yaml.

Example:
  $ tiers approve --env prod --digest sha256:… --note "reviewed the canary"`,
    )
    .action(async (flags: { env?: string; digest?: string; note?: string }, cmd: Command) => {
      const cli = contextFrom(cmd);
      if (!flags.env) throw new UsageError("missing --env <tier>");
      if (!flags.digest) throw new UsageError("missing --digest <sha256:…>");
      const digest = parseDigest(flags.digest);
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
