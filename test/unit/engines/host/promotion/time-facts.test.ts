/**
 * The time facts the engine gathers, from an in-memory record reader that parses real YAML
 * texts the way PromotionRepo does (parseRecord): a malformed record fails closed.
 */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type { Tier } from "../../../../../pipelines/src/core/environment/index.ts";
import { parseRecord } from "../../../../../pipelines/src/core/promotion/records.ts";
import type { RecordReader } from "../../../../../pipelines/src/engines/host/promotion/sources.ts";
import {
  candidateSoak,
  digestOverrides,
  tierHistory,
  windowFacts,
} from "../../../../../pipelines/src/engines/host/promotion/time-facts.ts";

const digest = `sha256:${"d".repeat(64)}`;

function reader(files: Record<string, string>): RecordReader {
  return {
    files: async (dir) => Object.keys(files).filter((f) => f.startsWith(`${dir}/`)),
    async record<T>(schema: z.ZodType<T>, path: string) {
      const text = files[path];
      return text === undefined ? undefined : parseRecord(schema, text, path);
    },
    pinsAt: async () => undefined,
  } as RecordReader;
}

const history = (at: string) => `kind: promotion
tier: stage
at: "${at}"
by: someone
commit: null
pins:
  - { service: svc, image: svc, from: null, to: "${digest}" }
`;

const candidate = {
  service: "svc",
  repository: "r/svc",
  reference: `r/svc@${digest}`,
  digest,
  commit: null,
};

describe("time facts from records", () => {
  it("measures the soak from the previous tier's history record", async () => {
    const records = reader({
      "releases/history/stage/20260301T100000Z-promotion-dddd.yaml": history(
        "2026-03-01T10:00:00.000Z",
      ),
    });
    const facts = await tierHistory(records, "stage");
    const verdict = candidateSoak(
      "stage",
      "2h",
      facts,
      candidate,
      new Date("2026-03-01T11:00:00Z"),
    );
    expect(verdict).toMatchObject({ ok: false, remainingMs: 3_600_000 });
    expect(verdict.why).toMatch(/^soaking: 1h left of 2h; pinned in stage since 2026-03-01T10:00/);
  });

  it("a malformed history record fails the soak and names the file", async () => {
    const records = reader({
      "releases/history/stage/20260301T100000Z-promotion-dddd.yaml": "kind: promotion\nat: 3\n",
    });
    const facts = await tierHistory(records, "stage");
    expect(facts.ok).toBe(false);
    const verdict = candidateSoak(
      "stage",
      "2h",
      facts,
      candidate,
      new Date("2027-01-01T00:00:00Z"),
    );
    expect(verdict.ok).toBe(false);
    expect(verdict.why).toMatch(/cannot be measured: .*releases\/history\/stage\/20260301T100000Z/);
  });

  it("overrides split by the tier's allow-list; a malformed override record is a problem, not a waiver", async () => {
    const tier = { promotion: { overrides: ["window"] } } as unknown as Tier;
    const good = reader({
      [`releases/overrides/prod/sha256-${"d".repeat(64)}.yaml`]: `kind: override
tier: prod
digest: "${digest}"
overrides:
  - { gate: soak, by: a, at: "2026-03-01T10:00:00Z", reason: r1 }
  - { gate: window, by: b, at: "2026-03-01T10:00:00Z", reason: r2 }
`,
    });
    const split = await digestOverrides(good, "prod", tier, digest);
    expect(split.waivers).toEqual({
      window: { by: "b", at: "2026-03-01T10:00:00Z", reason: "r2" },
    });
    expect(split.refused.soak).toMatchObject({
      waiver: { by: "a" },
      why: "this tier's promotion.overrides does not list soak",
    });
    // Whoever runs the promotion cannot waive its own gate; someone else's override counts.
    const own = await digestOverrides(good, "prod", tier, digest, "b");
    expect(own.waivers).toEqual({});
    expect(own.refused.window?.why).toMatch(/^b runs this promotion and cannot waive its own gate/);
    const broken = reader({
      [`releases/overrides/prod/sha256-${"d".repeat(64)}.yaml`]: "kind: override\n",
    });
    const none = await digestOverrides(broken, "prod", tier, digest);
    expect(none.waivers).toEqual({});
    expect(none.problem).toMatch(/record is malformed/);
  });

  it("a window waiver counts only when every candidate carries one", () => {
    const tier = {
      windows: [
        {
          kind: "deny",
          rrule: "FREQ=DAILY",
          start: "2026-01-01T00:00",
          duration: "1d",
          time_zone: "UTC",
          reason: "always",
        },
      ],
    } as unknown as Tier;
    const w = { by: "b", at: "t", reason: "r" };
    const now = new Date("2026-03-01T12:00:00Z");
    expect(windowFacts(tier, now, [{ window: w }, {}]).windowWaiver).toBeUndefined();
    expect(windowFacts(tier, now, [{ window: w }, { window: w }]).windowWaiver).toEqual(w);
    expect(windowFacts(tier, now, [{ window: w }]).window?.ok).toBe(false);
  });
});
