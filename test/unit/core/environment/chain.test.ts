import { describe, expect, it } from "vitest";
import {
  promotionChain,
  validateSources,
} from "../../../../pipelines/src/core/environment/index.ts";
import { asSources, edit, fixtureFiles, locate } from "./fixtures.ts";

const origin = (tier: string) => ({
  file: `environments/${tier}.yaml`,
  at: { line: 9, column: 9 },
});
const link = (tier: string, from: string | null) => ({ tier, from, origin: origin(tier) });

describe("the promotion chain comes from configuration", () => {
  it("derives the order from each tier's promotion.from, whatever the file order", () => {
    const result = promotionChain([
      link("prod", "staging"),
      link("dev", null),
      link("staging", "test"),
      link("test", "dev"),
    ]);
    expect(result).toEqual({ order: ["dev", "test", "staging", "prod"], problems: [] });
  });

  it("a tier inserted in configuration appears in the order without code changes", () => {
    const result = promotionChain([
      link("dev", null),
      link("test", "dev"),
      link("qa", "test"),
      link("staging", "qa"),
      link("prod", "staging"),
    ]);
    expect(result.order).toEqual(["dev", "test", "qa", "staging", "prod"]);
  });

  it("the fixture repository's files give dev → test → staging → prod", () => {
    expect(validateSources(asSources(fixtureFiles())).model?.order).toEqual([
      "dev",
      "test",
      "staging",
      "prod",
    ]);
  });
});

describe("policy/promotion-chain: one chain over the declared tiers", () => {
  function chainProblems(change: (f: Record<string, string>) => void) {
    const files = fixtureFiles();
    change(files);
    return { files, problems: validateSources(asSources(files)).problems };
  }

  it("an unknown tier is reported at promotion.from with a suggestion", () => {
    const { files, problems } = chainProblems((f) => {
      f["staging.yaml"] = edit(f["staging.yaml"]!, "from: test", "from: tset");
    });
    expect(problems).toEqual([
      {
        file: "environments/staging.yaml",
        ...locate(files["staging.yaml"]!, "from: tset", "tset"),
        path: "promotion.from",
        rule: "policy/promotion-chain",
        tier: "staging",
        message:
          'staging promotes from "tset", which is not a declared tier (did you mean "test"?); declared tiers: dev, prod, staging, test',
      },
    ]);
  });

  it("a gap (promoting from a tier that has no file) is an unknown tier", () => {
    const { problems } = chainProblems((f) => {
      delete f["staging.yaml"];
    });
    expect(problems).toEqual([
      expect.objectContaining({
        file: "environments/prod.yaml",
        rule: "policy/promotion-chain",
        message:
          'prod promotes from "staging", which is not a declared tier; declared tiers: dev, prod, test',
      }),
    ]);
  });

  it("a cycle is reported at each tier on it, naming the cycle", () => {
    const { files, problems } = chainProblems((f) => {
      f["staging.yaml"] = edit(f["staging.yaml"]!, "from: test", "from: prod");
    });
    // test is now the end of the chain dev → test; staging and prod point at each other.
    expect(problems).toEqual([
      {
        file: "environments/prod.yaml",
        ...locate(files["prod.yaml"]!, "from: staging", "staging"),
        path: "promotion.from",
        rule: "policy/promotion-chain",
        tier: "prod",
        message: "prod is not reachable from dev: the tiers staging → prod → staging form a cycle",
      },
      {
        file: "environments/staging.yaml",
        ...locate(files["staging.yaml"]!, "from: prod", "prod"),
        path: "promotion.from",
        rule: "policy/promotion-chain",
        tier: "staging",
        message: "staging is not reachable from dev: the tiers prod → staging → prod form a cycle",
      },
    ]);
  });

  it("a tier promoting from itself is a cycle", () => {
    const { problems } = chainProblems((f) => {
      f["prod.yaml"] = edit(f["prod.yaml"]!, "from: staging", "from: prod");
    });
    expect(problems).toEqual([
      expect.objectContaining({
        file: "environments/prod.yaml",
        rule: "policy/promotion-chain",
        message: "prod promotes from itself, which is a cycle; name the tier before it",
      }),
    ]);
  });

  it("two starts are reported at the second", () => {
    const { files, problems } = chainProblems((f) => {
      f["test.yaml"] = edit(f["test.yaml"]!, "from: dev", "from: null");
    });
    expect(problems).toEqual([
      expect.objectContaining({
        file: "environments/test.yaml",
        ...locate(files["test.yaml"]!, "from: null", "null"),
        rule: "policy/promotion-chain",
        message:
          "dev and test both start the promotion chain (promotion.from: null); exactly one may, so name the tier test promotes from",
      }),
    ]);
  });

  it("no start at all is reported", () => {
    const { problems } = chainProblems((f) => {
      f["dev.yaml"] = edit(f["dev.yaml"]!, "from: null # the chain starts here", "from: prod");
    });
    expect(problems.map((p) => p.message)).toEqual([
      "no tier starts the promotion chain: exactly one tier needs promotion.from: null (declared: dev, prod, staging, test)",
    ]);
  });

  it("a branch (two tiers promoting from the same tier) is reported at the second", () => {
    const { problems } = chainProblems((f) => {
      f["prod.yaml"] = edit(f["prod.yaml"]!, "from: staging", "from: test");
    });
    expect(problems).toEqual([
      expect.objectContaining({
        file: "environments/staging.yaml",
        rule: "policy/promotion-chain",
        message:
          "prod and staging both promote from test; the promotion path must be a single chain, so staging must promote from another tier",
      }),
    ]);
  });
});
