import { describe, expect, it } from "vitest";
import { loadModel, runtimeEnvironment } from "../../../../pipelines/src/core/environment/index.ts";
import { assertTier, defaultProfiles } from "../../../../services/runtime/src/index.ts";
import { repoRoot } from "./fixtures.ts";

// @tiers/runtime has no dependencies and cannot read environments/, so it carries a copy of
// what each tier expects; these tests fail when that copy drifts from the configuration.
describe("@tiers/runtime profiles match environments/*.yaml", () => {
  it("has one profile per configured tier with the same marker, NODE_ENV, runtime and features", async () => {
    const model = await loadModel(repoRoot);
    const fromConfig = Object.fromEntries(
      model.order.map((name) => {
        const tier = model.tiers[name]!;
        return [
          name,
          {
            marker: tier.marker,
            nodeEnv: tier.node_env,
            runtime: tier.runtime,
            debug: tier.features.debug_ports,
            hotReload: tier.features.hot_reload,
            mtls: tier.features.mtls,
          },
        ];
      }),
    );
    expect(defaultProfiles).toEqual(fromConfig);
  });

  it("a service started with a tier's runtimeEnvironment() passes assertTier", async () => {
    const model = await loadModel(repoRoot);
    for (const tier of model.order) {
      const env: Record<string, string> = { ...runtimeEnvironment(model, tier) };
      if (model.tiers[tier]!.runtime === "kubernetes") env.KUBERNETES_SERVICE_HOST = "10.0.0.1";
      // A mesh brings its own certificates; only a files provider needs them mounted.
      if (
        model.tiers[tier]!.features.mtls &&
        model.tiers[tier]!.network.mtls_provider === "files"
      ) {
        Object.assign(env, {
          TIERS_TLS_CERT_FILE: "/run/tls/tls.crt",
          TIERS_TLS_KEY_FILE: "/run/tls/tls.key",
          TIERS_TLS_CA_FILE: "/run/tls/ca.crt",
        });
      }
      expect(assertTier(env, { execArgv: [] }).tier).toBe(tier);
    }
  });
});
