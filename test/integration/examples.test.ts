/**
 * examples/*: each a complete small repository model with a tier chain other than the
 * sample's. Each is copied into a scratch git repository, validated (tier files and the
 * repository against them, CI tier jobs included), planned into every tier after the chain
 * start with the real CLI (nothing is published there, so a plan may be blocked; it must not
 * crash), and every overlay rendered with the real `kubectl kustomize`.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot, runTiers, snapshotRepo } from "../support/repo.ts";

const examples = readdirSync(join(repoRoot, "examples"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe("examples/ (each copied into a scratch repository)", () => {
  it("there are the three documented models", () => {
    expect(examples.sort()).toEqual(["cluster-dev", "manual-prod-gate", "three-tiers"]);
  });

  for (const example of examples) {
    it(`${example}: validates, CI jobs up to date, plans every later tier, renders every overlay`, async () => {
      const repo = await snapshotRepo(join(repoRoot, "examples", example));
      try {
        const validate = await runTiers(repo.root, ["validate", "--json"]);
        expect(validate.stdout + validate.stderr, "tiers validate").toContain("[]");
        expect(validate.code).toBe(0);
        expect((await runTiers(repo.root, ["ci", "generate", "--check"])).code).toBe(0);

        const tierFiles = readdirSync(join(repo.root, "environments")).filter(
          (f) => f !== "base.yaml",
        );
        const tiers = tierFiles.map((file) => {
          const doc = parse(readFileSync(join(repo.root, "environments", file), "utf8")) as {
            tier: string;
            runtime: string;
            promotion: { from: string | null };
          };
          return doc;
        });
        for (const tier of tiers.filter((t) => t.promotion.from !== null)) {
          const plan = await runTiers(repo.root, ["plan", "--env", tier.tier]);
          expect(plan.stderr, `plan --env ${tier.tier}`).not.toMatch(/unexpected error|at async/);
          expect([0, 1]).toContain(plan.code);
        }
        for (const tier of tiers.filter((t) => t.runtime === "kubernetes")) {
          const rendered = execFileSync("kubectl", ["kustomize", `k8s/overlays/${tier.tier}`], {
            cwd: repo.root,
            encoding: "utf8",
          });
          expect(rendered).toContain(`namespace: shop-${tier.tier}`);
          expect(rendered).toContain(`127.0.0.1:5000/shop/web@sha256:${"0".repeat(64)}`);
        }
      } finally {
        await repo.remove();
      }
    });
  }
});
