import { createHash } from "node:crypto";

/** A job's result: plain JSON, stored in the `result` column. */
export type JobResult = Record<string, unknown>;

/** Turns a job's payload into its result; throws to fail the attempt. */
export type Processor = (payload: string) => JobResult | Promise<JobResult>;

/**
 * A failure that retrying cannot fix (unknown kind, malformed payload): the job is marked
 * failed at once instead of spending its remaining attempts.
 */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

/** Counts words, lines and UTF-8 bytes of the payload. */
export function wordcount(payload: string): JobResult {
  const words = payload.split(/\s+/u).filter((w) => w.length > 0).length;
  const lines = payload.length === 0 ? 0 : payload.replace(/\r?\n$/u, "").split(/\r?\n/u).length;
  return { words, lines, bytes: Buffer.byteLength(payload, "utf8") };
}

/** SHA-256 of the payload's UTF-8 bytes, hex encoded. */
export function checksum(payload: string): JobResult {
  return {
    algorithm: "sha256",
    digest: createHash("sha256").update(payload, "utf8").digest("hex"),
    bytes: Buffer.byteLength(payload, "utf8"),
  };
}

/** One processor per job kind the API accepts (a unit test keeps the two lists equal). */
export const PROCESSORS: Readonly<Record<string, Processor>> = Object.freeze({
  wordcount,
  checksum,
});

/** Runs the processor for `kind`; an unknown kind is a permanent failure. */
export async function processJob(
  processors: Readonly<Record<string, Processor>>,
  kind: string,
  payload: string,
): Promise<JobResult> {
  const processor = Object.hasOwn(processors, kind) ? processors[kind] : undefined;
  if (!processor) {
    throw new PermanentJobError(
      `no processor for job kind "${kind}" (this worker handles: ${Object.keys(processors).join(", ")})`,
    );
  }
  return processor(payload);
}
