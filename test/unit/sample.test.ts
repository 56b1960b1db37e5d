/**
 * The tests about the shipped sample itself (environments/, compose/, k8s/, docs/ and the
 * sample services at the repository root). Everything else runs on fixtures under
 * test/fixtures/ (test/unit/fixtures-guard.test.ts keeps it so); these check that the sample is
 * consistent with itself, deriving every expectation from its own tier model, never that it
 * has particular tiers or services.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadModel, runtimeEnvironment } from "../../pipelines/src/core/environment/index.ts";
import { assertTier, defaultProfiles } from "../../services/runtime/src/index.ts";
import { tiers } from "../support/cli.ts";

const repoRoot = resolve(import.meta.dirname, "../..");
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");

describe("sample: tiers validate passes on the shipped repository", () => {
  it("sample: exits 0 and summarises each of its tiers behind its marker, in chain order", async () => {
    process.exitCode = undefined;
    const model = await loadModel(repoRoot);
    const { code, stdout, stderr } = await tiers("--root", repoRoot, "validate");
    process.exitCode = undefined;
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual([
      ...model.order.map((t) => model.tiers[t]!.marker),
      "▸",
    ]);
    expect(lines.at(-1)).toContain(`promotion ${model.order.join(" → ")} (`);
  });
});

// @tiers/runtime has no dependencies and cannot read environments/, so it carries a copy of
// what each tier expects; these tests fail when that copy drifts from the configuration.
describe("sample: @tiers/runtime profiles match environments/*.yaml", () => {
  it("sample: has one profile per configured tier with the same marker, NODE_ENV, runtime and features", async () => {
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

  it("sample: a service started with a tier's runtimeEnvironment() passes assertTier", async () => {
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

describe("sample: docs/environments stay true to the configuration", () => {
  it("sample: each tier page shows its current environments/<tier>.yaml", async () => {
    const model = await loadModel(repoRoot);
    for (const tier of model.order) {
      const page = read(`docs/environments/${tier}.md`);
      expect(page.startsWith(`# ${model.tiers[tier]!.marker} ${tier}\n`)).toBe(true);
      expect(
        page.includes(`\`\`\`yaml\n${read(`environments/${tier}.yaml`).trimEnd()}\n\`\`\``),
        `docs/environments/${tier}.md must show environments/${tier}.yaml verbatim in its yaml block: paste the current file there`,
      ).toBe(true);
    }
  });

  it("sample: every environment file points editors at the JSON Schema", () => {
    const files = readdirSync(join(repoRoot, "environments")).filter((f) => f.endsWith(".yaml"));
    expect(files).toContain("base.yaml");
    for (const file of files) {
      expect(read(`environments/${file}`).split("\n")[0], file).toBe(
        "# yaml-language-server: $schema=../docs/environments/tier-file.schema.json",
      );
    }
  });
});

describe("sample: compose passes every runtime setting (compose/compose.yaml)", () => {
  it("sample: x-runtime-environment names each variable runtimeEnvironment() sets for the compose and ephemeral tiers", async () => {
    const model = await loadModel(repoRoot);
    const compose = parse(read("compose/compose.yaml")) as {
      "x-runtime-environment": Record<string, string>;
    };
    const passed = Object.keys(compose["x-runtime-environment"]);
    const local = model.order.filter((t) => model.tiers[t]!.runtime !== "kubernetes");
    expect(local.length).toBeGreaterThan(0);
    for (const tier of local) {
      const wanted = Object.keys(runtimeEnvironment(model, tier)).filter((k) => k !== "NODE_ENV");
      expect(
        wanted.filter((k) => !passed.includes(k)),
        tier,
      ).toEqual([]);
    }
  });
});
