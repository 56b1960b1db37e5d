/**
 * One release, several services (issue 16): a commit's artefact — every service's digest — moves
 * as one unit. A promotion that would leave a tier running services from two commits is refused
 * unless `--service` names the service, which says the mix is meant (an emergency fix of one
 * service, a service released on its own). Pure: the tier's pins after the promotion, each with
 * the commit it came from, are handed in.
 */
import type { GateResult } from "./records.ts";

export const oneReleaseGate = "one-release";

/** One service's pin after the promotion and the commit it was built from (null: unknown). */
export interface PinAfter {
  service: string;
  commit: string | null;
  /** True when this promotion moves it. */
  moved: boolean;
}

const short = (commit: string | null) => (commit ? commit.slice(0, 12) : "an unknown commit");

/**
 * The gate's verdict, or undefined when there is nothing to judge (fewer than two services
 * pinned). An unknown commit counts as a commit of its own: nothing shows it is the same one.
 */
export function oneReleaseVerdict(input: {
  tier: string;
  after: readonly PinAfter[];
  /** The `--service` of the request, if any. */
  service?: string | undefined;
}): GateResult | undefined {
  if (input.after.length < 2) return undefined;
  const commits = new Set(input.after.map((p) => p.commit ?? "?"));
  const each = input.after
    .map(
      (p) => `${p.service} from ${short(p.commit)}${p.moved ? " (this promotion)" : " (pinned)"}`,
    )
    .join(", ");
  if (commits.size === 1 && !commits.has("?")) {
    return {
      gate: oneReleaseGate,
      ok: true,
      why: `every service of ${input.tier} runs commit ${short(input.after[0]!.commit)}`,
    };
  }
  if (input.service) {
    return {
      gate: oneReleaseGate,
      ok: true,
      why: `${input.tier} will run services from ${commits.size} commits, as --service ${input.service} says explicitly: ${each}`,
    };
  }
  return {
    gate: oneReleaseGate,
    ok: false,
    why: `would leave ${input.tier} running services from ${commits.size} commits: ${each}; promote the whole commit (--commit), or name the service with --service to mean it`,
  };
}
