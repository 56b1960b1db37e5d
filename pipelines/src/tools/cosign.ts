/**
 * The cosign v2 CLI: signatures and attestations bound to an image digest.
 *
 * Typed options in, argument vectors out, output parsed into typed values, failures into typed
 * errors. Secrets never reach argv: the key password goes through COSIGN_PASSWORD, an OIDC
 * token through SIGSTORE_ID_TOKEN (or a 0600 file named by --identity-token), and an
 * `env://NAME` key through the environment variable cosign reads it from.
 *
 * Behaviour relied on (cosign v2 CLI reference):
 * - `cosign sign --key <ref> --yes [-a k=v]... [--tlog-upload=false] <repo@digest>` pushes the
 *   signature to `<repo>:sha256-<hex>.sig`; annotations land in the payload's `optional`.
 * - keyless: no --key; the OIDC token comes from `--identity-token` or `SIGSTORE_ID_TOKEN`.
 * - `cosign verify` prints a JSON array of verified payloads on stdout
 *   (`[{critical:{identity:{docker-reference}, image:{docker-manifest-digest}, type},
 *   optional:{...annotations, Subject, Issuer}}]`) and exits 0; on failure it exits 1 with
 *   `Error: no signatures found` (unsigned) or `Error: no matching signatures: <why>`
 *   (a signature exists but not by the expected key/identity, or without the annotation).
 * - `cosign attest --predicate <file> --type <type>` / `cosign verify-attestation --type`
 *   print DSSE envelopes (`{payloadType, payload: base64(in-toto statement), signatures}`).
 */

import { firstLine } from "../core/errors.ts";
import type { KeyRef } from "../core/promotion/signing-key.ts";
import { parseVerifyOutput, type VerifiedSignature } from "./cosign-output.ts";
import { ToolError } from "./errors.ts";
import type { Invocation, SecretFile, ToolResult } from "./invocation.ts";
import { isInsecureRegistry, registryOf } from "./registry.ts";

/** Typed failures promotion branches on. */
export type CosignErrorKind =
  /** No signature at all is attached to the digest. */
  | "unsigned"
  /** Signatures exist, but none by the expected key or identity. */
  | "wrong-signer"
  /** A signature by the right signer exists, but not for this tier (annotation mismatch). */
  | "wrong-annotation"
  /** The reference resolves to a different digest than the one recorded. */
  | "digest-changed"
  /** The image (or the signature's target) is not in the registry. */
  | "image-not-found"
  | "bad-password"
  | "registry-unreachable";

// Key references are read by core too (the admission policy names the same KMS key), so the
// parser lives there, once: core/promotion/signing-key.ts.
export { type KeyRef, parseKeyRef } from "../core/promotion/signing-key.ts";

/** The `--key` argument for a key reference (`env://NAME` for environment keys). */
export function keyArgument(key: KeyRef): string {
  if (key.kind === "file") return key.path;
  if (key.kind === "env") return `env://${key.variable}`;
  return key.uri;
}

/** How a signature is made: with a key, or keyless with an OIDC identity token. */
export type Signer =
  | {
      mode: "key";
      key: KeyRef;
      /** Logical secret holding the key's password, bound to COSIGN_PASSWORD. */
      passwordSecret?: string;
      /** Logical secret holding the key itself when `key` is `env://NAME`. */
      keySecret?: string;
    }
  | {
      mode: "keyless";
      /** Logical secret holding the OIDC identity token. */
      tokenSecret: string;
      /** `env` (SIGSTORE_ID_TOKEN) or `file` (a 0600 file passed to --identity-token). */
      tokenVia?: "env" | "file";
      fulcioUrl?: string;
      rekorUrl?: string;
    };

/**
 * How long cosign may spend on one registry-touching command before it gives up itself.
 * cosign's own default is 3 minutes (`--timeout`, a root flag: cmd/cosign/cli/options/root.go,
 * DefaultTimeout); a promotion gate should fail sooner than that, and every caller can pass
 * its own value.
 */
export const defaultTimeoutSeconds = 60;

/** cosign's `--timeout` flag (a Go duration) for a caller's value in seconds. */
function timeoutArg(seconds: number | undefined): string {
  const value = seconds ?? defaultTimeoutSeconds;
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`cosign timeout must be a positive whole number of seconds, got ${value}`);
  }
  return `--timeout=${value}s`;
}

/** Registry flags: loopback registries speak plain HTTP. */
function registryArgs(ref: string): string[] {
  return isInsecureRegistry(registryOf(ref))
    ? ["--allow-insecure-registry=true", "--allow-http-registry=true"]
    : [];
}

function annotationArgs(annotations: Readonly<Record<string, string>>): string[] {
  return Object.entries(annotations)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([k, v]) => ["-a", `${k}=${v}`]);
}

