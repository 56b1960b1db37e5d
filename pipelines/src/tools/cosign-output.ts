/**
 * What a successful cosign verification prints, parsed into typed values (cosign v2 CLI
 * reference, and the real v2.4.3 output recorded in test/unit/tools/fixtures/cosign/):
 * - `cosign verify --output json` prints a JSON array of verified payloads
 *   (`[{critical:{identity:{docker-reference}, image:{docker-manifest-digest}, type},
 *   optional:{...annotations, Subject, Issuer}}]`);
 * - `cosign verify-attestation` prints one DSSE envelope per line
 *   (`{payloadType, payload: base64(in-toto statement), signatures}`).
 * Anything else throws, so a changed output format fails a gate loudly instead of passing it.
 */

/** One verified signature payload. */
export interface VerifiedSignature {
  /** The digest the signature is bound to (`critical.image.docker-manifest-digest`). */
  digest: string;
  /** The repository the signer named (`critical.identity.docker-reference`). */
  dockerReference: string;
  /** The signed annotations (the payload's `optional`, minus cosign's own keys). */
  annotations: Record<string, string>;
  /** Keyless: the certificate subject and issuer cosign reports. */
  subject?: string;
  issuer?: string;
}

const cosignOptionalKeys = new Set(["Bundle", "Issuer", "Subject", "RFC3161Timestamp"]);

/**
 * Parses `cosign verify --output json`: a JSON array (cosign ≥2 prints one line; older
 * versions printed one object per line). Throws on anything else, so a changed output format
 * fails loudly instead of passing a gate.
 */
export function parseVerifyOutput(stdout: string): VerifiedSignature[] {
  const text = stdout.trim();
  if (!text) throw new Error("cosign verify printed nothing on stdout");
  let items: unknown[];
  if (text.startsWith("[")) {
    items = JSON.parse(text) as unknown[];
  } else {
    items = text
      .split("\n")
      .filter((l) => l.trim().startsWith("{"))
      .map((l) => JSON.parse(l) as unknown);
  }
  if (!Array.isArray(items) || items.length === 0) {
    throw new Error("cosign verify output held no signature payloads");
  }
  return items.map((item) => {
    const payload = item as {
      critical?: {
        identity?: { "docker-reference"?: string };
        image?: { "docker-manifest-digest"?: string };
      };
      optional?: Record<string, unknown> | null;
    };
    const digest = payload.critical?.image?.["docker-manifest-digest"];
    if (!digest)
      throw new Error("cosign verify payload has no critical.image.docker-manifest-digest");
    const annotations: Record<string, string> = {};
    let subject: string | undefined;
    let issuer: string | undefined;
    for (const [k, v] of Object.entries(payload.optional ?? {})) {
      if (k === "Subject") subject = String(v);
      else if (k === "Issuer") issuer = String(v);
      else if (!cosignOptionalKeys.has(k) && typeof v !== "object") annotations[k] = String(v);
    }
    const out: VerifiedSignature = {
      digest,
      dockerReference: payload.critical?.identity?.["docker-reference"] ?? "",
      annotations,
    };
    if (subject !== undefined) out.subject = subject;
    if (issuer !== undefined) out.issuer = issuer;
    return out;
  });
}

/** An in-toto statement from `cosign verify-attestation`. */
export interface VerifiedAttestation {
  predicateType: string;
  subjects: Array<{ name: string; digest: string }>;
  predicate: unknown;
}

/** Parses `cosign verify-attestation` output: one DSSE envelope (JSON) per line. */
export function parseAttestationOutput(stdout: string): VerifiedAttestation[] {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"));
  if (lines.length === 0) throw new Error("cosign verify-attestation printed no envelopes");
  return lines.map((line) => {
    const envelope = JSON.parse(line) as { payload?: string };
    if (!envelope.payload) throw new Error("attestation envelope has no payload");
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as {
      predicateType?: string;
      subject?: Array<{ name?: string; digest?: { sha256?: string } }>;
      predicate?: unknown;
    };
    return {
      predicateType: statement.predicateType ?? "",
      subjects: (statement.subject ?? []).map((s) => ({
        name: s.name ?? "",
        digest: s.digest?.sha256 ? `sha256:${s.digest.sha256}` : "",
      })),
      predicate: statement.predicate,
    };
  });
}
