/**
 * Evidence verifiers: how a passage's signature is made and checked.
 *
 * - `cosign` (the real one): signs the digest with the tier's signing policy (key or keyless)
 *   and an annotation `<project>.tier=<tier>`, and verifies against the policy's key or
 *   certificate identity.
 * - `local`: for machines without cosign. It makes no signature; a passage is then evidenced
 *   only by its git record and the registry digest (checked by the promotion engine). It can
 *   never satisfy a `signature` gate, so a tier whose policy requires signatures fails closed.
 *
 * The verifier is chosen explicitly (`--evidence`, or TIERS_EVIDENCE); the default is cosign
 * whenever the tier's policy requires signatures. There is no silent fallback: a missing
 * cosign binary is a failed gate or a failed signing step, with a hint.
 */
import { existsSync } from "node:fs";
import { TiersError } from "../../core/errors.ts";
import {
  describeSigner,
  type EvidenceKind,
  type EvidenceVerifier,
  type PassageSubject,
  passageAnnotations,
  type SigningPolicy,
} from "../../core/promotion/evidence.ts";
import type { EvidenceCheck } from "../../core/promotion/gates.ts";
import type { Evidence } from "../../core/promotion/records.ts";
import { pinnedRef } from "../../core/promotion/refs.ts";
import * as cosign from "../../tools/cosign.ts";
import { ToolError } from "../../tools/errors.ts";
import { runHost } from "./run.ts";
import { SecretStore } from "./secrets.ts";

/** Verifier with no signatures: git records and registry digests only. */
export class LocalEvidence implements EvidenceVerifier {
  readonly kind = "local" as const;
  constructor(private readonly project: string) {}

  async verifySignature(subject: PassageSubject, policy: SigningPolicy): Promise<EvidenceCheck> {
    return {
      ok: false,
      failure: "unavailable",
      why: `the ${subject.tier} passage must be signed by ${describeSigner(policy) ?? "the policy's signer"}, and the local evidence verifier cannot check signatures; run with --evidence cosign where cosign is installed`,
    };
  }

  async sign(subject: PassageSubject, policy: SigningPolicy): Promise<Evidence> {
    return {
      verifier: "local",
      signer: describeSigner(policy),
      signature: null,
      annotations: passageAnnotations(this.project, subject.tier),
    };
  }
}

/** Options of the cosign verifier. */
export interface CosignEvidenceOptions {
  root: string;
  project: string;
  env?: NodeJS.ProcessEnv;
  /** Use the Rekor transparency log (default true; TIERS_COSIGN_TLOG=false turns it off). */
  tlog?: boolean;
  /** cosign's own `--timeout` for sign and verify, in seconds (default cosign.defaultTimeoutSeconds). */
  timeoutSeconds?: number;
}

/** The real verifier: cosign signatures annotated with the tier. */
export class CosignEvidence implements EvidenceVerifier {
  readonly kind = "cosign" as const;
  private readonly env: NodeJS.ProcessEnv;
  private readonly tlog: boolean;
  private installed: Promise<boolean> | undefined;

  constructor(private readonly options: CosignEvidenceOptions) {
    this.env = options.env ?? process.env;
    this.tlog = options.tlog ?? this.env.TIERS_COSIGN_TLOG !== "false";
  }

  /** Whether a cosign binary runs here (checked once). */
  available(): Promise<boolean> {
    this.installed ??= runHost(cosign.version(), { root: this.options.root, env: this.env })
      .then(() => true)
      .catch(() => false);
    return this.installed;
  }

  private annotations(tier: string): Record<string, string> {
    return passageAnnotations(this.options.project, tier);
  }

  private missing(tier: string): string {
    return `cosign is not installed here, and the signing policy for this promotion requires checking the ${tier} passage signature; install cosign (or run in CI, which uses the cosign image) — --evidence local cannot satisfy a signature gate`;
  }

  async verifySignature(subject: PassageSubject, policy: SigningPolicy): Promise<EvidenceCheck> {
    let expected: cosign.ExpectedSigner;
    try {
      expected = expectedSigner(policy, this.env);
    } catch (error) {
      return { ok: false, failure: "invalid", why: (error as Error).message };
    }
    if (!(await this.available())) {
      return { ok: false, failure: "unavailable", why: this.missing(subject.tier) };
    }
    const ref = pinnedRef(subject.repository, subject.digest);
    const secrets = new SecretStore(this.env);
    if (expected.mode === "key" && expected.key.kind === "env") {
      secrets.define("cosign-public-key", { env: expected.key.variable });
      expected.keySecret = "cosign-public-key";
    }
    const invocation = cosign.verify({
      ref,
      expected,
      annotations: this.annotations(subject.tier),
      ignoreTlog: !this.tlog,
      timeoutSeconds: this.options.timeoutSeconds,
    });
    const result = await runHost(invocation, {
      root: this.options.root,
      env: this.env,
      secrets,
      reject: false,
    });
    return cosign.signatureVerdict(invocation, result, {
      ref,
      digest: subject.digest,
      annotations: this.annotations(subject.tier),
      signer: describeSigner(policy),
    });
  }

