/**
 * The time keys of a tier (issue 16): `promotion.criteria.soak`, `promotion.overrides`,
 * `windows:` and `deploy.verify`. Kept apart from schema.ts so the window rules (core/promotion/windows.ts) are
 * checked where they are declared, each problem located at its field.
 */

import { securityCriteriaSchema } from "../promotion/security.ts";
import { compileWindow } from "../promotion/windows.ts";
import { formatSpan, spanExample, spanMs, spanPattern } from "../time/span.ts";
import { z } from "../zod.ts";
import { performanceCriteriaSchema } from "./performance-schema.ts";

/** A span of elapsed time: `30m`, `2h`, `1d`. */
export const span = z.string().regex(spanPattern, `expected ${spanExample}`);

export const promotionCriteriaSchema = z.strictObject({
  /**
   * How long a digest must have stayed pinned, without interruption, in the tier it comes from
   * (`promotion.from`), measured from that tier's promotion record.
   */
  soak: span.optional(),
  /** The worst vulnerability severity the `security-scan` gate lets in (core/promotion/security.ts). */
  security: securityCriteriaSchema.optional(),
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

/** The most checks one verification period may run: `for` / `every` is bounded by design. */
export const maxVerifyChecks = 1000;
/** The longest verification period: a deploy command waits for it, so it cannot be unbounded. */
export const maxVerifyMs = 86_400_000;

/**
 * `deploy.verify: { for: 10m, every: 30s }`: after a deploy, the smoke and health checks run
 * again every `every` until `for` has passed; then the pins are recorded as verified
 * (engines/host/verify-period.ts). `every` must fit in `for`, and the period is bounded (a day,
 * at most maxVerifyChecks checks) since the deploy waits for it.
 */
export const verifySchema = z
  .strictObject({
    /** How long the checks keep running after the deploy. */
    for: span,
    /** How often they run during the period. */
    every: span,
  })
  .superRefine((verify, ctx) => {
    const forMs = spanMs(verify.for);
    const everyMs = spanMs(verify.every);
    if (forMs === undefined || everyMs === undefined) return; // the regex already said why
    if (everyMs > forMs) {
      ctx.addIssue({
        code: "custom",
        path: ["every"],
        message: `every (${verify.every}) is longer than for (${verify.for}): the period would run no check`,
      });
    }
    if (forMs > maxVerifyMs) {
      ctx.addIssue({
        code: "custom",
        path: ["for"],
        message: `a verification period of ${verify.for} is longer than ${formatSpan(maxVerifyMs)}: the deploy waits for it`,
      });
    } else if (forMs / everyMs > maxVerifyChecks) {
      ctx.addIssue({
        code: "custom",
        path: ["every"],
        message: `every ${verify.every} for ${verify.for} runs more than ${maxVerifyChecks} checks; check less often`,
      });
    }
  });
export type VerifySettings = z.infer<typeof verifySchema>;
