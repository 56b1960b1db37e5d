/**
 * One typed result for reading any promotion record (passage, rejection, approval, test report,
 * history, artefact): present and valid, absent, or invalid with the file and why. The three
 * cases are kept apart so no caller can read "could not be read" as "not there": an invalid
 * rejection is not "not rejected", an invalid passage is not "never passed". Every gate and
 * command that reads a record branches on `state` and fails closed on `invalid`.
 */
import type { z } from "zod";
import { TiersError } from "../errors.ts";
import { parseRecord } from "./records.ts";

export type RecordRead<T> =
  | { state: "present"; file: string; value: T }
  | { state: "absent"; file: string }
  | {
      state: "invalid";
      file: string;
      /** `file:line:col` where the parser located the problem, else the file. */
      where: string;
      why: string;
    };

/** The invalid case of a read, from what went wrong (a TiersError names where, if it can). */
export function invalidRead(
  file: string,
  error: unknown,
): Extract<RecordRead<never>, { state: "invalid" }> {
  const where = error instanceof TiersError && error.where ? error.where : file;
  const why = error instanceof Error ? error.message : String(error);
  return { state: "invalid", file, where, why };
}

/**
 * Classifies a record's text: `undefined` (no such file) is absent, text that parses and
 * matches the schema is present, anything else is invalid with the parser's location.
 */
export function readRecordText<T>(
  schema: z.ZodType<T>,
  text: string | undefined,
  file: string,
  label = file,
): RecordRead<T> {
  if (text === undefined) return { state: "absent", file };
  try {
    return { state: "present", file, value: parseRecord(schema, text, label) };
  } catch (error) {
    return invalidRead(file, error);
  }
}

/** How a message names an invalid record: `<where>: <why>`. */
export function describeInvalid(read: Extract<RecordRead<unknown>, { state: "invalid" }>): string {
  return `${read.where}: ${read.why}`;
}

/** The record's value when present; throws a located error when invalid; undefined when absent. */
export function presentOrThrow<T>(read: RecordRead<T>): T | undefined {
  if (read.state === "present") return read.value;
  if (read.state === "absent") return undefined;
  throw new TiersError(`unreadable record: ${read.why}`, {
    where: read.where,
    hint: "restore it from git (`git log -p -- <file>`); records are written by tiers only",
  });
}
