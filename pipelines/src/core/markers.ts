/**
 * Tier markers lead every CLI and log line about a tier. The marker of each tier is declared
 * in its environment file; these are the defaults the schema offers and the fallback for
 * lines printed before configuration is loaded.
 */
export const defaultMarkers: Readonly<Record<string, string>> = {
  dev: "🜂",
  test: "🜁",
  staging: "🜃",
  prod: "🜄",
};

/** Marker for lines that are about the whole pipeline rather than one tier. */
export const pipelineMarker = "▸";

export function markerFor(tier: string | undefined, declared?: string): string {
  if (declared) return declared;
  if (tier && defaultMarkers[tier]) return defaultMarkers[tier];
  return pipelineMarker;
}
