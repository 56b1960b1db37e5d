/**
 * Blue-green, as data. A blue-green tier renders each traffic-serving service twice
 * (`<name>-blue`, `<name>-green`, pods labelled `color`), one Service whose selector picks the
 * live colour and a `<name>-preview` Service that picks the idle one. A deploy updates only the
 * idle colour, proves it healthy through the preview Service, then moves the live selector; the
 * previous colour keeps running its old digest, so switching back is one selector patch.
 *
 * Which colour is live is cluster state, not git state: the overlay names the colour for the
 * very first deploy, and this module rewrites the rendered Services to whatever is live so that
 * applying the overlay never moves traffic by itself.
 */
import type { Tier } from "../environment/schema.ts";
import type { KubeObject } from "./documents.ts";

/** The two colours. */
export type Colour = "blue" | "green";
export const colours: readonly Colour[] = ["blue", "green"];
/** The pod label (and Service selector key) that carries the colour. */
export const colourLabel = "color";
/**
 * The label only a `<name>-preview` Service carries. It shares the service's name label with
 * the live Service, so a selector meant for live traffic (the ServiceMonitor) leaves it out by
 * this label; otherwise Prometheus scrapes the idle colour as if it served users, and on a first
 * deploy, when both Services pick the same colour, every pod twice.
 */
export const previewLabel = { key: "app.kubernetes.io/component", value: "preview" } as const;

/** The other colour. */
export function otherColour(colour: Colour): Colour {
  return colour === "blue" ? "green" : "blue";
}

/** True for "blue" and "green". */
export function isColour(value: unknown): value is Colour {
  return value === "blue" || value === "green";
}

/**
 * Services of a blue-green tier that switch colours: those that take user traffic, i.e. declare
 * an `http` port. Others (the worker, which serves only health) roll in place, because two
 * colours of a queue consumer would both consume and a selector switch would move nothing.
 */
export function blueGreenServices(tier: Pick<Tier, "deploy" | "services">): string[] {
  if (tier.deploy.strategy !== "blue-green") return [];
  return Object.entries(tier.services)
    .filter(([, spec]) => spec.ports.http !== undefined)
    .map(([name]) => name);
}

/** Names of a blue-green service's objects, given its base resource name (`tiers-prod-api`). */
export function colourNames(resource: string): {
  live: string;
  preview: string;
  deployment: Record<Colour, string>;
} {
  return {
    live: resource,
    preview: `${resource}-preview`,
    deployment: { blue: `${resource}-blue`, green: `${resource}-green` },
  };
}

/** The colour a live Service selects, or undefined when it selects none. */
export function liveColourOf(selector: Record<string, string> | undefined): Colour | undefined {
  const value = selector?.[colourLabel];
  return isColour(value) ? value : undefined;
}

/** What a blue-green deploy of one service does, worked out before anything runs. */
export interface ColourPlan {
  /** Base resource name, e.g. `tiers-prod-api`. */
  resource: string;
  /** Colour serving traffic now; undefined on the first deploy into an empty namespace. */
  live: Colour | undefined;
  /** Colour this deploy updates and then switches to. */
  target: Colour;
  /** Deployment updated by this deploy. */
  targetDeployment: string;
  /** Deployment left untouched (the instant switch-back), if one is live. */
  keptDeployment: string | undefined;
  /** The live Service and the preview Service. */
  liveService: string;
  previewService: string;
  /** Selector patch that moves traffic to `target` ... */
  switchTo: Record<string, string>;
  /** ... and the one that moves it back to `live` (undefined on a first deploy). */
  switchBack: Record<string, string> | undefined;
}

/**
 * Plans one service's colour move. `live` is the colour the cluster's Service selects now
 * (undefined when the Service does not exist yet); `initial` is the colour the overlay renders
 * as live, used for a first deploy.
 */
export function planColours(
  resource: string,
  live: Colour | undefined,
  initial: Colour,
): ColourPlan {
  const names = colourNames(resource);
  const target = live ? otherColour(live) : initial;
  return {
    resource,
    live,
    target,
    targetDeployment: names.deployment[target],
    keptDeployment: live ? names.deployment[live] : undefined,
    liveService: names.live,
    previewService: names.preview,
    switchTo: { [colourLabel]: target },
    switchBack: live ? { [colourLabel]: live } : undefined,
  };
}

/**
 * The objects to apply for a blue-green deploy: everything rendered, except the kept colour's
 * own objects (its Deployment, autoscaler and disruption budget stay exactly as they run), with
 * the live Service pointed at the colour that is live now (or, on a first deploy, at the target,
 * which is not serving anything yet) and the preview Service pointed at the target.
 */
export function objectsToApply(
  objects: readonly KubeObject[],
  plans: readonly ColourPlan[],
): KubeObject[] {
  const out: KubeObject[] = [];
  for (const object of objects) {
    const plan = plans.find(
      (p) =>
        object.metadata.name === p.liveService ||
        object.metadata.name === p.previewService ||
        object.metadata.name.startsWith(`${p.resource}-`),
    );
    if (!plan) {
      out.push(object);
      continue;
    }
    // The kept colour's own objects share its Deployment's name (HPA, PDB included).
    if (plan.keptDeployment && object.metadata.name === plan.keptDeployment) continue;
    if (object.kind === "Service" && object.metadata.name === plan.liveService) {
      out.push(withSelectorColour(object, plan.live ?? plan.target));
      continue;
    }
    if (object.kind === "Service" && object.metadata.name === plan.previewService) {
      out.push(withSelectorColour(object, plan.target));
      continue;
    }
    out.push(object);
  }
  return out;
}

function withSelectorColour(service: KubeObject, colour: Colour): KubeObject {
  const spec = (service.spec ?? {}) as { selector?: Record<string, string> };
  return {
    ...service,
    spec: { ...spec, selector: { ...(spec.selector ?? {}), [colourLabel]: colour } },
  };
}

/** The colour a rendered Service selects (the overlay's colour for a first deploy). */
export function renderedColour(
  objects: readonly KubeObject[],
  service: string,
): Colour | undefined {
  const object = objects.find((o) => o.kind === "Service" && o.metadata.name === service);
  return liveColourOf(
    (object?.spec as { selector?: Record<string, string> } | undefined)?.selector,
  );
}
