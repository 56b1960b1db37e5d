import { describe, expect, it } from "vitest";
import {
  approvalsVerdict,
  type CandidateFacts,
  candidateGates,
  requiredGates,
  tierGates,
} from "../../../../pipelines/src/core/promotion/gates.ts";

const digest = `sha256:${"a".repeat(64)}`;
const other = `sha256:${"b".repeat(64)}`;

/** Facts under which every gate passes; each test breaks exactly one. */
function facts(over: Partial<CandidateFacts> = {}): CandidateFacts {
  return {
    candidate: {
      service: "api",
      repository: "127.0.0.1:5000/tiers/api",
      reference: `127.0.0.1:5000/tiers/api@${digest}`,
      digest,
      commit: "c".repeat(40),
    },
    previousTier: "test",
    previousIsChainStart: false,
    passage: { ok: true, why: "record exists" },
    signature: { ok: true, why: "verifies" },
    tests: {
      ok: true,
      value: { passed: true, where: "releases/tests/c.yaml", summary: "12 passed" },
    },
    labels: { ok: true, value: { "tiers.service": "api" } },
    registryDigest: { ok: true, value: digest },
    rejection: { state: "absent", file: "releases/rejections/x.yaml" },
    ...over,
  };
}

const all = requiredGates(
  ["passage", "signature", "not-rejected", "no-dev-image", "approvals"],
  false,
);
const failed = (f: CandidateFacts, required = all) =>
  candidateGates("tiers", f, required)
    .filter((g) => !g.ok)
    .map((g) => `${g.gate}: ${g.why}`);

describe("gates", () => {
  it("all pass on good facts, in a fixed order", () => {
    const gates = candidateGates("tiers", facts(), all);
    expect(gates.every((g) => g.ok)).toBe(true);
    expect(gates.map((g) => g.gate)).toEqual([
      "passage",
      "signature",
      "tests-passed",
      "no-dev-image",
      "immutable-reference",
      "registry-digest",
      "not-rejected",
    ]);
    expect(gates.every((g) => g.service === "api")).toBe(true);
  });

  it("config chooses the gates; the invariants always apply; signing.required implies signature", () => {
    expect([...requiredGates(["not-rejected"], false)].sort()).toEqual(
      ["immutable-reference", "not-rejected", "registry-digest", "tests-passed"].sort(),
    );
    expect(requiredGates([], true).has("signature")).toBe(true);
    expect(requiredGates(["bogus"], false).has("bogus" as never)).toBe(false);
  });

  it("skipping a tier: no passage of the previous tier", () => {
    expect(
      failed(facts({ passage: { ok: false, failure: "missing", why: "no passage record x" } })),
    ).toEqual(["passage: has not passed test: no passage record x"]);
  });

  it("unsigned and wrong signer fail the signature gate with the verifier's reason", () => {
    expect(
      failed(facts({ signature: { ok: false, failure: "unsigned", why: "x is unsigned" } })),
    ).toEqual(["signature: x is unsigned"]);
  });

  it("tests: missing report and failed report both fail", () => {
    expect(failed(facts({ tests: { ok: false, why: "no report" } }))).toEqual([
      "tests-passed: no passing test report: no report",
    ]);
    expect(
      failed(
        facts({ tests: { ok: true, value: { passed: false, where: "r", summary: "1 failed" } } }),
      ),
    ).toEqual(["tests-passed: tests FAILED: 1 failed (r)"]);
  });

  it("a dev-labelled image fails, and unreadable labels fail closed", () => {
    expect(failed(facts({ labels: { ok: true, value: { "tiers.environment": "dev" } } }))).toEqual([
      "no-dev-image: image is labelled tiers.environment=dev (a development build)",
    ]);
    expect(failed(facts({ labels: { ok: false, why: "registry down" } }))[0]).toMatch(
      /no-dev-image: labels could not be read/,
    );
    // The label key follows the project name.
    expect(
      failed(facts({ labels: { ok: true, value: { "tiers.environment": "dev" } } }), all).length,
    ).toBe(1);
    expect(
      candidateGates(
        "acme",
        facts({ labels: { ok: true, value: { "tiers.environment": "dev" } } }),
        all,
      ).every((g) => g.ok),
    ).toBe(true);
  });

  it("a mutable tag fails immutable-reference", () => {
    const f = facts();
    f.candidate = { ...f.candidate, reference: "127.0.0.1:5000/tiers/api:latest" };
    expect(failed(f)).toEqual([
      'immutable-reference: "127.0.0.1:5000/tiers/api:latest" is a mutable tag; promote a digest (sha256:…) instead',
    ]);
  });

  it("digest changed: the registry serves another digest than recorded", () => {
    expect(failed(facts({ registryDigest: { ok: true, value: other } }))).toEqual([
      `registry-digest: digest changed: the registry serves ${other}, the record says ${digest}`,
    ]);
  });

  it("a rejected digest fails with who, when and why", () => {
    const rejection = {
      kind: "rejection" as const,
      digest,
      reason: "leaks",
      rejected_by: "ada",
      rejected_at: "2026-11-22T00:00:00Z",
    };
    expect(
      failed(
        facts({
          rejection: { state: "present", file: "releases/rejections/x.yaml", value: rejection },
        }),
      ),
    ).toEqual(["not-rejected: rejected by ada at 2026-11-22T00:00:00Z: leaks"]);
  });

  it("an unreadable rejection record fails not-rejected, naming the file and why (issue 10)", () => {
    const gates = failed(
      facts({
        rejection: {
          state: "invalid",
          file: "releases/rejections/sha256-ab.yaml",
          where: "releases/rejections/sha256-ab.yaml (at 0123456789ab):2:5",
          why: "record is not valid YAML: bad indentation",
        },
      }),
    );
    expect(gates).toEqual([
      "not-rejected: rejection record cannot be read, so the digest counts as rejected: releases/rejections/sha256-ab.yaml (at 0123456789ab):2:5: record is not valid YAML: bad indentation",
    ]);
  });

  it("the chain start's passage reads as published", () => {
    const gates = candidateGates(
      "tiers",
      facts({ previousIsChainStart: true, previousTier: "dev" }),
      all,
    );
    expect(gates[0]?.why).toMatch(/^published from dev/);
  });

  it("approvals gate appears only when required", () => {
    expect(tierGates({ approvals: { ok: false, why: "x" } }, requiredGates([], false))).toEqual([]);
    expect(tierGates({ approvals: { ok: false, why: "x" } }, all)).toEqual([
      { gate: "approvals", ok: false, why: "x" },
    ]);
  });
});

