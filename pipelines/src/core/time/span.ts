/**
 * Spans of elapsed time in tier files (`promotion.criteria.soak: 2h`, a window's `duration: 64h`).
 * One strict form, `<whole number><unit>` with s, m, h, d or w, so a value reads the same to
 * people and to the tool: a day is 24 elapsed hours, never "until the same wall-clock time
 * tomorrow" (which a daylight-saving change would make 23 or 25 hours).
 *
 * Hand-written rather than the `ms` package: `ms` also accepts "1.5h", "2 days" and bare numbers
 * (milliseconds), which would make `soak: 30` silently mean 30 ms.
 */

const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export const spanPattern = /^([1-9]\d{0,5})(s|m|h|d|w)$/;

export const spanExample = 'a span such as "30m", "2h", "1d" or "1w" (s, m, h, d, w)';

/** `2h` → 7200000, or undefined when `text` is not a span. */
export function spanMs(text: string): number | undefined {
  const match = spanPattern.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
}

/** 9000000 → `2h 30m`; under a minute → `45s`; never empty. */
export function formatSpan(ms: number): string {
  // Rounded up: a soak with 59m 20s left says "1h" would be wrong, "60m" is not; round to the
  // minute above once there is a minute or more, so "time left" never understates.
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const total = seconds >= 60 ? Math.ceil(seconds / 60) * 60 : seconds;
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts = [d ? `${d}d` : "", h ? `${h}h` : "", m ? `${m}m` : ""].filter(Boolean);
  if (parts.length === 0) return `${s}s`;
  return parts.join(" ");
}
