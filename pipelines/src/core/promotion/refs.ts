/**
 * Image references as promotion sees them. Promotion only ever moves digests: a reference is
 * promotable only when it names `sha256:<64 hex>`, because a tag can be re-pointed after the
 * gates looked at it.
 */
import { UsageError } from "../errors.ts";

const digestPattern = /^sha256:[0-9a-f]{64}$/;

/** True for a full content digest `sha256:<64 lowercase hex>`. */
export function isDigest(value: string): boolean {
  return digestPattern.test(value);
}

/** Validates a digest typed by a user; bad input is a usage error naming the flag. */
export function parseDigest(value: string, flag = "--digest"): string {
  const trimmed = value.trim();
  if (!isDigest(trimmed)) {
    throw new UsageError(`${flag} must be a full digest "sha256:<64 hex>", got "${value}"`, {
      hint: "copy the digest from `tiers status` or .tiers/artefacts/<commit>.json; tags are never promoted",
    });
  }
  return trimmed;
}

/** `sha256:abc…` -> `sha256-abc…`: the file-name form (no `:`), as cosign names its tags too. */
export function digestFileName(digest: string): string {
  return digest.replace(":", "-");
}

/** The short form printed in tables: `sha256:1a2b3c4d5e6f`. */
export function shortDigest(digest: string | undefined): string {
  if (!digest) return "(none)";
  return digest.length > 19 ? digest.slice(0, 19) : digest;
}

export interface ImageRef {
  /** Registry host and path, e.g. `127.0.0.1:5000/tiers/api`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits `host:port/path/name[:tag][@sha256:…]`. The tag colon is the one after the last `/`,
 * so a registry port is never mistaken for a tag.
 */
export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const out: ImageRef = { repository: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** `repository@digest`: the only reference form promotion pins, signs and verifies. */
export function pinnedRef(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}
