/**
 * Policies that keep tiers apart. They run on a merged tier that already passed the schema,
 * and each has its own rule id and message. Which tiers they bind follows from the model, never
 * from a tier's name: every Kubernetes tier is a release tier, and the end of the promotion chain
 * is the production tier. A configuration may rename or add tiers, but cannot talk the tiers
 * that serve users out of these rules.
 */

// model.ts imports this file too; baseFile is only read when a policy runs, after both loaded.
import { baseFile } from "./files.ts";
import { pathText } from "./issues.ts";
import { alertNames } from "./observability-schema.ts";
import { type Problem, type RuleId, rules } from "./problems.ts";
import { isReleaseTier } from "./roles.ts";
import { isSecretRef, secretSchemes, type Tier } from "./schema.ts";
import { type OriginTree, originAt } from "./source.ts";

/** True when `image` names a content digest (`name@sha256:<64 hex>`), which cannot move. */
export function isPinnedByDigest(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

/**
 * A merged tier that may not have passed the schema yet: policies still run on what is there,
 * so a user sees every problem in one pass instead of fixing the schema first.
 */
export type UncheckedTier = Record<string, unknown>;

/** `host:5000/ns/name:tag@sha256:...` → `host:5000/ns/name`: the image without tag or digest. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.replace(/@.*$/, "");
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** Every policy problem of one merged tier named `name`. Values of a wrong type are skipped. */
export function checkPolicies(
  name: string,
  tier: UncheckedTier,
  origins: OriginTree,
  roles: { production: boolean },
): Problem[] {
  const problems: Problem[] = [];
  const at: Report = (path, rule, message) => {
    const { origin } = originAt(origins, path);
    problems.push({
      file: origin.file,
      line: origin.at.line,
      column: origin.at.column,
      path: pathText(path),
      message,
      rule,
      tier: name,
    });
  };
  const features = record(tier.features);
  const services = Object.entries(record(tier.services)).map(([k, v]) => [k, record(v)] as const);
  const dependencies = Object.entries(record(tier.dependencies)).map(
    ([k, v]) => [k, record(v)] as const,
  );
  const release = isReleaseTier(tier);

  if (release) {
    if (features.hot_reload === true) {
      at(
        ["features", "hot_reload"],
        rules.noDevFeatures,
        `${name} may not enable hot_reload: it runs the promoted release image unchanged; set features.hot_reload: false`,
      );
    }
    if (features.debug_ports === true) {
      at(
        ["features", "debug_ports"],
        rules.noDevFeatures,
        `${name} may not enable debug_ports: an open inspector port runs arbitrary code; set features.debug_ports: false`,
      );
    }
    for (const [service, spec] of services) {
      if (record(spec.build).target === "development") {
        at(
          ["services", service, "build", "target"],
          rules.noDevFeatures,
          `${name} may not run the development build of ${service}; use target: production`,
        );
      }
    }
  }

  if (roles.production) {
    if (features.mtls === false) {
      at(
        ["features", "mtls"],
        rules.prodMtls,
        `${name} requires mtls: traffic between services must be mutually authenticated; set features.mtls: true`,
      );
    }
    if (features.persistence === false) {
      at(
        ["features", "persistence"],
        rules.prodPersistence,
        `${name} requires persistence: its data must survive a restart; set features.persistence: true`,
      );
    }
  }

  if (release) {
    const images: Array<[PropertyKey[], string]> = [];
    for (const [service, spec] of services) {
      if (typeof spec.image === "string") images.push([["services", service, "image"], spec.image]);
    }
    for (const [dependency, spec] of dependencies) {
      if (spec.provided_by === "container" && typeof spec.image === "string") {
        images.push([["dependencies", dependency, "image"], spec.image]);
      }
    }
    for (const [path, image] of images) {
      if (isPinnedByDigest(image)) continue;
      at(
        path,
        rules.immutableImage,
        `${name} may not run image "${image}" by a mutable tag; pin it by digest (${repositoryOf(image)}@sha256:<digest>) or build it here so the pipeline promotes its digest`,
      );
    }

    for (const [secret, entry] of Object.entries(record(tier.secrets))) {
      const literal =
        typeof entry === "string" ? !isSecretRef(entry) : record(entry).value !== undefined;
      if (literal) {
        at(
          ["secrets", secret],
          rules.secretReference,
          `${name} may not hold secret "${secret}" as a literal value; reference it instead, e.g. { ref: "vault:kv/${typeof tier.project === "string" ? tier.project : "<project>"}/${name}/${secret}" } (schemes: ${secretSchemes.join(", ")})`,
        );
      }
    }
  }
  if (roles.production) checkTracingSampleRate(name, tier, at);
  checkDevOnlyFlags(name, tier, at);
  checkUnknownFlags(tier, origins, at);
  checkAlertThresholds(tier, at);
  return problems;
}

/** Records one located policy problem at `path` of the merged tier. */
type Report = (path: PropertyKey[], rule: RuleId, message: string) => void;

/** The most of its traces prod keeps: sampling everything there costs more than it tells. */
export const prodMaxSampleRate = 0.1;

/** policy/tracing-sample-rate: the production tier keeps at most `prodMaxSampleRate` of its traces. */
function checkTracingSampleRate(name: string, tier: UncheckedTier, at: Report): void {
  const rate = record(record(tier.observability).tracing).sample_rate;
  if (typeof rate !== "number" || rate <= prodMaxSampleRate) return;
  at(
    ["observability", "tracing", "sample_rate"],
    rules.tracingSampleRate,
    `${name} may sample at most ${prodMaxSampleRate} of its traces, not ${rate}: full sampling at production load costs more than it tells; set observability.tracing.sample_rate: ${prodMaxSampleRate} or less`,
  );
}

/** policy/dev-only-flag: a flag marked dev_only is off in every release tier. */
function checkDevOnlyFlags(name: string, tier: UncheckedTier, at: Report): void {
  if (!isReleaseTier(tier)) return;
  for (const [flag, value] of Object.entries(record(tier.flags))) {
    const spec = record(value);
    if (spec.dev_only !== true) continue;
    const on = spec.value ?? spec.default;
    if (on !== true) continue;
    at(
      ["flags", flag, spec.value === undefined ? "default" : "value"],
      rules.devOnlyFlag,
      `${name} may not turn on flag "${flag}": it is dev_only (unfinished work); set flags.${flag}.value: false in environments/${name}.yaml`,
    );
  }
}

/**
 * policy/unknown-flag: every flag is declared in base.yaml (its description comes from there),
 * so a tier cannot switch a flag no service knows, e.g. a misspelt one.
 */
function checkUnknownFlags(tier: UncheckedTier, origins: OriginTree, at: Report): void {
  const declared = Object.entries(record(tier.flags))
    .filter(([flag]) => originAt(origins, ["flags", flag, "description"]).origin.file === baseFile)
    .map(([flag]) => flag);
  for (const flag of Object.keys(record(tier.flags))) {
    if (declared.includes(flag)) continue;
    at(
      ["flags", flag],
      rules.unknownFlag,
      `unknown flag "${flag}": flags are declared in ${baseFile} with a default and a description${declared.length ? `; declared: ${declared.join(", ")}` : ""}`,
    );
  }
}

/** The range each alert's threshold must lie in, and what the number means. */
const thresholdRanges: Record<(typeof alertNames)[number], { max: number; meaning: string }> = {
  error_rate: { max: 1, meaning: "a fraction of failed requests, above 0 and below 1" },
  p95_latency: { max: 60, meaning: "seconds, above 0 and at most 60" },
  availability: { max: 1, meaning: "the fraction of successful probes, above 0 and below 1" },
};

/** policy/alert-threshold: each alert's threshold means what its rule says it means. */
function checkAlertThresholds(tier: UncheckedTier, at: Report): void {
  const alertRules = record(record(tier.alerting).rules);
  for (const alert of alertNames) {
    const threshold = record(alertRules[alert]).threshold;
    if (typeof threshold !== "number") continue;
    const { max, meaning } = thresholdRanges[alert];
    const inside = threshold > 0 && (max === 1 ? threshold < 1 : threshold <= max);
    if (inside) continue;
    at(
      ["alerting", "rules", alert, "threshold"],
      rules.alertThreshold,
      `alerting.rules.${alert}.threshold is ${threshold}, which can never (or always) fire: it is ${meaning}`,
    );
  }
}

/** Gates every Kubernetes tier checks, whatever its file says: a rejected or dev build never runs there. */
export const kubernetesGates = ["no-dev-image", "not-rejected"] as const;

/**
 * Protections that never weaken up the chain, judged over the whole promotion order (tiers that
 * passed the schema, in order, with where each value was written):
 * - once a tier requires signatures, every later tier does;
 * - no tier requires fewer approvals than the tier it promotes from;
 * - the last tier requires signatures and at least one approval;
 * - every Kubernetes tier checks the no-dev-image and not-rejected gates.
 */
export function checkChainPolicies(
  order: readonly string[],
  tiers: Readonly<Record<string, { tier: Tier; origins: OriginTree }>>,
): Problem[] {
  const problems: Problem[] = [];
  const at = (name: string, path: PropertyKey[], rule: RuleId, message: string) => {
    const { origin } = originAt(tiers[name]!.origins, path);
    problems.push({
      file: origin.file,
      line: origin.at.line,
      column: origin.at.column,
      path: pathText(path),
      message,
      rule,
      tier: name,
    });
  };
  let signedSince: string | undefined;
  order.forEach((name, index) => {
    const entry = tiers[name];
    if (!entry) return;
    const { tier } = entry;
    const previous = index > 0 ? tiers[order[index - 1]!]?.tier : undefined;
    if (signedSince && !tier.signing.required) {
      at(
        name,
        ["signing", "required"],
        rules.signingChain,
        `${name} does not require signatures but ${signedSince}, earlier in the chain, does; protection may not weaken up the chain, so set signing.required: true`,
      );
    }
    if (tier.signing.required) signedSince ??= name;
    if (previous && tier.approvals.required < previous.approvals.required) {
      at(
        name,
        ["approvals", "required"],
        rules.approvalsChain,
        `${name} requires ${tier.approvals.required} approval(s) but ${order[index - 1]}, which it promotes from, requires ${previous.approvals.required}; set approvals.required to at least ${previous.approvals.required}`,
      );
    }
    if (index === order.length - 1 && index > 0) {
      if (!tier.signing.required) {
        at(
          name,
          ["signing", "required"],
          rules.lastTierProtected,
          `${name} is the last tier, so it must require signatures; set signing.required: true with a mode and identity or key`,
        );
      }
      if (tier.approvals.required < 1) {
        at(
          name,
          ["approvals", "required"],
          rules.lastTierProtected,
          `${name} is the last tier, so it needs at least one approval; set approvals.required: 1 or more (and a source)`,
        );
      }
    }
    if (tier.runtime === "kubernetes") {
      const missing = kubernetesGates.filter((gate) => !tier.promotion.gates.includes(gate));
      if (missing.length > 0) {
        at(
          name,
          ["promotion", "gates"],
          rules.kubernetesGates,
          `${name} runs on Kubernetes, so its promotion must check ${missing.join(" and ")}; add ${missing.length === 1 ? "it" : "them"} to promotion.gates`,
        );
      }
    }
  });
  return problems;
}

/** The mapping at hand, or an empty one when the value has another type (already reported). */
function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
