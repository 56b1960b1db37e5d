/**
 * The environment model: tiers declared in `environments/*.yaml`, merged over
 * `environments/base.yaml`, validated by schema and policies, ordered by their promotion chain.
 * See docs/environments/index.md for the file format and the rules.
 */

import { UnknownTierError } from "../errors.ts";
import { flagEnvironment, observabilityEnvironment } from "../observability/runtime-environment.ts";
import { readEnvironmentSources } from "./load.ts";
import { type EnvironmentModel, type ValidationResult, validateSources } from "./model.ts";
import { repositoryOf } from "./policies.ts";
import { ConfigError } from "./problems.ts";
import type { Tier } from "./schema.ts";

export { promotionChain } from "./chain.ts";
export { deepMerge } from "./merge.ts";
export {
  baseFile,
  type EnvironmentModel,
  environmentsDir,
  type SourceFile,
  tierOfFile,
  type ValidationResult,
  validateSources,
} from "./model.ts";
export {
  type Alerting,
  type AlertName,
  type AlertRule,
  alertNames,
  type Flags,
  flagValue,
  flagValues,
  type Observability,
} from "./observability-schema.ts";
export { isPinnedByDigest, repositoryOf } from "./policies.ts";
export { ConfigError, formatProblem, type Problem, type RuleId, rules } from "./problems.ts";
export {
  isReleaseTier,
  productionTierOf,
  type Runtime,
  releaseTiersOf,
  tierOfRuntime,
  tiersOfRuntime,
} from "./roles.ts";
export {
  type Dependency,
  type Features,
  isSecretRef,
  type SecretEntry,
  type SecretReference,
  type SecretScheme,
  type Service,
  secretSchemes,
  secretSource,
  type Tier,
  tierSchema,
} from "./schema.ts";
export { readEnvironmentSources };

/** Reads and validates the environment files under `root`; never throws for bad config. */
export async function validateRepository(root: string): Promise<ValidationResult> {
  return validateSources(await readEnvironmentSources(root));
}

/** The validated model of the repository at `root`; throws ConfigError listing every problem. */
export async function loadModel(root: string): Promise<EnvironmentModel> {
  const { model, problems } = await validateRepository(root);
  if (!model) throw new ConfigError(problems);
  return model;
}

/**
 * `<project>-<tier>-<service>`: the one name of a tier's resource (container, namespace object,
 * volume, and the cloud resources terraform/modules/tier names; test/integration/terraform.test.ts
 * checks terraform's names against this function).
 */
export function resourceName(project: string, tier: string, service: string): string {
  return `${project}-${tier}-${service}`;
}

/** The merged tier `name`; the one tier lookup, throwing UnknownTierError (exit 2). */
export function tierOf(model: EnvironmentModel, name: string): Tier {
  const tier = model.tiers[name];
  if (!tier) throw new UnknownTierError(name, model.order);
  return tier;
}

/**
 * Repository an image of `service` is pushed to and promoted from in `tier`:
 * `<registry.host>/<registry.namespace>/<service>` for services built here, or the repository
 * part of `image` for a service that runs a given image.
 */
export function imageRepository(model: EnvironmentModel, tier: string, service: string): string {
  const spec = tierOf(model, tier).services[service];
  const { registry } = tierOf(model, tier);
  if (!spec) {
    throw new ConfigError([
      {
        file: `environments/${tier}.yaml`,
        line: 1,
        column: 1,
        path: `services.${service}`,
        message: `unknown service "${service}" in ${tier}; declared: ${Object.keys(tierOf(model, tier).services).join(", ")}`,
        rule: "files/missing",
      },
    ]);
  }
  if (spec.image) return repositoryOf(spec.image);
  return `${registry.host}/${registry.namespace}/${service}`;
}

/**
 * Environment variables a service of `tier` is started with, read by `@tiers/runtime`
 * (services/runtime), so the compose files and overlays derive them instead of copying.
 */
export function runtimeEnvironment(model: EnvironmentModel, tier: string): Record<string, string> {
  const t = tierOf(model, tier);
  return {
    TIERS_TIER: t.tier,
    TIERS_MARKER: t.marker,
    TIERS_RUNTIME: t.runtime,
    TIERS_LOG_LEVEL: t.logging.level,
    TIERS_LOG_FORMAT: t.logging.format,
    TIERS_MTLS: String(t.features.mtls),
    // Only tiers with mTLS carry the provider, so the others' settings stay as they were.
    ...(t.features.mtls ? { TIERS_MTLS_PROVIDER: t.network.mtls_provider } : {}),
    TIERS_HOT_RELOAD: String(t.features.hot_reload),
    TIERS_DEBUG: String(t.features.debug_ports),
    NODE_ENV: t.node_env,
    ...observabilityEnvironment(t),
    ...flagEnvironment(t),
  };
}
