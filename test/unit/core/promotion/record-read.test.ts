/** The typed record read (core/promotion/record-read.ts): present, absent, invalid — never confused. */
import { describe, expect, it } from "vitest";
import { readRecordText } from "../../../../pipelines/src/core/promotion/record-read.ts";
import { rejectionSchema } from "../../../../pipelines/src/core/promotion/records.ts";

const file = "releases/rejections/sha256-ab.yaml";
const digest = `sha256:${"ab".repeat(32)}`;

describe("readRecordText (issue 10: every record read fails closed)", () => {
  it("no file is absent", () => {
    expect(readRecordText(rejectionSchema, undefined, file)).toEqual({ state: "absent", file });
  });

  it("a complete record is present", () => {
    const text = `kind: rejection\ndigest: ${digest}\nreason: leaks\nrejected_by: ada\nrejected_at: "2026-11-22T00:00:00Z"\n`;
    const read = readRecordText(rejectionSchema, text, file);
    expect(read.state).toBe("present");
  });

  it("invalid YAML is invalid, located at file:line:col", () => {
    const read = readRecordText(rejectionSchema, "kind: rejection\n  digest: [\n", file);
    expect(read.state).toBe("invalid");
    if (read.state !== "invalid") return;
    expect(read.file).toBe(file);
    expect(read.where).toMatch(new RegExp(`^${file.replace(/[.]/g, "\\.")}:\\d+:\\d+$`));
    expect(read.why).toMatch(/not valid YAML/);
  });

  it("a record with only rejected_by is invalid, naming the missing fields", () => {
    const read = readRecordText(rejectionSchema, "rejected_by: mallory\n", file);
    expect(read.state).toBe("invalid");
    if (read.state !== "invalid") return;
    expect(read.where).toBe(file);
    expect(read.why).toMatch(/malformed: .*kind.*digest.*reason/);
  });

  it("an empty file is invalid, not absent", () => {
    expect(readRecordText(rejectionSchema, "", file).state).toBe("invalid");
  });
});
