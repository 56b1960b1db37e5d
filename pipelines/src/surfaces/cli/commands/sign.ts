/** `tiers sign --env <tier>`: sign digests that passed a tier, with the policy governing its passages. */
import type { Command } from "commander";
import { signPassages } from "../../../engines/host/promotion/passages.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";
import { requestFrom, type SelectionFlags } from "../selection.ts";

export const registerSign: RegisterCommand = (program) => {
  program
    .command("sign")
    .description("sign the passage of digests that passed a tier (cosign, annotated with the tier)")
    .option("--env <tier>", "the tier whose passage is signed")
    .option("--digest <sha256>", "this digest (default: what the tier holds now)")
    .option("--commit <sha>", "every image of this published commit")
    .option("--service <name>", "only this service")
    .option("--evidence <kind>", "must be cosign (the default); signing makes cosign evidence")
    .addHelpText(
      "after",
      `
A digest must already have passed the tier (its record releases/passages/<tier>/… exists):
signing never replaces the gates. The signer is the one the next tier's signing policy names
(key: signing.key with COSIGN_PASSWORD; keyless: SIGSTORE_ID_TOKEN or TIERS_OIDC_TOKEN_FILE).

Example:
  $ tiers sign --env staging`,
    )
    .action(async (flags: SelectionFlags, cmd: Command) => {
      const cli = contextFrom(cmd);
      const request = requestFrom(cli, flags, "sign");
      const marker = await cli.marker(request.tier);
      for (const r of await signPassages({ ...request, model: await cli.model() })) {
        cli.reporter.info(
          request.tier,
          `${r.service}@${r.digest}: ${r.changed ? "signed" : "already signed"} → ${r.signature ?? "(no signature)"}`,
          marker,
        );
      }
    });
};
