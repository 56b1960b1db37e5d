/**
 * The actions of `tiers env <tier>` for a Kubernetes tier (every tier promotion moves digests
 * into): `bless` (the human ceremony), `status` (pins, passages, signatures and history),
 * `deploy` and `rollback` (the `tiers deploy` / `tiers rollback` commands for that tier).
 * env/index.ts gives them to each tier whose runtime is kubernetes.
 */
import { ExitCode } from "../../../../core/errors.ts";
import { formatLocation } from "../../../../core/observability/location-text.ts";
import { shortDigest } from "../../../../core/promotion/refs.ts";
import { tierStatus } from "../../../../engines/host/promotion/status.ts";
import type { CliContext } from "../../context.ts";
import { requireConsent } from "../../prompt.ts";
import { runDeploy } from "../deploy.ts";
import { type PromoteFlags, runPromotion } from "../promote.ts";
import { runRollback } from "../rollback.ts";
import type { EnvAction, EnvActionContext } from "./actions.ts";

/** Flags the promotion actions read on top of the shared ones (actions.ts). */
interface PromotionEnvFlags {
  yes?: boolean;
  digest?: string;
  commit?: string;
  evidence?: string;
  deploy?: boolean;
  verify?: boolean;
  json?: boolean;
  dryRun?: boolean;
  manifests?: boolean;
  kubeconfig?: string;
  context?: string;
  to?: string;
  reason?: string;
}

function flagsOf(context: EnvActionContext): PromotionEnvFlags {
  return context.flags as PromotionEnvFlags;
}

const bless: EnvAction = {
  summary: "show the promotion plan, ask to confirm (needs a TTY, or --yes), then promote",
  usage: "[--yes]",
  async run(context) {
    const flags = flagsOf(context);
    const mode = requireConsent(flags.yes, `blessing a promotion into ${context.tier}`);
    const promoteFlags: PromoteFlags = { env: context.tier };
    if (flags.digest) promoteFlags.digest = flags.digest;
    if (flags.commit) promoteFlags.commit = flags.commit;
    if (flags.evidence) promoteFlags.evidence = flags.evidence;
    if (flags.deploy === false) promoteFlags.deploy = false;
    await runPromotion(context.cli, promoteFlags, mode, `env ${context.tier} bless`);
    return ExitCode.ok;
  },
};

/** Prints `tiers env <tier> status`. */
export async function printTierStatus(cli: CliContext, tier: string, flags: PromotionEnvFlags) {
  const status = await tierStatus({
    root: cli.root,
    tier,
    model: await cli.model(),
    verifySignatures: Boolean(flags.verify),
    ...(flags.evidence ? { evidence: flags.evidence } : {}),
  });
  if (flags.json) {
    cli.reporter.raw(JSON.stringify(status, null, 2));
    return status;
  }
  const say = (text: string) => cli.reporter.info(tier, text, status.marker);
  const bad = (text: string) => cli.reporter.error(tier, text, status.marker);
  say(`${tier} (${status.runtime})`);
  say(`signals: ${formatLocation(status.observability)}`);
  if (status.pins.length === 0) say("pinned: nothing");
  for (const p of status.pins) {
    if (!p.digest) {
      say(`${p.service}: nothing promoted yet`);
      continue;
    }
    say(`${p.service}: ${p.digest}${p.commit ? ` (commit ${p.commit.slice(0, 12)})` : ""}`);
    (p.passage.ok ? say : bad)(`  passage:   ${p.passage.ok ? "✓" : "✗"} ${p.passage.why}`);
    (p.signature.ok ? say : flags.verify ? bad : say)(
      `  signature: ${p.signature.ok ? "✓" : flags.verify ? "✗" : "·"} ${p.signature.why}`,
    );
    if (p.rejected)
      bad(`  REJECTED: ${p.rejected} — roll back with \`tiers rollback --env ${tier}\``);
  }
  if (status.waiting.length) {
    say(
      `waiting below: ${status.waiting.map((w) => `${w.service}@${shortDigest(w.digest)}`).join(", ")} — \`tiers plan --env ${tier}\``,
    );
  }
  if (status.verification) {
    (status.verification.ok ? say : bad)(
      `verified: ${status.verification.ok ? "✓" : "✗"} ${status.verification.why}`,
    );
  }
  if (status.window) {
    (status.window.open ? say : bad)(
      `window: ${status.window.open ? "✓ open" : "✗ closed"} — ${status.window.why}`,
    );
  }
  if (status.history.length) say("pin history (git log of the overlay):");
  for (const h of status.history)
    say(`  ${h.commit.slice(0, 12)} ${h.date.slice(0, 19)} ${h.author}: ${h.subject}`);
  if (status.records.length) say("promotion records:");
  for (const r of status.records) {
    say(
      `  ${r.at.slice(0, 19)} ${r.kind.padEnd(9)} by ${r.by}: ${r.pins.map((p) => `${p.service} ${shortDigest(p.from ?? undefined)} → ${shortDigest(p.to)}`).join(", ")}${r.reason ? ` — ${r.reason}` : ""}`,
    );
  }
  return status;
}

const status: EnvAction = {
  summary:
    "pinned digests, their passages and signatures (--verify checks them with cosign), history",
  async run(context) {
    const flags = flagsOf(context);
    const result = await printTierStatus(context.cli, context.tier, flags);
    const failing = result.pins.some(
      (p) => p.digest && (!p.passage.ok || p.rejected || (flags.verify && !p.signature.ok)),
    );
    return failing ? ExitCode.failure : ExitCode.ok;
  },
};

const deploy: EnvAction = {
  summary: "apply the tier's pinned overlay, wait, smoke-check, roll back on failure",
  usage: "[--dry-run]",
  async run(context) {
    const flags = flagsOf(context);
    await runDeploy(context.cli, {
      env: context.tier,
      dryRun: Boolean(flags.dryRun),
      manifests: Boolean(flags.manifests),
      ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.context ? { context: flags.context } : {}),
    });
    return ExitCode.ok;
  },
};

const rollback: EnvAction = {
  summary: "restore the tier's earlier pins (--to a digest or commit), recorded as a rollback",
  usage: "[--to REF] [--reason TEXT]",
  async run(context) {
    const flags = flagsOf(context);
    await runRollback(context.cli, {
      env: context.tier,
      ...(flags.to ? { to: flags.to } : {}),
      ...(flags.reason ? { reason: flags.reason } : {}),
      ...(flags.deploy === false ? { deploy: false } : {}),
      ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
    });
    return ExitCode.ok;
  },
};

/** A Kubernetes tier's actions: what promotion moves into it, and how it is deployed. */
export const kubernetesEnvActions: Record<string, EnvAction> = { bless, status, deploy, rollback };