function requireDigestRef(ref: string): void {
  if (!/@sha256:[0-9a-f]{64}$/.test(ref)) {
    throw new Error(`cosign must be given a digest reference (repo@sha256:…), got "${ref}"`);
  }
}

function signerBinding(signer: Signer): {
  args: string[];
  secretEnv: Record<string, string>;
  secretFiles: SecretFile[];
  env: Record<string, string>;
} {
  const secretEnv: Record<string, string> = {};
  const secretFiles: SecretFile[] = [];
  const env: Record<string, string> = {};
  const args: string[] = [];
  if (signer.mode === "key") {
    args.push("--key", keyArgument(signer.key));
    // cosign prompts for a password when COSIGN_PASSWORD is unset; an empty one is explicit.
    if (signer.passwordSecret) secretEnv.COSIGN_PASSWORD = signer.passwordSecret;
    else env.COSIGN_PASSWORD = "";
    if (signer.key.kind === "env" && signer.keySecret) {
      secretEnv[signer.key.variable] = signer.keySecret;
    }
  } else {
    if ((signer.tokenVia ?? "env") === "env") {
      secretEnv.SIGSTORE_ID_TOKEN = signer.tokenSecret;
    } else {
      const path = "/run/secrets/sigstore-id-token";
      secretFiles.push({ path, secret: signer.tokenSecret });
      args.push("--identity-token", path);
    }
    if (signer.fulcioUrl) args.push("--fulcio-url", signer.fulcioUrl);
    if (signer.rekorUrl) args.push("--rekor-url", signer.rekorUrl);
  }
  return { args, secretEnv, secretFiles, env };
}

export interface SignOptions {
  /** `repo@sha256:…`: cosign signs the digest, never a tag. */
  ref: string;
  signer: Signer;
  /** Signed annotations, e.g. `{ "tiers.tier": "staging" }`. */
  annotations?: Readonly<Record<string, string>>;
  /** Upload to the Rekor transparency log (default true; keyless always uploads). */
  tlogUpload?: boolean;
  /** cosign's `--timeout` in seconds (default defaultTimeoutSeconds). */
  timeoutSeconds?: number;
}

/** `cosign sign`: attaches a signature (with annotations) to a digest. */
export function sign(options: SignOptions): Invocation {
  requireDigestRef(options.ref);
  const bind = signerBinding(options.signer);
  const tlog = options.signer.mode === "keyless" ? true : (options.tlogUpload ?? true);
  const args = [
    "sign",
    ...bind.args,
    "--yes",
    `--tlog-upload=${tlog}`,
    ...annotationArgs(options.annotations ?? {}),
    timeoutArg(options.timeoutSeconds),
    ...registryArgs(options.ref),
    options.ref,
  ];
  return {
    tool: "cosign",
    args,
    env: bind.env,
    secretEnv: bind.secretEnv,
    secretFiles: bind.secretFiles,
  };
}

export interface AttestOptions extends SignOptions {
  /** Path of the predicate file (JSON). */
  predicate: string;
  /** Predicate type: `slsaprovenance`, `custom`, or a URI. */
  type: string;
}

/** `cosign attest`: a signed in-toto statement about the digest. */
export function attest(options: AttestOptions): Invocation {
  const base = sign(options);
  const args = [...base.args];
  args[0] = "attest";
  // Annotations are a signature feature; attestations carry their facts in the predicate.
  const filtered: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-a") {
      i++;
      continue;
    }
    filtered.push(args[i]!);
  }
  filtered.splice(filtered.length - 1, 0, "--predicate", options.predicate, "--type", options.type);
  return { ...base, args: filtered };
}

/** Who a signature must be from. */
export type ExpectedSigner =
  | { mode: "key"; key: KeyRef; keySecret?: string }
  | { mode: "keyless"; subject: string; issuer: string };

export interface VerifyOptions {
  ref: string;
  expected: ExpectedSigner;
  /** Only accept signatures carrying these annotations (e.g. the tier). */
  annotations?: Readonly<Record<string, string>>;
  /** Signatures were made without the transparency log (private key setups). */
  ignoreTlog?: boolean;
  /** cosign's `--timeout` in seconds (default defaultTimeoutSeconds). */
  timeoutSeconds?: number;
}

function expectedArgs(expected: ExpectedSigner): {
  args: string[];
  secretEnv: Record<string, string>;
} {
  if (expected.mode === "key") {
    const secretEnv: Record<string, string> = {};
    if (expected.key.kind === "env" && expected.keySecret) {
      secretEnv[expected.key.variable] = expected.keySecret;
    }
    return { args: ["--key", keyArgument(expected.key)], secretEnv };
  }
  return {
    args: [
      "--certificate-identity",
      expected.subject,
      "--certificate-oidc-issuer",
      expected.issuer,
    ],
    secretEnv: {},
  };
}

