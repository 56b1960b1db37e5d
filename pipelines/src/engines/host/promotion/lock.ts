/** The guards every writing use case runs under: the promotion lock and a clean overlay. */
import { TiersError } from "../../../core/errors.ts";
import { overlayPath } from "../../../core/promotion/overlay.ts";
import { acquireLock, type PromotionRepo } from "../history.ts";

/** Runs `work` holding the repository's promotion lock. */
export async function locked<T>(
  repo: PromotionRepo,
  what: string,
  work: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(await repo.gitDir(), what);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

/** Refuses when the tier's overlay has uncommitted changes: promotion edits committed pins only. */
export async function requireCleanOverlay(repo: PromotionRepo, tier: string): Promise<void> {
  const path = overlayPath(tier);
  const dirty = await repo.dirty([path]);
  if (dirty.length > 0) {
    throw new TiersError(
      "the overlay has uncommitted changes; promotion edits only committed pins",
      {
        where: path,
        hint: "commit or discard the change (`git diff -- <file>`), then run again",
      },
    );
  }
}
