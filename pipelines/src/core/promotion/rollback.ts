/**
 * Rollback's decisions: which earlier pins to restore and what that changes. Pure; the host
 * engine reads the overlay's pin history from git and writes the rollback commit.
 */

import { TiersError } from "../errors.ts";
import { unpromotedDigest } from "../manifests/pins.ts";
import type { OverlayPin } from "./overlay.ts";
import type { PlannedChange } from "./plan.ts";
import { isDigest } from "./refs.ts";

/** Image name -> pinned digest at one overlay commit. */
export type PinSet = Record<string, string>;

/** Pins of one overlay commit. */
export interface PinTarget {
  commit: string;
  pins: PinSet;
}

/** True when every pin is a real digest, not the unpromoted placeholder. */
export function isLive(pins: PinSet): boolean {
  return Object.values(pins).every((d) => isDigest(d) && d !== unpromotedDigest);
}

/** Image name -> digest of an overlay's pins. */
export function pinSet(pins: readonly OverlayPin[]): PinSet {
  return Object.fromEntries(pins.map((p) => [p.name, p.digest ?? ""]));
}

/**
 * The target of a rollback given no commit: with no `to`, the newest earlier live pins that
 * differ from the current ones; with a digest, the newest earlier pins holding it. `history` is
 * newest first. Throws, naming the overlay, when there is none.
 */
export function chooseRollbackTarget(input: {
  tier: string;
  overlay: string;
  current: PinSet;
  history: readonly PinTarget[];
  to?: string | undefined;
}): PinTarget {
  const same = (pins: PinSet) => JSON.stringify(pins) === JSON.stringify(input.current);
  const to = input.to;
  let target: PinTarget | undefined;
  if (!to) {
    target = input.history.find((h) => !same(h.pins) && isLive(h.pins));
    if (!target) {
      throw new TiersError(`${input.tier} has no earlier pins to roll back to`, {
        where: input.overlay,
        hint: "the overlay's git history holds only the current pins (or the unpromoted placeholder)",
      });
    }
  } else {
    target = input.history.find((h) => Object.values(h.pins).includes(to) && !same(h.pins));
    if (!target) {
      throw new TiersError(`${to} was never pinned in ${input.tier} (or is pinned now)`, {
        where: input.overlay,
        hint: `see the pins it had: \`tiers env ${input.tier} status\``,
      });
    }
  }
  return requireLiveTarget(target, input.overlay);
}

/** Refuses a target whose pins are the unpromoted placeholder. */
export function requireLiveTarget(target: PinTarget, overlay: string): PinTarget {
  if (!isLive(target.pins)) {
    throw new TiersError(
      `the pins of ${target.commit.slice(0, 12)} are the unpromoted placeholder`,
      {
        where: overlay,
        hint: "roll back to a commit where a real digest was pinned",
      },
    );
  }
  return target;
}

/** The pin moves that restore `target` over the `current` pins (images it does not pin stay). */
export function rollbackChanges(
  current: readonly OverlayPin[],
  target: PinTarget,
  serviceOf: (repository: string) => string | undefined,
): PlannedChange[] {
  const changes: PlannedChange[] = [];
  for (const pin of current) {
    const to = target.pins[pin.name];
    if (!to) continue;
    const repository = pin.newName ?? pin.name;
    changes.push({
      service: serviceOf(repository) ?? pin.name,
      image: pin.name,
      repository,
      from: pin.digest ?? null,
      to,
    });
  }
  return changes;
}