describe("approvals verdict", () => {
  const none = new Map<string, string[]>();
  it("none required passes", () => {
    expect(approvalsVerdict("prod", { required: 0, source: "none" }, undefined, none).ok).toBe(
      true,
    );
  });
  it("ci-environment passes only in the tier's own environment", () => {
    const policy = { required: 2, source: "ci-environment" };
    expect(approvalsVerdict("prod", policy, "prod", none).ok).toBe(true);
    expect(approvalsVerdict("prod", policy, "staging", none)).toEqual({
      ok: false,
      why: 'CI environment is "staging", not "prod"',
    });
    expect(approvalsVerdict("prod", policy, undefined, none).ok).toBe(false);
  });
  it("an unreadable approval record fails the gate, named, even when the others suffice (issue 10)", () => {
    const policy = { required: 1, source: "record" };
    const verdict = approvalsVerdict(
      "prod",
      policy,
      undefined,
      new Map([[digest, ["ada"]]]),
      undefined,
      [
        "releases/approvals/prod/sha256-ab.yaml (at 0123456789ab): record is malformed: approvals: Required",
      ],
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.why).toMatch(/approval record\(s\) cannot be read.*sha256-ab\.yaml.*malformed/);
  });
  it("record counts distinct approvers per digest", () => {
    const policy = { required: 2, source: "record" };
    expect(
      approvalsVerdict("prod", policy, undefined, new Map([[digest, ["ada", "ada"]]])),
    ).toEqual({
      ok: false,
      why: `missing approvals (releases/approvals/prod/): ${digest.slice(0, 19)} has 1/2`,
    });
    expect(
      approvalsVerdict("prod", policy, undefined, new Map([[digest, ["ada", "grace"]]])).ok,
    ).toBe(true);
  });
  // GitHub's "Prevent self-review" for environments: the user who triggered a deployment cannot
  // approve it (https://docs.github.com/en/actions/managing-workflow-runs-and-deployments/managing-deployments/managing-environments-for-deployment#required-reviewers).
  it("the promoting actor never counts as an approver, and the verdict says so", () => {
    const policy = { required: 2, source: "record" };
    const approvals = new Map([[digest, ["ada", "grace"]]]);
    expect(approvalsVerdict("prod", policy, undefined, approvals, "ada")).toEqual({
      ok: false,
      why: `missing approvals (releases/approvals/prod/): ${digest.slice(0, 19)} has 1/2; approvals by ada, who runs this promotion, are listed but not counted (separation of duties)`,
    });
    expect(approvalsVerdict("prod", policy, undefined, approvals, "linus").ok).toBe(true);
    const three = new Map([[digest, ["ada", "grace", "linus"]]]);
    expect(approvalsVerdict("prod", policy, undefined, three, "ada")).toEqual({
      ok: true,
      why: "2 approval(s) recorded for every digest; approvals by ada, who runs this promotion, are listed but not counted (separation of duties)",
    });
  });
  it("an unknown source fails closed", () => {
    expect(approvalsVerdict("prod", { required: 1, source: "email" }, undefined, none).ok).toBe(
      false,
    );
  });
});

