/**
 * The flags that choose what a promotion command acts on (plan, promote, bless, sign, verify)
 * and the engine request they describe.
 */
import type { Command } from "commander";
import { UsageError } from "../../core/errors.ts";
import { parseDigest } from "../../core/promotion/refs.ts";
import type { PromotionRequest } from "../../engines/host/promotion/request.ts";
import type { CliContext } from "./context.ts";

/** Flags shared by plan, promote, sign, verify and bless. */
export interface SelectionFlags {
  env?: string;
  digest?: string;
  commit?: string;
  image?: string;
  service?: string;
  evidence?: string;
  json?: boolean;
}

/** Adds the flags that choose what is promoted and how evidence is checked. */
export function selectionOptions(command: Command): Command {
  return command
    .option(
      "--digest <sha256>",
      "promote this digest (its service is found from artefact records or the registry)",
    )
    .option(
      "--commit <sha>",
      "promote every image of this published commit (.tiers/artefacts/<sha>.json)",
    )
    .option(
      "--image <ref>",
      "promote an image reference (a tag is refused by the immutable-reference gate)",
    )
    .option("--service <name>", "only this service (or: the service of a bare --digest)")
    .option(
      "--evidence <kind>",
      "evidence verifier: cosign (signatures) or local (git records + registry digests); default cosign when the signing policy requires signatures (or $TIERS_EVIDENCE)",
    );
}

/** The request a command's flags describe. */
export function requestFrom(
  cli: CliContext,
  flags: SelectionFlags,
  command: string,
): PromotionRequest {
  if (!flags.env) {
    throw new UsageError(`missing --env <tier>`, { hint: `e.g. tiers ${command} --env staging` });
  }
  const request: PromotionRequest = { root: cli.root, tier: flags.env };
  if (flags.digest) request.digest = parseDigest(flags.digest);
  if (flags.commit) request.commit = flags.commit;
  if (flags.image) request.image = flags.image;
  if (flags.service) request.service = flags.service;
  if (flags.evidence) request.evidence = flags.evidence;
  return request;
}
