import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { JOB_KINDS } from "../../../api/src/jobs.ts";
import {
  checksum,
  PermanentJobError,
  PROCESSORS,
  processJob,
  wordcount,
} from "../../src/processors.ts";

describe("job processors", () => {
  it("has exactly one processor per job kind the API accepts", () => {
    expect(Object.keys(PROCESSORS).sort()).toEqual([...JOB_KINDS].sort());
  });

  it.each([
    ["", { words: 0, lines: 0, bytes: 0 }],
    ["one", { words: 1, lines: 1, bytes: 3 }],
    ["  two  words \n", { words: 2, lines: 1, bytes: 14 }],
    ["a\nb\r\nc", { words: 3, lines: 3, bytes: 6 }],
    ["größe", { words: 1, lines: 1, bytes: 7 }],
  ])("counts words, lines and UTF-8 bytes of %j", (payload, expected) => {
    expect(wordcount(payload)).toEqual(expected);
  });

  it("computes the SHA-256 of the payload's UTF-8 bytes", () => {
    const payload = "build once, promote the digest";
    expect(checksum(payload)).toEqual({
      algorithm: "sha256",
      digest: createHash("sha256").update(Buffer.from(payload, "utf8")).digest("hex"),
      bytes: 30,
    });
    expect(checksum("").digest).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("fails an unknown kind permanently, listing the kinds it handles", async () => {
    const run = processJob(PROCESSORS, "resize", "x");
    await expect(run).rejects.toThrow(PermanentJobError);
    await expect(processJob(PROCESSORS, "resize", "x")).rejects.toThrow(/wordcount, checksum/);
  });

  it("does not treat inherited object keys as job kinds", async () => {
    await expect(processJob(PROCESSORS, "toString", "x")).rejects.toThrow(PermanentJobError);
  });
});
