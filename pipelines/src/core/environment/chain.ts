/**
 * The promotion chain: each tier declares `promotion.from`, and together they must form one
 * path over the declared tiers (exactly one start, no branch, no cycle, no unknown tier).
 * The order every other part of the product uses is derived from it here, never hard-coded.
 */
import { type Problem, rules } from "./problems.ts";
import type { Origin } from "./source.ts";
import { didYouMean } from "./suggest.ts";

export interface ChainLink {
  tier: string;
  /** The declared predecessor; null marks the start. Non-strings were already reported. */
  from: string | null;
  /** Where `promotion.from` was written (or the tier file, when it is missing). */
  origin: Origin;
}

export interface ChainResult {
  /** Tiers in promotion order, when the chain is sound. */
  order?: string[];
  problems: Problem[];
}

/**
 * Checks the links and derives the order. `declaredTiers` are all tier files, so a link to a
 * tier whose own file is broken is not misreported as unknown.
 */
export function promotionChain(
  links: readonly ChainLink[],
  declaredTiers: readonly string[] = links.map((l) => l.tier),
): ChainResult {
  const problems: Problem[] = [];
  const report = (link: ChainLink, message: string) =>
    problems.push({
      file: link.origin.file,
      line: link.origin.at.line,
      column: link.origin.at.column,
      path: "promotion.from",
      message,
      rule: rules.promotionChain,
      tier: link.tier,
    });
  const declared = new Set(declaredTiers);
  const list = [...declared].join(", ");

  for (const link of links) {
    if (link.from === null) continue;
    if (link.from === link.tier) {
      report(link, `${link.tier} promotes from itself, which is a cycle; name the tier before it`);
    } else if (!declared.has(link.from)) {
      report(
        link,
        `${link.tier} promotes from "${link.from}", which is not a declared tier${didYouMean(link.from, declared)}; declared tiers: ${list}`,
      );
    }
  }

  const starts = links.filter((l) => l.from === null);
  for (const extra of starts.slice(1)) {
    report(
      extra,
      `${starts[0]!.tier} and ${extra.tier} both start the promotion chain (promotion.from: null); exactly one may, so name the tier ${extra.tier} promotes from`,
    );
  }

  const successors = new Map<string, ChainLink[]>();
  for (const link of links) {
    if (link.from === null || link.from === link.tier) continue;
    successors.set(link.from, [...(successors.get(link.from) ?? []), link]);
  }
  for (const [from, next] of successors) {
    for (const extra of next.slice(1)) {
      report(
        extra,
        `${next[0]!.tier} and ${extra.tier} both promote from ${from}; the promotion path must be a single chain, so ${extra.tier} must promote from another tier`,
      );
    }
  }
  // Starts, branches and cycles can only be judged once every tier has a readable link.
  if (problems.length > 0 || links.length < declared.size) return { problems };
  if (starts.length === 0) {
    if (links.length > 0) {
      report(
        links[0]!,
        `no tier starts the promotion chain: exactly one tier needs promotion.from: null (declared: ${list})`,
      );
    }
    return { problems };
  }

  // Exactly one start and no branches: walk it; whatever is left over hangs on a cycle.
  const order: string[] = [starts[0]!.tier];
  for (;;) {
    const next = successors.get(order[order.length - 1]!)?.[0];
    if (!next) break;
    order.push(next.tier);
  }
  const unreached = links.filter((l) => !order.includes(l.tier));
  // With one start and no branches, every tier left over lies on a cycle of its own.
  for (const link of unreached) {
    const cycle = [link.tier];
    let from = link.from;
    while (from !== null && !cycle.includes(from)) {
      cycle.push(from);
      from = links.find((l) => l.tier === from)?.from ?? null;
    }
    cycle.reverse();
    report(
      link,
      `${link.tier} is not reachable from ${order[0]}: the tiers ${[...cycle, cycle[0]].join(" → ")} form a cycle`,
    );
  }
  return problems.length > 0 ? { problems } : { order, problems };
}
