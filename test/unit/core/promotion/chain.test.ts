import { describe, expect, it } from "vitest";
import {
  chainStart,
  nextTier,
  type PromotionModel,
  previousTier,
  requirePromotable,
} from "../../../../pipelines/src/core/promotion/chain.ts";

const model: PromotionModel = {
  project: "tiers",
  order: ["dev", "test", "staging", "prod"],
  tiers: {
    dev: { promotion: { from: null } },
    test: { promotion: { from: "dev" } },
    staging: { promotion: { from: "test" } },
    prod: { promotion: { from: "staging" } },
  },
};

describe("promotion chain from configuration", () => {
  it("follows each tier's promotion.from", () => {
    expect(previousTier(model, "prod")).toBe("staging");
    expect(previousTier(model, "staging")).toBe("test");
    expect(nextTier(model, "test")).toBe("staging");
    expect(chainStart(model)).toBe("dev");
  });

  it("uses configuration, not a built-in order: a chain may skip a tier", () => {
    const direct: PromotionModel = {
      ...model,
      tiers: { ...model.tiers, prod: { promotion: { from: "test" } } },
    };
    expect(previousTier(direct, "prod")).toBe("test");
  });

  it("never takes the order list for the chain: a tier without promotion.from has no previous tier", () => {
    // The schema requires promotion.from on every tier; only a partial model can lack it.
    const implicit: PromotionModel = {
      project: "p",
      order: ["a", "b", "c"],
      tiers: { a: {}, b: {}, c: {} },
    };
    expect(previousTier(implicit, "c")).toBeUndefined();
    expect(nextTier(implicit, "a")).toBeUndefined();
  });

  it("refuses to promote into the start of the chain and names unknown tiers", () => {
    expect(() => requirePromotable(model, "dev")).toThrow(/start of the promotion chain/);
    expect(() => requirePromotable(model, "qa")).toThrow(/unknown tier "qa"/);
  });
});
