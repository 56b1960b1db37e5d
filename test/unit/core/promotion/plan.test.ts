import { describe, expect, it } from "vitest";
import type { TiersError } from "../../../../pipelines/src/core/errors.ts";
import { readPins } from "../../../../pipelines/src/core/promotion/overlay.ts";
import {
  buildPlan,
  computeOverlayEdit,
  planLines,
  planToJson,
  renderPlan,
} from "../../../../pipelines/src/core/promotion/plan.ts";
import {
  historyPath,
  parseRecord,
  passagePath,
  passageSchema,
  renderRecord,
} from "../../../../pipelines/src/core/promotion/records.ts";
import { parseDigest, parseImageRef } from "../../../../pipelines/src/core/promotion/refs.ts";

const zero = `sha256:${"0".repeat(64)}`;
const A = `sha256:${"a".repeat(64)}`;
const B = `sha256:${"b".repeat(64)}`;
const overlay = `images:
  # pins
  - name: tiers/api
    newName: 127.0.0.1:5000/tiers/api
    digest: ${zero}
  - name: tiers/worker
    newName: 127.0.0.1:5000/tiers/worker
    digest: ${zero}
`;
const where = "k8s/overlays/staging/kustomization.yaml";

describe("plan", () => {
  const candidates = [
    { service: "api", repository: "127.0.0.1:5000/tiers/api", digest: A },
    { service: "worker", repository: "127.0.0.1:5000/tiers/worker", digest: B },
  ];

  it("computes per-service moves and the overlay edit", () => {
    const edit = computeOverlayEdit(overlay, readPins(overlay, where), candidates, where);
    expect(edit.missing).toEqual([]);
    expect(edit.changes.map((c) => [c.service, c.image, c.from, c.to])).toEqual([
      ["api", "tiers/api", zero, A],
      ["worker", "tiers/worker", zero, B],
    ]);
    expect(readPins(edit.after, where).map((p) => p.digest)).toEqual([A, B]);
  });

  it("names services with no images: entry instead of inventing one", () => {
    const edit = computeOverlayEdit(
      overlay,
      readPins(overlay, where),
      [{ service: "web", repository: "127.0.0.1:5000/tiers/web", digest: A }],
      where,
    );
    expect(edit.missing).toEqual(["web"]);
  });

  it("renders the diff, every gate and a blocked verdict when a gate fails", () => {
    const edit = computeOverlayEdit(overlay, readPins(overlay, where), candidates, where);
    const plan = buildPlan({
      tier: "staging",
      from: "test",
      overlay: where,
      overlayBefore: overlay,
      overlayAfter: edit.after,
      commit: "c".repeat(40),
      evidence: "local",
      changes: edit.changes,
      gates: [
        { gate: "passage", ok: true, why: "passed test", service: "api" },
        { gate: "approvals", ok: false, why: "missing approvals" },
      ],
    });
    expect(plan.ok).toBe(false);
    expect(plan.unchanged).toBe(false);
    expect(plan.diff).toContain(`-    digest: ${zero}`);
    expect(plan.diff).toContain(`+    digest: ${A}`);
    const lines = renderPlan(plan);
    expect(lines[0]).toBe(`plan: promote into staging (from test) — artefact ${"c".repeat(12)}`);
    expect(lines).toContain("  ✓ passage [api]: passed test");
    expect(lines).toContain("  ✗ approvals: missing approvals");
    expect(lines[lines.length - 1]).toBe(
      "verdict: BLOCKED — 1 gate(s) failed; nothing would change",
    );
    expect(planToJson(plan)).not.toHaveProperty("overlayAfter");
  });

  it("marks failing gates and a BLOCKED verdict as errors by level, not by a ✗ in the text", () => {
    const plan = buildPlan({
      tier: "staging",
      from: "test",
      overlay: null,
      overlayBefore: null,
      overlayAfter: null,
      commit: null,
      evidence: "local",
      changes: [],
      gates: [
        { gate: "passage", ok: true, why: "passed test ✗ in a reason", service: "api" },
        { gate: "approvals", ok: false, why: "missing approvals" },
      ],
    });
    const errors = planLines(plan).filter((l) => l.level === "error");
    expect(errors.map((l) => l.text)).toEqual([
      "  ✗ approvals: missing approvals",
      "verdict: BLOCKED — 1 gate(s) failed; nothing would change",
    ]);
    expect(planLines(plan).map((l) => l.text)).toEqual(renderPlan(plan));
  });

  it("is unchanged (nothing to do) when every digest is already pinned", () => {
    const pinned = overlay.replaceAll(zero, A);
    const edit = computeOverlayEdit(pinned, readPins(pinned, where), [candidates[0]!], where);
    const plan = buildPlan({
      tier: "staging",
      from: "test",
      overlay: where,
      overlayBefore: pinned,
      overlayAfter: edit.after,
      commit: null,
      evidence: "cosign",
      changes: edit.changes,
      gates: [],
    });
    expect(plan.unchanged).toBe(true);
    expect(plan.diff).toBe("");
    expect(renderPlan(plan)).toContain("verdict: nothing to do — already pinned");
  });

  it("lists the flags whose value changes on the way, and says so when none does", () => {
    const edit = computeOverlayEdit(overlay, readPins(overlay, where), candidates, where);
    const base = {
      tier: "staging",
      from: "test",
      overlay: where,
      overlayBefore: overlay,
      overlayAfter: edit.after,
      commit: null,
      evidence: "local" as const,
      changes: edit.changes,
      gates: [],
    };
    const changed = buildPlan({
      ...base,
      flags: [{ flag: "verbose_errors", description: "Errors in answers.", from: true, to: false }],
    });
    const lines = renderPlan(changed);
    const at = lines.indexOf("flags that change (test → staging):");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe("  verbose_errors: on → off (Errors in answers.)");
    expect(planToJson(changed)).toMatchObject({
      flags: [{ flag: "verbose_errors", from: true, to: false }],
    });
    const same = buildPlan(base);
    expect(same.flags).toEqual([]);
    expect(renderPlan(same)).toContain("flags: same values as test");
  });
});

