/** Passage records in git: listing a tier's passages and checking one as the passage gate does. */
import type { EvidenceCheck, Fact } from "../../../core/promotion/gates.ts";
import { describeInvalid, presentOrThrow } from "../../../core/promotion/record-read.ts";
import {
  type PassageRecord,
  passagePath,
  passageSchema,
  releasesDir,
} from "../../../core/promotion/records.ts";
import type { RemoteImage } from "../../../tools/registry.ts";
import { type RecordReader, readRecord } from "./sources.ts";

/**
 * Every passage record of a tier at HEAD, newest first. An unreadable one fails the listing,
 * naming the file: skipping it could make an older passage look like the newest.
 */
export async function listPassages(records: RecordReader, tier: string): Promise<PassageRecord[]> {
  const files = await records.files(`${releasesDir}/passages/${tier}`);
  const out: PassageRecord[] = [];
  for (const file of files) {
    const record = presentOrThrow(await readRecord(records, passageSchema, file));
    if (record) out.push(record);
  }
  return out.sort((a, b) => b.recorded_at.localeCompare(a.recorded_at));
}

/**
 * The passage gate's evidence in git: the record exists at HEAD, names this tier and digest,
 * and the registry still serves the digest.
 */
export async function passageCheck(
  records: RecordReader,
  tier: string,
  digest: string,
  served: Fact<RemoteImage>,
): Promise<{ check: EvidenceCheck; record?: PassageRecord }> {
  const path = passagePath(tier, digest);
  const read = await readRecord(records, passageSchema, path);
  if (read.state === "invalid") {
    return {
      check: {
        ok: false,
        failure: "invalid",
        why: `passage record cannot be read: ${describeInvalid(read)}`,
      },
    };
  }
  if (read.state === "absent") {
    return {
      check: { ok: false, failure: "missing", why: `no passage record ${path} in git (HEAD)` },
    };
  }
  const record = read.value;
  if (record.tier !== tier || record.digest !== digest) {
    return {
      check: {
        ok: false,
        failure: "invalid",
        why: `${path} is about ${record.tier} ${record.digest}`,
      },
      record,
    };
  }
  if (!served.ok) {
    return { check: { ok: false, failure: "digest-changed", why: served.why }, record };
  }
  return {
    check: {
      ok: true,
      why: `${path} (by ${record.recorded_by}, ${record.recorded_at}, ${record.evidence.verifier} evidence) and the registry serves the digest`,
    },
    record,
  };
}