describe("time gates: soak and window, and their overrides", () => {
  const timed = requiredGates([], false, { soak: true, window: true });
  const waiver = { by: "oncall", at: "2026-03-27T12:00:00.000Z", reason: "INC-42 hotfix" };
  const soakOf = (results: ReturnType<typeof candidateGates>) =>
    results.find((g) => g.gate === "soak");

  it("are required only when the tier asks for them", () => {
    expect(requiredGates([], false).has("soak")).toBe(false);
    expect(requiredGates([], false).has("window")).toBe(false);
    expect(timed.has("soak") && timed.has("window")).toBe(true);
  });

  it("a soak not over fails with its time left; without a measured soak it fails closed", () => {
    const soaking = facts({ soak: { ok: false, why: "soaking: 20m left of 1h" } });
    expect(soakOf(candidateGates("tiers", soaking, timed))).toEqual({
      gate: "soak",
      ok: false,
      why: "soaking: 20m left of 1h",
      service: "api",
    });
    expect(soakOf(candidateGates("tiers", facts(), timed))).toMatchObject({
      ok: false,
      why: "the soak was not measured",
    });
  });

  it("an allowed override waives a failing soak and the result carries the waiver", () => {
    const waived = soakOf(
      candidateGates(
        "tiers",
        facts({ soak: { ok: false, why: "soaking: 20m left of 1h" }, waivers: { soak: waiver } }),
        timed,
      ),
    );
    expect(waived).toMatchObject({ ok: true, waiver });
    expect(waived?.why).toMatch(/^WAIVED by oncall .*"INC-42 hotfix".*soaking: 20m left/);
  });

  it("an override the tier does not allow changes nothing but is named", () => {
    const refused = soakOf(
      candidateGates(
        "tiers",
        facts({
          soak: { ok: false, why: "soaking" },
          refusedWaivers: {
            soak: { waiver, why: "this tier's promotion.overrides does not list soak" },
          },
        }),
        timed,
      ),
    );
    expect(refused?.ok).toBe(false);
    expect(refused?.waiver).toBeUndefined();
    expect(refused?.why).toBe(
      "soaking; an override by oncall is recorded but does not count: this tier's promotion.overrides does not list soak",
    );
  });

  it("a passing gate ignores an override (nothing to waive, nothing recorded)", () => {
    const passing = soakOf(
      candidateGates(
        "tiers",
        facts({ soak: { ok: true, why: "soaked 2h ≥ 1h" }, waivers: { soak: waiver } }),
        timed,
      ),
    );
    expect(passing).toEqual({ gate: "soak", ok: true, why: "soaked 2h ≥ 1h", service: "api" });
  });

  it("the window gate is tier-wide, fails closed unevaluated, and takes a window waiver", () => {
    const approvals = { ok: true, why: "none needed" };
    expect(tierGates({ approvals }, timed)).toEqual([
      { gate: "window", ok: false, why: "the windows were not evaluated" },
    ]);
    const closed = { ok: false, why: 'inside deny "freeze"; next window opens …' };
    expect(tierGates({ approvals, window: closed }, timed)[0]?.ok).toBe(false);
    expect(tierGates({ approvals, window: closed, windowWaiver: waiver }, timed)[0]).toMatchObject({
      gate: "window",
      ok: true,
      waiver,
    });
  });
});