/** `cosign verify`: checks the digest's signatures against the expected signer. */
export function verify(options: VerifyOptions): Invocation {
  requireDigestRef(options.ref);
  const exp = expectedArgs(options.expected);
  const args = [
    "verify",
    ...exp.args,
    ...annotationArgs(options.annotations ?? {}),
    "--output",
    "json",
    ...(options.ignoreTlog ? ["--insecure-ignore-tlog=true"] : []),
    timeoutArg(options.timeoutSeconds),
    ...registryArgs(options.ref),
    options.ref,
  ];
  return { tool: "cosign", args, secretEnv: exp.secretEnv };
}

export interface VerifyAttestationOptions extends VerifyOptions {
  type: string;
}

/** `cosign verify-attestation --type <type>`. */
export function verifyAttestation(options: VerifyAttestationOptions): Invocation {
  const base = verify(options);
  const args = base.args.filter((_, i, all) => all[i] !== "-a" && all[i - 1] !== "-a");
  args[0] = "verify-attestation";
  args.splice(args.length - 1, 0, "--type", options.type);
  return { ...base, args };
}

/** `cosign generate-key-pair`: writes cosign.key / cosign.pub in `cwd`. */
export function generateKeyPair(cwd: string, passwordSecret?: string): Invocation {
  return passwordSecret
    ? {
        tool: "cosign",
        args: ["generate-key-pair"],
        cwd,
        secretEnv: { COSIGN_PASSWORD: passwordSecret },
      }
    : { tool: "cosign", args: ["generate-key-pair"], cwd, env: { COSIGN_PASSWORD: "" } };
}

/** `cosign version`: proves the binary runs. */
export function version(): Invocation {
  return { tool: "cosign", args: ["version"] };
}

/** Where cosign stores the signature of a digest: `<repo>:sha256-<hex>.sig`. */
export function signatureTag(repository: string, digest: string): string {
  return `${repository}:${digest.replace(":", "-")}.sig`;
}

// What a successful `cosign verify` / `verify-attestation` prints, parsed: cosign-output.ts.
export * from "./cosign-output.ts";

/** Classifies a failed cosign call from its output (cosign reports everything on stderr). */
export function classifyFailure(output: string): CosignErrorKind | undefined {
  if (/no signatures found/i.test(output)) return "unsigned";
  if (/missing or incorrect annotation/i.test(output)) return "wrong-annotation";
  // A signature whose payload names another digest (pkg/cosign/verifiers.go).
  if (/invalid or missing digest in claim/i.test(output)) return "digest-changed";
  // `verify-attestation` says "no matching attestations: <why>" (pkg/cosign/verify.go,
  // ErrNoMatchingAttestations) where `verify` says "no matching signatures".
  if (
    /none of the expected identities matched|expected identity not found|invalid signature when validating|failed to verify signature|verification error|no matching signatures|no matching attestations/i.test(
      output,
    )
  )
    return "wrong-signer";
  if (/MANIFEST_UNKNOWN|manifest unknown|image tag not found|NAME_UNKNOWN/i.test(output))
    return "image-not-found";
  if (/decrypt|incorrect password|reading key/i.test(output)) return "bad-password";
  if (/connection refused|no such host|i\/o timeout|dial tcp/i.test(output))
    return "registry-unreachable";
  return undefined;
}

const hints: Record<CosignErrorKind, string> = {
  unsigned: "sign it: `tiers sign --env <tier> --digest <digest>` (after its gates pass)",
  "wrong-signer":
    "the signature was made by another key or identity than the tier's signing policy names; check environments/<tier>.yaml signing",
  "wrong-annotation": "the digest is signed, but not for this tier; it has not passed that tier",
  "digest-changed": "the tag was moved after signing; promote the recorded digest, never a tag",
  "image-not-found": "publish the image first (`tiers publish`), then promote its digest",
  "bad-password": "COSIGN_PASSWORD does not open the key; check the secret bound to it",
  "registry-unreachable": "start the registry (`make registry`) or check the network",
};

/** A typed error for a failed cosign call. */
export function cosignError(
  invocation: Invocation,
  result: ToolResult,
): ToolError<CosignErrorKind> {
  const kind = classifyFailure(`${result.stderr}\n${result.stdout}`) ?? "failed";
  const subject = invocation.args[invocation.args.length - 1] ?? "";
  const message = {
    unsigned: `${subject} has no signatures`,
    "wrong-signer": `${subject} is not signed by the expected key or identity`,
    "wrong-annotation": `${subject} has no signature with the expected annotations`,
    "digest-changed": `${subject} resolves to a different digest than recorded`,
    "image-not-found": `${subject} is not in the registry`,
    "bad-password": "cosign could not decrypt the signing key",
    "registry-unreachable": `registry of ${subject} is unreachable`,
    failed: `cosign ${invocation.args[0]} failed`,
  }[kind];
  return new ToolError<CosignErrorKind>(invocation, {
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    kind,
    message,
    ...(kind === "failed" ? {} : { hint: hints[kind] }),
  });
}

