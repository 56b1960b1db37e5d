/**
 * Passage evidence under Dagger: the cosign evidence verifier with cosign running in its pinned
 * image instead of on the host. Same contract as engines/host/signing.ts (`EvidenceVerifier`):
 * the signer and the expected signer come from the tier's signing policy through the host
 * module's own helpers (describeSigner, expectedSigner), the argument vectors from
 * tools/cosign.ts, and the verdict from cosign.signatureVerdict (shared with the host
 * verifier). What differs is only where credentials come from and where cosign runs: Dagger
 * secrets, bound by the names used below, and cosign's pinned image.
 */
import { TiersError } from "../../core/errors.ts";
import {
  describeSigner,
  type EvidenceVerifier,
  type PassageSubject,
  passageAnnotations,
  type SigningPolicy,
} from "../../core/promotion/evidence.ts";
import type { EvidenceCheck } from "../../core/promotion/gates.ts";
import type { Evidence } from "../../core/promotion/records.ts";
import { pinnedRef } from "../../core/promotion/refs.ts";
import * as cosign from "../../tools/cosign.ts";
import type { Invocation, ToolResult } from "../../tools/invocation.ts";
import { expectedSigner } from "../host/signing.ts";
import type { DaggerSecrets } from "./secrets.ts";

/** Logical names of the signing secrets, equal to the `dagger call` flags that carry them. */
export const signingSecretNames = {
  key: "cosign-key",
  password: "cosign-password",
  publicKey: "cosign-public-key",
  oidcToken: "oidc-token",
} as const;

/** Environment variables cosign reads `env://` keys from inside its container. */
const privateKeyVariable = "COSIGN_PRIVATE_KEY";
const publicKeyVariable = "COSIGN_PUBLIC_KEY";

export interface DaggerEvidenceOptions {
  project: string;
  /** Runs an invocation in its tool image (reject: false); see engines/dagger/run.ts. */
  run: (invocation: Invocation) => Promise<ToolResult>;
  /** The secrets the function was given, by logical name. */
  secrets: DaggerSecrets;
  /** Use the Rekor transparency log (default true). */
  tlog?: boolean;
}

/**
 * The signer for a policy, from the secrets the caller passed: keyless with the OIDC token, or
 * the private key as an `env://` key (so the key never becomes a file argument).
 */
export function daggerSigner(policy: SigningPolicy, secrets: DaggerSecrets): cosign.Signer {
  if (policy.mode === "keyless") {
    if (!secrets[signingSecretNames.oidcToken]) {
      throw new TiersError("keyless signing needs an OIDC identity token, and none was given", {
        hint: "pass --oidc-token env:SIGSTORE_ID_TOKEN (GitHub: permissions id-token: write; GitLab: id_tokens)",
      });
    }
    return { mode: "keyless", tokenSecret: signingSecretNames.oidcToken, tokenVia: "env" };
  }
  if (policy.mode === "key") {
    if (!secrets[signingSecretNames.key]) {
      throw new TiersError(`signing.mode is key, and no --${signingSecretNames.key} was given`, {
        hint: "pass the private key as a Dagger secret: --cosign-key file:./cosign.key (and --cosign-password env:COSIGN_PASSWORD)",
      });
    }
    return {
      mode: "key",
      key: { kind: "env", variable: privateKeyVariable },
      keySecret: signingSecretNames.key,
      ...(secrets[signingSecretNames.password]
        ? { passwordSecret: signingSecretNames.password }
        : {}),
    };
  }
  throw new TiersError(`signing.mode "${policy.mode}" cannot sign`);
}

/** The signer a signature must come from: the policy's identity, or the public key given. */
export function daggerExpectedSigner(
  policy: SigningPolicy,
  secrets: DaggerSecrets,
): cosign.ExpectedSigner {
  if (policy.mode === "key" && secrets[signingSecretNames.publicKey]) {
    return {
      mode: "key",
      key: { kind: "env", variable: publicKeyVariable },
      keySecret: signingSecretNames.publicKey,
    };
  }
  if (policy.mode === "key" && policy.key && cosign.parseKeyRef(policy.key).kind !== "kms") {
    // A key file or variable of the policy exists on the signer's machine, not in cosign's
    // container: the verification key has to be handed over.
    throw new TiersError(
      `signing.mode is key (${policy.key}); verifying under Dagger needs the public key: pass --cosign-public-key`,
      { hint: "pass --cosign-public-key file:./cosign.pub (or env:COSIGN_PUBLIC_KEY)" },
    );
  }
  // Keyless identities and KMS keys need no secret.
  return expectedSigner(policy, {});
}

export class DaggerCosignEvidence implements EvidenceVerifier {
  readonly kind = "cosign" as const;
  private readonly tlog: boolean;

  constructor(private readonly options: DaggerEvidenceOptions) {
    this.tlog = options.tlog ?? true;
  }

  /** The annotation every passage signature carries (same key as the host verifier). */
  annotations(tier: string): Record<string, string> {
    return passageAnnotations(this.options.project, tier);
  }

  async verifySignature(subject: PassageSubject, policy: SigningPolicy): Promise<EvidenceCheck> {
    let expected: cosign.ExpectedSigner;
    try {
      expected = daggerExpectedSigner(policy, this.options.secrets);
    } catch (error) {
      return { ok: false, failure: "invalid", why: (error as Error).message };
    }
    const ref = pinnedRef(subject.repository, subject.digest);
    const invocation = cosign.verify({
      ref,
      expected,
      annotations: this.annotations(subject.tier),
      ignoreTlog: !this.tlog,
    });
    const result = await this.options.run(invocation);
    return cosign.signatureVerdict(invocation, result, {
      ref,
      digest: subject.digest,
      annotations: this.annotations(subject.tier),
      signer: describeSigner(policy),
    });
  }

  /** The invocation that signs a passage (exported for the offline tests of its arguments). */
  signInvocation(subject: PassageSubject, policy: SigningPolicy): Invocation {
    return cosign.sign({
      ref: pinnedRef(subject.repository, subject.digest),
      signer: daggerSigner(policy, this.options.secrets),
      annotations: this.annotations(subject.tier),
      tlogUpload: this.tlog,
    });
  }

  async sign(subject: PassageSubject, policy: SigningPolicy): Promise<Evidence> {
    const annotations = this.annotations(subject.tier);
    if (policy.mode === "none") {
      return { verifier: "cosign", signer: null, signature: null, annotations };
    }
    const invocation = this.signInvocation(subject, policy);
    const result = await this.options.run(invocation);
    return cosign.signedEvidence(invocation, result, {
      repository: subject.repository,
      digest: subject.digest,
      annotations,
      signer: describeSigner(policy),
    });
  }
}