describe("records and references", () => {
  it("lays records out by tier and digest, with sortable history names", () => {
    expect(passagePath("staging", A)).toBe(
      `releases/passages/staging/sha256-${"a".repeat(64)}.yaml`,
    );
    expect(historyPath("prod", new Date("2026-11-22T02:03:04.567Z"), "rollback", B)).toBe(
      `releases/history/prod/20261122T020304Z-rollback-${"b".repeat(12)}.yaml`,
    );
  });

  it("round-trips a passage record and names the file and field of a malformed one", () => {
    const record = {
      kind: "passage" as const,
      tier: "test",
      digest: A,
      service: "api",
      repository: "r",
      commit: null,
      recorded_by: "ada",
      recorded_at: "2026-11-22T00:00:00.000Z",
      gates: [{ gate: "tests-passed", ok: true, why: "ok", service: "api" }],
      evidence: {
        verifier: "local" as const,
        signer: null,
        signature: null,
        annotations: { "tiers.tier": "test" },
      },
    };
    const text = renderRecord(record, "api passed test");
    expect(text.startsWith("# api passed test\n")).toBe(true);
    expect(parseRecord(passageSchema, text, "f.yaml")).toEqual(record);
    let described = "";
    try {
      parseRecord(passageSchema, text.replace(A, "sha256:short"), "f.yaml");
    } catch (error) {
      described = (error as TiersError).describe();
    }
    expect(described).toMatch(/^f.yaml: record is malformed: digest: must be sha256:<64 hex>/);
    expect(described).toMatch(/hint: restore it from git/);
  });

  it("parses references without mistaking a registry port for a tag", () => {
    expect(parseImageRef("127.0.0.1:5000/tiers/api:abc")).toEqual({
      repository: "127.0.0.1:5000/tiers/api",
      tag: "abc",
    });
    expect(parseImageRef(`127.0.0.1:5000/tiers/api@${A}`)).toEqual({
      repository: "127.0.0.1:5000/tiers/api",
      digest: A,
    });
    expect(() => parseDigest("latest")).toThrow(/--digest must be a full digest/);
  });
});
