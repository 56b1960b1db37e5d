/** Which pins hold before a deploy and which moves an automatic rollback may make (issue 10). */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type EnvironmentModel,
  loadModel,
} from "../../../../pipelines/src/core/environment/index.ts";
import {
  deployRefusal,
  deploySignature,
  type PinFacts,
  pinVerdicts,
  restorable,
} from "../../../../pipelines/src/core/promotion/pin-verdict.ts";
import { repoRoot } from "../../../support/repo.ts";

const digest = `sha256:${"ab".repeat(32)}`;
const placeholder = `sha256:${"0".repeat(64)}`;
const overlay = "k8s/overlays/prod/kustomization.yaml";
let model: EnvironmentModel;

beforeAll(async () => {
  // The fixture chain: dev → test → staging → prod, staging and prod require key signatures.
  model = await loadModel(join(repoRoot, "test", "fixtures", "promotion-chain"));
});

const pin = (over: Partial<PinFacts> = {}): PinFacts => ({
  service: "api",
  image: "api",
  repository: "reg/tiers/api",
  digest,
  overlay,
  passage: { ok: true, why: "recorded" },
  rejection: { state: "absent", file: "releases/rejections/x.yaml" },
  signature: { ok: true, why: "verifies" },
  ...over,
});

describe("pin verdicts (core/promotion/pin-verdict.ts)", () => {
  it("checks the previous tier's passage signature by the tier's own policy", () => {
    expect(deploySignature(model, "prod")?.passageOf).toBe("staging");
    expect(deploySignature(model, "prod")?.policy.mode).toBe("key");
  });

  it("a pin with passage, no rejection and a verifying signature holds", () => {
    expect(pinVerdicts(model, "prod", [pin()])).toEqual([
      expect.objectContaining({ service: "api", holds: true, why: [] }),
    ]);
    expect(deployRefusal("prod", pinVerdicts(model, "prod", [pin()]))).toBeUndefined();
  });

  it("no passage into the tier: refused, naming the pin, digest, overlay and why", () => {
    const verdicts = pinVerdicts(model, "prod", [
      pin({
        passage: {
          ok: false,
          failure: "missing",
          why: "no passage record releases/passages/prod/x.yaml in git (HEAD)",
        },
      }),
    ]);
    const refusal = deployRefusal("prod", verdicts);
    expect(refusal?.message).toContain(
      `api ${digest} (${overlay}): no passage into prod holds: no passage record releases/passages/prod/x.yaml in git (HEAD)`,
    );
    expect(refusal?.where).toBe(overlay);
  });

  it("an unreadable rejection record makes the pin not hold (fails closed)", () => {
    const [verdict] = pinVerdicts(model, "prod", [
      pin({
        rejection: { state: "invalid", file: "r.yaml", where: "r.yaml:1:7", why: "not valid YAML" },
      }),
    ]);
    expect(verdict?.holds).toBe(false);
    expect(verdict?.why.join()).toMatch(/cannot be read.*r\.yaml:1:7: not valid YAML/);
  });

  it("a signature that does not verify, or was never checked, makes the pin not hold where required", () => {
    const [bad] = pinVerdicts(model, "prod", [
      pin({ signature: { ok: false, why: "wrong signer" } }),
    ]);
    expect(bad?.why).toEqual(["signature does not verify: wrong signer"]);
    const { signature: _s, ...unchecked } = pin();
    expect(pinVerdicts(model, "prod", [unchecked])[0]?.why).toEqual([
      "its signature was not checked",
    ]);
  });

  it("facts never gathered do not pass: a missing check is a failure", () => {
    const bare: PinFacts = { service: "api", image: "api", repository: "r", digest, overlay };
    expect(pinVerdicts(model, "prod", [bare])[0]?.holds).toBe(false);
  });

  it("a pin that is not a digest does not hold; the placeholder is left to deploy's own refusal", () => {
    expect(pinVerdicts(model, "prod", [pin({ digest: undefined })])[0]?.why).toEqual([
      "pins no digest, not a sha256 digest",
    ]);
    expect(pinVerdicts(model, "prod", [pin({ digest: placeholder })])).toEqual([]);
  });
});

describe("automatic rollback moves (restorable)", () => {
  const move = (service: string, to: string) => ({ service, to });
  it("restores a move to a pin that holds or to the placeholder, keeps the others with why", () => {
    const other = `sha256:${"cd".repeat(32)}`;
    const verdicts = pinVerdicts(model, "prod", [
      pin({ digest }),
      pin({ service: "worker", digest: other, passage: { ok: false, why: "withdrawn" } }),
    ]);
    const { restore, kept } = restorable(
      "prod",
      [move("api", digest), move("worker", other), move("web", placeholder)],
      verdicts,
    );
    expect(restore.map((m) => m.service)).toEqual(["api", "web"]);
    expect(kept).toEqual([
      { move: move("worker", other), why: ["no passage into prod holds: withdrawn"] },
    ]);
  });
});
