/** `tiers reject --digest <sha256> --reason "…"`: an artefact that may never be promoted again. */
import type { Command } from "commander";
import { UsageError } from "../../../core/errors.ts";
import { parseDigest } from "../../../core/promotion/refs.ts";
import { reject } from "../../../engines/host/promotion/records.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

export const registerReject: RegisterCommand = (program) => {
  program
    .command("reject")
    .description(
      "mark a digest as never promotable again (recorded in git under releases/rejections/)",
    )
    .option("--digest <sha256>", "the digest to reject")
    .option("--reason <text>", "why (kept in the record and the commit message)")
    .addHelpText(
      "after",
      `
Every gate refuses a rejected digest, and rollback refuses to restore it. A digest that is
pinned somewhere stays pinned: \`tiers status\` flags it, and \`tiers rollback\` moves off it.

Example:
  $ tiers reject --digest sha256:… --reason "leaks memory under load (INC-42)"`,
    )
    .action(async (flags: { digest?: string; reason?: string }, cmd: Command) => {
      const cli = contextFrom(cmd);
      if (!flags.digest) throw new UsageError("missing --digest <sha256:…>");
      if (!flags.reason?.trim()) throw new UsageError('missing --reason "why it must never ship"');
      const result = await reject({
        root: cli.root,
        digest: parseDigest(flags.digest),
        reason: flags.reason,
      });
      cli.reporter.info(
        undefined,
        result.changed
          ? `rejected ${result.record.digest}: ${result.record.reason} (commit ${result.commit?.slice(0, 12)})`
          : `${result.record.digest} was already rejected by ${result.record.rejected_by} at ${result.record.rejected_at}: ${result.record.reason} — nothing changed`,
      );
    });
};
