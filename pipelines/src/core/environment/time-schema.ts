/**
 * The time keys of a tier (issue 16): `promotion.criteria.soak`, `promotion.overrides` and
 * `windows:`. Kept apart from schema.ts so the window rules (core/promotion/windows.ts) are
 * checked where they are declared, each problem located at its field.
 */
import { z } from "zod";
import { compileWindow } from "../promotion/windows.ts";
import { spanExample, spanPattern } from "../time/span.ts";
import { performanceCriteriaSchema } from "./performance-schema.ts";

/** A span of elapsed time: `30m`, `2h`, `1d`. */
export const span = z.string().regex(spanPattern, `expected ${spanExample}`);

export const promotionCriteriaSchema = z.strictObject({
  /**
   * How long a digest must have stayed pinned, without interruption, in the tier it comes from
   * (`promotion.from`), measured from that tier's promotion record.
   */
  soak: span.optional(),
  /** Load-test thresholds the `performance` gate applies (issue 15; performance-schema.ts). */
  performance: performanceCriteriaSchema.optional(),
});

/** Time gates a tier lets a recorded override (`tiers approve --override <gate>`) waive. */
export const overridableGates = ["soak", "window"] as const;
export type OverridableGate = (typeof overridableGates)[number];

export const promotionOverridesSchema = z.array(z.enum(overridableGates));

const windowEntry = z
  .strictObject({
    kind: z.enum(["allow", "deny"]),
    /** RFC 5545 RRULE parts, without DTSTART: `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH;BYHOUR=9`. */
    rrule: z.string().min(1),
    /** The first occurrence (RFC 5545 DTSTART), local wall-clock time in time_zone. */
    start: z.string().min(1),
    /** How long each occurrence lasts. */
    duration: span,
    /** IANA time zone the rule is read in, e.g. Europe/Berlin. */
    time_zone: z.string().min(1),
    /** Why the window exists; printed with every refusal it causes. */
    reason: z.string().min(1),
  })
  .superRefine((entry, ctx) => {
    const compiled = compileWindow(entry);
    if ("problems" in compiled) {
      for (const p of compiled.problems) {
        // A bad duration already has the regex's own issue.
        if (p.field === "duration") continue;
        ctx.addIssue({ code: "custom", path: [p.field], message: p.message });
      }
    }
  });

export const windowsSchema = z.array(windowEntry);