/**
 * Checks verified payloads against what promotion expects: every payload names the recorded
 * digest (else the reference now points elsewhere: "digest-changed"), and at least one
 * carries the expected annotations.
 */
export function checkVerified(
  signatures: readonly VerifiedSignature[],
  digest: string,
  annotations: Readonly<Record<string, string>>,
): { ok: true; signature: VerifiedSignature } | { ok: false; kind: CosignErrorKind; why: string } {
  const other = signatures.find((s) => s.digest !== digest);
  if (other) {
    return {
      ok: false,
      kind: "digest-changed",
      why: `signature is bound to ${other.digest}, the record says ${digest}`,
    };
  }
  const match = signatures.find((s) =>
    Object.entries(annotations).every(([k, v]) => s.annotations[k] === v),
  );
  if (!match) {
    const wanted = Object.entries(annotations)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ");
    return { ok: false, kind: "wrong-annotation", why: `no signature annotated ${wanted}` };
  }
  return { ok: true, signature: match };
}

/** Why a passage signature does not verify, in the promotion gates' words. */
export type SignatureFailure =
  | "unsigned"
  | "wrong-signer"
  | "missing"
  | "digest-changed"
  | "invalid";

/** What promotion expects of a digest's signature (the subject of `cosign verify`). */
export interface ExpectedSignature {
  /** `<repository>@<digest>`: the reference cosign verified. */
  ref: string;
  /** The digest the record names. */
  digest: string;
  /** Annotations a signature must carry (`<project>.tier=<tier>`); messages name their values. */
  annotations: Readonly<Record<string, string>>;
  /** How the expected signer is named in messages (`key:…`, `identity:… (…)`). */
  signer: string | null;
}

/**
 * The verdict of one `cosign verify` run, whichever engine ran it: its exit code and output
 * mapped to a typed failure (a cosign error kind, an unreadable payload, a payload bound to
 * another digest or lacking the annotations), or success naming the signer.
 */
export function signatureVerdict(
  invocation: Invocation,
  result: ToolResult,
  expected: ExpectedSignature,
): { ok: true; why: string } | { ok: false; failure: SignatureFailure; why: string } {
  const { ref, signer } = expected;
  const annotated = Object.values(expected.annotations).join(", ");
  if (result.exitCode !== 0) {
    const error = cosignError(invocation, result);
    switch (error.kind) {
      case "unsigned":
        return {
          ok: false,
          failure: "unsigned",
          why: `${ref} is unsigned (cosign: no signatures found)`,
        };
      case "wrong-signer":
        return {
          ok: false,
          failure: "wrong-signer",
          why: `wrong signer: ${ref} is signed, but not by ${signer}`,
        };
      case "wrong-annotation":
        return {
          ok: false,
          failure: "missing",
          why: `${ref} has no signature annotated ${annotated}`,
        };
      default:
        return {
          ok: false,
          failure: error.kind === "digest-changed" ? "digest-changed" : "invalid",
          why: `cosign verify failed: ${firstLine((error.stderr || error.message).trim())}`,
        };
    }
  }
  let signatures: VerifiedSignature[];
  try {
    signatures = parseVerifyOutput(result.stdout);
  } catch (error) {
    return {
      ok: false,
      failure: "invalid",
      why: `unreadable cosign output: ${(error as Error).message}`,
    };
  }
  const checked = checkVerified(signatures, expected.digest, expected.annotations);
  if (!checked.ok) {
    return {
      ok: false,
      failure: checked.kind === "digest-changed" ? "digest-changed" : "missing",
      why: checked.why,
    };
  }
  return { ok: true, why: `signature by ${signer} annotated ${annotated} verifies` };
}

/**
 * The evidence a `cosign sign` run leaves, whichever engine ran it: where the signature lives
 * and who signed, or the typed error of a failed run.
 */
export function signedEvidence(
  invocation: Invocation,
  result: ToolResult,
  signed: {
    repository: string;
    digest: string;
    annotations: Record<string, string>;
    signer: string | null;
  },
): {
  verifier: "cosign";
  signer: string | null;
  signature: string;
  annotations: Record<string, string>;
} {
  if (result.exitCode !== 0) throw cosignError(invocation, result);
  return {
    verifier: "cosign",
    signer: signed.signer,
    signature: signatureTag(signed.repository, signed.digest),
    annotations: signed.annotations,
  };
}
