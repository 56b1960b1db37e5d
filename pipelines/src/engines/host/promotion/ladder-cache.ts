/**
 * `tiers status`'s ladder, remembered by what it read (read-trace.ts). The ladder is a function
 * of the code and the model (the model cache's key), the commit HEAD names (every record, pin
 * and pin-history entry is read from git at HEAD, and a commit id names its whole tree and
 * history), the artefact records under `.tiers/artefacts/`, and two facts no read can prove
 * again: what the registry serves now, and the clock. So the ladder is computed with a reader
 * that records HEAD's commit and the artefact files; a ladder that asked the registry (a tier
 * has a promoted pin) or read the clock (a verification period may be running) is returned and
 * not remembered. A later run with the same key replays HEAD's files and the artefact reads,
 * and takes the stored ladder only when every answer is the same.
 *
 * Windows depend on the clock and on the model alone, so they are not part of what is
 * remembered: they are told after, on every run, for the tiers that have windows.
 */
import type { ArtefactRecord } from "../../../core/artefact.ts";
import type { EnvironmentModel } from "../../../core/environment/model.ts";
import { ConfigError } from "../../../core/environment/problems.ts";
import { headCommit } from "../git-head.ts";
import { ladderCacheFile, validateRepositoryKeyed } from "../model-cache.ts";
import { rememberedByReads, type Trace } from "../read-trace.ts";
import { hostReader, type RepositoryReader } from "../repository-reader.ts";
import type { TierStatus } from "./status.ts";
import { windowOf } from "./window-now.ts";

export interface Ladder {
  /** In promotion order. */
  tiers: TierStatus[];
  published: ArtefactRecord | null;
}

/** The ladder of the repository at `root`; `history` reads each tier's pin history too. */
export async function rememberedLadder(
  root: string,
  options: { history: boolean; now?: () => Date },
): Promise<Ladder> {
  const { result, key } = await validateRepositoryKeyed(root);
  const model = result.model;
  if (!model) throw new ConfigError(result.problems);
  const compute = async (reader: RepositoryReader, trace: Trace): Promise<Ladder> => {
    const head = await reader.head();
    if (head === undefined) trace.forget("git's files do not say for sure which commit HEAD is");
    // Loaded only here: a remembered ladder needs no record schema, YAML parser or git process.
    const { ladderStatus } = await import("./status.ts");
    const ladder = await ladderStatus({
      root,
      model,
      history: options.history,
      windows: false,
      traced: { reader, trace },
    });
    // A commit made meanwhile: the records read may be of either commit.
    if ((await headCommit(root)) !== head) trace.forget("HEAD moved while the ladder was read");
    return { tiers: ladder.tiers, published: ladder.published ?? null };
  };
  // Unbundled code (tsx, vitest) has no build stamp, so no key: it computes every time.
  const ladder = key
    ? await rememberedByReads(
        root,
        {
          key: `tiers-status ${options.history}\0${key}`,
          file: ladderCacheFile(root, options.history),
        },
        compute,
      )
    : await compute(hostReader(root), { forget: () => undefined });
  return {
    ...ladder,
    tiers: await withWindows(model, ladder.tiers, (options.now ?? (() => new Date()))()),
  };
}

/** Each tier's window verdict at `now`, placed where tierStatus puts it (before verification). */
async function withWindows(
  model: EnvironmentModel,
  tiers: readonly TierStatus[],
  now: Date,
): Promise<TierStatus[]> {
  return Promise.all(
    tiers.map(async (status) => {
      const tier = model.tiers[status.tier];
      if (!tier || (tier.windows ?? []).length === 0) return status;
      const { verification, waitingWhy, ...rest } = status;
      return {
        ...rest,
        window: await windowOf(tier, now),
        ...(verification ? { verification } : {}),
        ...(waitingWhy !== undefined ? { waitingWhy } : {}),
      };
    }),
  );
}
