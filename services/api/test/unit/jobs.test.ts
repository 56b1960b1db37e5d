import { describe, expect, it } from "vitest";
import { isJobId, MAX_PAYLOAD_BYTES, toJobView, validateJobRequest } from "../../src/jobs.ts";

describe("job requests", () => {
  it("accepts a known kind with a string payload and defaults the retry budget to 3", () => {
    expect(validateJobRequest({ kind: "checksum", payload: "" })).toEqual({
      ok: true,
      value: { kind: "checksum", payload: "", maxAttempts: 3 },
    });
  });

  it("rejects a payload over the limit, counted in UTF-8 bytes rather than characters", () => {
    const euro = "€".repeat(Math.floor(MAX_PAYLOAD_BYTES / 3) + 1); // 3 bytes each
    expect(euro.length).toBeLessThan(MAX_PAYLOAD_BYTES);
    const checked = validateJobRequest({ kind: "wordcount", payload: euro });
    expect(checked.ok).toBe(false);
  });

  it.each([[0], [11], [2.5], ["3"]])("rejects maxAttempts %j", (maxAttempts) => {
    const checked = validateJobRequest({ kind: "wordcount", payload: "x", maxAttempts });
    expect(checked).toEqual({ ok: false, problems: [expect.stringMatching(/maxAttempts/)] });
  });

  it.each([[null], [[]], ["text"], [42]])("rejects a body that is not an object: %j", (body) => {
    expect(validateJobRequest(body).ok).toBe(false);
  });

  it("recognises UUIDs only", () => {
    expect(isJobId("00000000-0000-4000-8000-000000000001")).toBe(true);
    expect(isJobId("00000000-0000-4000-8000-00000000000")).toBe(false);
    expect(isJobId("1; DROP TABLE jobs")).toBe(false);
  });

  it("shows jobs in camelCase with ISO timestamps and without the payload", () => {
    const view = toJobView({
      id: "a",
      kind: "wordcount",
      status: "done",
      attempts: 1,
      max_attempts: 3,
      result: { words: 2 },
      last_error: null,
      created_at: new Date(0),
      updated_at: new Date(1000),
    });
    expect(view).toEqual({
      id: "a",
      kind: "wordcount",
      status: "done",
      attempts: 1,
      maxAttempts: 3,
      result: { words: 2 },
      error: null,
      createdAt: "1970-01-01T00:00:00.000Z",
      updatedAt: "1970-01-01T00:00:01.000Z",
    });
  });
});
