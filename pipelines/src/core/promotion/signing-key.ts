/**
 * Where a cosign signing or verification key lives, parsed from a tier's `signing.key` (or an
 * override such as TIERS_COSIGN_PUBLIC_KEY). Pure. The cosign tool module turns it into the
 * `--key` argument; the admission policy (core/manifests/admission.ts) hands a KMS URI to
 * Kyverno as is, since both resolve it with sigstore's `PublicKeyFromKeyRef`.
 */

/** Where a signing or verification key lives, as cosign understands it. */
export type KeyRef =
  | { kind: "file"; path: string }
  | { kind: "env"; variable: string }
  | { kind: "kms"; uri: string };

const kmsSchemes = ["awskms://", "gcpkms://", "azurekms://", "hashivault://", "k8s://"];

/**
 * Parses a key reference: a path (`cosign.key`, `file:/run/secrets/cosign.key`), an
 * environment variable (`env:NAME` or cosign's own `env://NAME`), a KMS URI (`awskms://…`,
 * `gcpkms://…`, `azurekms://…`, `hashivault://…`) or `vault:<key>` (Vault transit, which cosign
 * names `hashivault://<key>`). Anything else with a scheme is refused instead of being taken
 * for a file name.
 */
export function parseKeyRef(ref: string): KeyRef {
  const value = ref.trim();
  if (kmsSchemes.some((s) => value.startsWith(s))) return { kind: "kms", uri: value };
  if (value.startsWith("vault:")) return { kind: "kms", uri: `hashivault://${value.slice(6)}` };
  if (value.startsWith("env://")) return { kind: "env", variable: value.slice(6) };
  if (value.startsWith("env:")) return { kind: "env", variable: value.slice(4) };
  if (value.startsWith("file:")) return { kind: "file", path: value.slice(5) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^(aws-sm|gcp-sm|azure-kv):/.test(value)) {
    throw new Error(
      `unsupported cosign key reference "${value}": use a file path, env://NAME, or a KMS URI (${kmsSchemes.join(", ")})`,
    );
  }
  if (value === "") throw new Error("empty cosign key reference");
  return { kind: "file", path: value };
}
