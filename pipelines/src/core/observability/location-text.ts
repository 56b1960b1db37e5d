/**
 * How a tier's signals location reads in one line (`tiers status`, `tiers env <tier> status`).
 * Apart from promotion.ts, which computes the location from the model, so that printing a
 * remembered status loads no part of the environment model.
 */
import type { ObservabilityLocation } from "./promotion.ts";

/** One tier's location without its name, e.g. `dashboards https://…  alerts … → tiers-oncall …`. */
export function formatLocation(l: ObservabilityLocation): string {
  const alerts = l.alerts.enabled.length
    ? `alerts ${l.alerts.enabled.join(", ")} → ${l.alerts.receiver} ${l.alerts.url ?? "(no alert view)"}`
    : "alerts none (not monitored)";
  return `dashboards ${l.dashboards ?? "none"}  ${alerts}  logs ${l.logs.destination} ${l.logs.retention_days}d`;
}

/** One line per tier, e.g. `🜄 prod  dashboards https://…  alerts tiers-oncall https://…`. */
export function formatLocations(locations: readonly ObservabilityLocation[]): string[] {
  return locations.map((l) => `${l.marker} ${l.tier}  ${formatLocation(l)}`);
}
