/**
 * The window check of a standalone `tiers deploy --env <tier>` (issue 16): outside the tier's
 * windows a deploy is refused, unless every digest its overlay pins carries a recorded window
 * override (releases/overrides/<tier>/…, `tiers approve --override window --reason …`) that
 * counts — the tier lists `window` in promotion.overrides and someone other than whoever runs
 * the deploy recorded it (separation of duties, as for promotion). The same records and rules
 * as the promotion's window gate (time-facts.ts: digestOverrides, windowFacts).
 */
import type { EnvironmentModel } from "../../../core/environment/index.ts";
import { tierOf } from "../../../core/environment/index.ts";
import { TiersError } from "../../../core/errors.ts";
import { overridePath } from "../../../core/promotion/records.ts";
import { overlayPins, readOverlay } from "../deploy-verify.ts";
import { PromotionRepo, whoAmI } from "../history.ts";
import { digestOverrides, tierWindowVerdict, windowFacts } from "./time-facts.ts";

/**
 * Returns undefined inside a window; outside one, the line saying which override let the
 * deploy through; else throws, changing nothing, with why and when the next window opens.
 */
export async function requireDeployWindow(input: {
  root: string;
  tier: string;
  model: EnvironmentModel;
  now: Date;
  env?: NodeJS.ProcessEnv;
}): Promise<string | undefined> {
  const tier = tierOf(input.model, input.tier);
  if (tierWindowVerdict(tier, input.now).open) return undefined;
  const env = input.env ?? process.env;
  const repo = new PromotionRepo(input.root, env);
  const actor = await whoAmI(repo, env);
  const digests = [
    ...new Set(
      overlayPins(input.model, input.tier, await readOverlay(input.root, input.tier)).map(
        (p) => p.digest ?? "",
      ),
    ),
  ];
  const overrides = [];
  for (const digest of digests) {
    const found = await digestOverrides(repo, input.tier, tier, digest || undefined, actor);
    if (found.problem) {
      // An unreadable override waives nothing, and says which file.
      throw new TiersError(
        `deploy of ${input.tier} refused: outside its windows, and the window override of ${digest} cannot be read (${found.problem}); nothing was changed`,
        {
          where: overridePath(input.tier, digest),
          hint: "restore the record from git (`git log -p -- <file>`); records are written by tiers only",
        },
      );
    }
    overrides.push(found);
  }
  const facts = windowFacts(
    tier,
    input.now,
    overrides.map((o) => o.waivers),
    overrides.map((o) => o.refused),
  );
  const waiver = digests.length > 0 ? facts.windowWaiver : undefined;
  const why = facts.window?.why ?? "outside its windows";
  if (!waiver) {
    // facts.window.why names an override that is recorded but does not count.
    throw new TiersError(`deploy of ${input.tier} refused: ${why}; nothing was changed`, {
      where: `environments/${input.tier}.yaml (windows)`,
      hint: "wait for the window, or have someone else record `tiers approve --override window --reason …` for every pinned digest, where promotion.overrides allows it",
    });
  }
  return `outside its windows (${why}), deployed by the recorded window override of ${waiver.by} at ${waiver.at}: ${waiver.reason} (${digests.length} pinned digest(s), ${overridePath(input.tier, digests[0]!)}${digests.length > 1 ? " …" : ""})`;
}
