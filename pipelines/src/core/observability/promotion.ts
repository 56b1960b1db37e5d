/**
 * What promotion shows about observability: the flags whose value changes between two tiers,
 * and where each tier's dashboards and alerts live. Pure: `tiers plan` carries the differences
 * in its plan (core/promotion/plan.ts), `tiers status` each tier's location in its rung.
 */
import { tierOf } from "../environment/index.ts";
import type { EnvironmentModel } from "../environment/model.ts";
import { flagValue } from "../environment/observability-schema.ts";

/** One flag whose value differs between the tier an artefact leaves and the one it enters. */
export interface FlagDifference {
  flag: string;
  description: string;
  from: boolean;
  to: boolean;
}

/**
 * Flags whose effective value (tier `value`, else the default) differs between `fromTier` and
 * `toTier`, sorted by name. Flags are declared in base.yaml, so both tiers know the same names.
 */
export function flagDifferences(
  model: EnvironmentModel,
  fromTier: string,
  toTier: string,
): FlagDifference[] {
  const from = tierOf(model, fromTier).flags;
  const to = tierOf(model, toTier).flags;
  return Object.keys(from)
    .sort()
    .flatMap((flag) => {
      const source = from[flag]!;
      const target = to[flag];
      // A flag only one side knows cannot pass validation; fail loudly rather than guess.
      if (!target) throw new Error(`flag "${flag}" is declared in ${fromTier} but not ${toTier}`);
      const [a, b] = [flagValue(source), flagValue(target)];
      return a === b ? [] : [{ flag, description: source.description, from: a, to: b }];
    });
}

/** Where one tier's signals can be seen. `null` says "nowhere": nothing is hidden. */
export interface ObservabilityLocation {
  tier: string;
  marker: string;
  /** Prometheus scrapes the tier (ServiceMonitor and PrometheusRule rendered). */
  monitored: boolean;
  dashboards: string | null;
  alerts: { receiver: string; url: string | null; enabled: string[] };
  logs: { destination: string; retention_days: number };
}

/** Where `tierName`'s dashboards, alerts and logs live, from its merged config. */
export function observabilityLocation(
  model: EnvironmentModel,
  tierName: string,
): ObservabilityLocation {
  const tier = tierOf(model, tierName);
  return {
    tier: tierName,
    marker: tier.marker,
    monitored: tier.features.monitoring,
    dashboards: tier.observability.dashboards,
    alerts: {
      receiver: tier.alerting.route.receiver,
      url: tier.alerting.route.url,
      // Unmonitored tiers render no PrometheusRule, so none of their alerts can fire.
      enabled: tier.features.monitoring
        ? Object.entries(tier.alerting.rules)
            .filter(([, rule]) => rule.enabled)
            .map(([alert]) => alert)
        : [],
    },
    logs: { ...tier.observability.logs },
  };
}

/** Per tier, in promotion order: dashboards, alert route and logs. */
export function observabilityLocations(model: EnvironmentModel): ObservabilityLocation[] {
  return model.order.map((name) => observabilityLocation(model, name));
}

/** `pause_enqueue: off → on (POST /jobs answers 503 …)`: one flag a promotion changes. */
export function formatFlagDifference(d: FlagDifference): string {
  const onOff = (v: boolean) => (v ? "on" : "off");
  return `${d.flag}: ${onOff(d.from)} → ${onOff(d.to)} (${d.description})`;
}
