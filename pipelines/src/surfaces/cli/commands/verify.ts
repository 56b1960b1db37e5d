/** `tiers verify --env <tier>`: check passages and signatures against the tier's signing policy. */
import type { Command } from "commander";
import { ExitCode } from "../../../core/errors.ts";
import { verifyPassages } from "../../../engines/host/promotion/passages.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";
import { requestFrom, type SelectionFlags } from "../selection.ts";

export const registerVerify: RegisterCommand = (program) => {
  program
    .command("verify")
    .description("verify the passage records and signatures of a tier's digests; changes nothing")
    .option("--env <tier>", "the tier whose passages are verified")
    .option("--digest <sha256>", "this digest (default: what the tier holds now)")
    .option("--commit <sha>", "every image of this published commit")
    .option("--service <name>", "only this service")
    .option("--evidence <kind>", "cosign (verify signatures) or local (records and registry only)")
    .option("--json", "print the results as JSON")
    .addHelpText(
      "after",
      `
Exit code 1 when a passage record is missing, the registry no longer serves the digest, or the
signature is missing, by the wrong signer, or bound to another digest.

Example:
  $ tiers verify --env prod`,
    )
    .action(async (flags: SelectionFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      const request = requestFrom(cli, flags, "verify");
      const marker = await cli.marker(request.tier);
      const results = await verifyPassages({ ...request, model: await cli.model() });
      if (flags.json) cli.reporter.raw(JSON.stringify(results, null, 2));
      let failed = false;
      for (const r of results) {
        for (const [what, check] of [
          ["passage", r.passage],
          ["signature", r.signature],
        ] as const) {
          failed ||= !check.ok;
          if (flags.json) continue;
          const line = `${check.ok ? "✓" : "✗"} ${r.service}@${r.digest.slice(0, 19)} ${what}: ${check.why}`;
          if (check.ok) cli.reporter.info(request.tier, line, marker);
          else cli.reporter.error(request.tier, line, marker);
        }
      }
      if (failed) process.exitCode = ExitCode.failure;
    });
};