  async sign(subject: PassageSubject, policy: SigningPolicy): Promise<Evidence> {
    const annotations = this.annotations(subject.tier);
    if (policy.mode === "none") {
      return { verifier: "cosign", signer: null, signature: null, annotations };
    }
    if (!(await this.available())) {
      throw new TiersError(this.missing(subject.tier).replace("checking", "making"), {
        hint: "install cosign, or promote from CI where the cosign image runs this step",
      });
    }
    const secrets = new SecretStore(this.env);
    const signer = signingIdentity(policy, this.env, secrets);
    const invocation = cosign.sign({
      ref: pinnedRef(subject.repository, subject.digest),
      signer,
      annotations,
      tlogUpload: this.tlog,
      timeoutSeconds: this.options.timeoutSeconds,
    });
    const result = await runHost(invocation, {
      root: this.options.root,
      env: this.env,
      secrets,
      reject: false,
    });
    return cosign.signedEvidence(invocation, result, {
      repository: subject.repository,
      digest: subject.digest,
      annotations,
      signer: describeSigner(policy),
    });
  }
}

/** The signer cosign signs with, from the policy and this machine's secrets. */
export function signingIdentity(
  policy: SigningPolicy,
  env: NodeJS.ProcessEnv,
  secrets: SecretStore,
): cosign.Signer {
  if (policy.mode === "key") {
    if (!policy.key) throw new TiersError("signing.mode is key but signing.key is not set");
    const key = cosign.parseKeyRef(signingKeyRef(policy.key, env));
    const signer: cosign.Signer = { mode: "key", key };
    if (env.COSIGN_PASSWORD !== undefined && env.COSIGN_PASSWORD !== "") {
      secrets.define("cosign-password", { env: "COSIGN_PASSWORD" });
      signer.passwordSecret = "cosign-password";
    }
    if (key.kind === "env") {
      secrets.define("cosign-key", { env: key.variable });
      signer.keySecret = "cosign-key";
    }
    return signer;
  }
  if (policy.mode === "keyless") {
    if (env.SIGSTORE_ID_TOKEN) {
      secrets.define("sigstore-id-token", { env: "SIGSTORE_ID_TOKEN" });
      return { mode: "keyless", tokenSecret: "sigstore-id-token", tokenVia: "env" };
    }
    if (env.TIERS_OIDC_TOKEN_FILE) {
      secrets.define("sigstore-id-token", { file: env.TIERS_OIDC_TOKEN_FILE });
      return { mode: "keyless", tokenSecret: "sigstore-id-token", tokenVia: "file" };
    }
    throw new TiersError("keyless signing needs an OIDC identity token, and none was given", {
      hint: "set SIGSTORE_ID_TOKEN, or TIERS_OIDC_TOKEN_FILE to a file holding it (in GitHub Actions: permissions id-token: write)",
    });
  }
  throw new TiersError(`signing.mode "${policy.mode}" cannot sign`);
}

/** The private key to sign with: TIERS_COSIGN_KEY overrides the policy's reference. */
function signingKeyRef(policyKey: string, env: NodeJS.ProcessEnv): string {
  return env.TIERS_COSIGN_KEY ?? policyKey;
}

/**
 * What a signature must be from. Key mode verifies with the public key: TIERS_COSIGN_PUBLIC_KEY,
 * or the policy's key file with `.key` -> `.pub`, or the same KMS URI.
 */
export function expectedSigner(
  policy: SigningPolicy,
  env: NodeJS.ProcessEnv,
): cosign.ExpectedSigner {
  if (policy.mode === "keyless") {
    if (!policy.identity)
      throw new Error("signing.mode is keyless but signing.identity is not set");
    return { mode: "keyless", subject: policy.identity.subject, issuer: policy.identity.issuer };
  }
  if (policy.mode === "key") {
    if (env.TIERS_COSIGN_PUBLIC_KEY) {
      return { mode: "key", key: cosign.parseKeyRef(env.TIERS_COSIGN_PUBLIC_KEY) };
    }
    if (!policy.key) throw new Error("signing.mode is key but signing.key is not set");
    const key = cosign.parseKeyRef(policy.key);
    if (key.kind === "kms") return { mode: "key", key };
    if (key.kind === "file") {
      const pub = key.path.replace(/\.key$/, ".pub");
      if (pub !== key.path && existsSync(pub))
        return { mode: "key", key: { kind: "file", path: pub } };
      return { mode: "key", key };
    }
    throw new Error(
      `cannot derive a public key from ${policy.key}; set TIERS_COSIGN_PUBLIC_KEY to the verification key`,
    );
  }
  throw new Error(
    `the signing policy names no key or identity (signing.mode: ${policy.mode}), so no signature can be verified against it`,
  );
}

/** Builds the verifier a promotion asked for. */
export function evidenceVerifier(
  kind: EvidenceKind,
  options: CosignEvidenceOptions,
): EvidenceVerifier {
  return kind === "cosign" ? new CosignEvidence(options) : new LocalEvidence(options.project);
}

/** True when an error is a cosign failure of a given kind. */
export function isCosignFailure(error: unknown, kind: cosign.CosignErrorKind): boolean {
  return error instanceof ToolError && error.kind === kind;
}
