/** `tiers status`: the whole ladder at a glance. `tiers env <tier> status` is in env/promotion.ts. */
import type { Command } from "commander";
import type { Reporter } from "../../../core/log.ts";
import { formatLocation } from "../../../core/observability/location-text.ts";
import { shortDigest } from "../../../core/promotion/refs.ts";
import { rememberedLadder } from "../../../engines/host/promotion/ladder-cache.ts";
import type { TierStatus } from "../../../engines/host/promotion/status.ts";
import { contextFrom, type RegisterCommand } from "../context.ts";

/** One tier's rung: marker, what it runs, whether its passage holds, what waits below it. */
export function printRung(
  reporter: Reporter,
  status: TierStatus,
  isStart: boolean,
  published?: string,
): void {
  const say = (text: string) => reporter.info(status.tier, text, status.marker);
  const warn = (text: string) => reporter.warn(status.tier, text, status.marker);
  const signals = () => say(`  signals: ${formatLocation(status.observability)}`);
  if (isStart) {
    say(
      `${status.tier.padEnd(8)} ${status.runtime.padEnd(10)} ${published ?? "nothing published yet"}`,
    );
    signals();
    return;
  }
  const live = status.pins.filter((p) => p.digest);
  if (live.length === 0) {
    say(`${status.tier.padEnd(8)} ${status.runtime.padEnd(10)} nothing promoted yet`);
  } else {
    const commits = [...new Set(live.map((p) => p.commit?.slice(0, 12) ?? "?"))].join(",");
    const holds = live.every((p) => p.passage.ok && !p.rejected);
    say(
      `${status.tier.padEnd(8)} ${status.runtime.padEnd(10)} commit ${commits}  ${live
        .map((p) => `${p.service}@${shortDigest(p.digest!)}`)
        .join(" ")}  passage ${holds ? "holds" : "DOES NOT HOLD"}`,
    );
    for (const p of live.filter((x) => !x.passage.ok)) warn(`${p.service}: ${p.passage.why}`);
    for (const p of live.filter((x) => x.rejected))
      warn(`${p.service}: pinned digest is REJECTED (${p.rejected}); roll back`);
  }
  if (status.waiting.length > 0) {
    const commits = [...new Set(status.waiting.map((w) => w.commit?.slice(0, 12) ?? "?"))].join(
      ",",
    );
    say(
      `  waiting: commit ${commits} ${status.waiting.map((w) => `${w.service}@${shortDigest(w.digest)}`).join(" ")} — \`tiers plan --env ${status.tier}\``,
    );
  } else {
    say(`  waiting: nothing${status.waitingWhy ? ` (${status.waitingWhy.split(";")[0]})` : ""}`);
  }
  signals();
  if (status.verification) {
    (status.verification.ok ? say : warn)(`  verified: ${status.verification.why}`);
  }
  if (status.window) {
    (status.window.open ? say : warn)(
      `  window: ${status.window.open ? "open" : "CLOSED"} — ${status.window.why}`,
    );
  }
}

export const registerStatus: RegisterCommand = (program) => {
  program
    .command("status")
    .description(
      "the promotion ladder: per tier its commit and digests, whether its passage holds, what waits",
    )
    .option("--json", "print the ladder as JSON")
    .addHelpText(
      "after",
      `
Top tier first: each tier's marker, the commit and digests it runs, whether its passage
holds, what waits to be promoted from the tier below, and where its signals live (dashboards,
alerts and their receiver, logs: observability and alerting in its tier file). Changes nothing.

Examples:
  $ tiers status                 the ladder at a glance
  $ tiers env prod status        one tier in depth: signatures, passages, history
  $ tiers status --json | jq '.[] | {tier, waiting}'`,
    )
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const cli = contextFrom(cmd);
      // Only the JSON view carries each tier's pin history; the ladder below does not print it.
      const ladder = await rememberedLadder(cli.root, { history: flags.json === true });
      if (flags.json) {
        cli.reporter.raw(
          JSON.stringify({ tiers: ladder.tiers, published: ladder.published }, null, 2),
        );
        return;
      }
      const published = ladder.published
        ? `latest published: commit ${ladder.published.commit.slice(0, 12)}  ${Object.entries(
            ladder.published.images,
          )
            .map(([s, i]) => `${s}@${shortDigest(i.digest)}`)
            .join(" ")}`
        : undefined;
      // Top of the ladder first: prod, then down to where artefacts are published.
      for (const [i, status] of [...ladder.tiers.entries()].reverse()) {
        printRung(cli.reporter, status, i === 0, published);
      }
    });
};
