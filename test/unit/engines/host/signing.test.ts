import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  chooseEvidence,
  describeSigner,
} from "../../../../pipelines/src/core/promotion/evidence.ts";
import { SecretStore } from "../../../../pipelines/src/engines/host/secrets.ts";
import {
  expectedSigner,
  LocalEvidence,
  signingIdentity,
} from "../../../../pipelines/src/engines/host/signing.ts";
import { sign } from "../../../../pipelines/src/tools/cosign.ts";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const keyless = {
  required: true,
  mode: "keyless",
  identity: { subject: "https://x/release.yml@refs/heads/main", issuer: "https://issuer" },
};

describe("evidence verifier choice (no silent fallback)", () => {
  it("defaults to cosign when signatures are required, local otherwise", () => {
    expect(chooseEvidence(undefined, true)).toBe("cosign");
    expect(chooseEvidence(undefined, false)).toBe("local");
    expect(chooseEvidence("local", true)).toBe("local");
    expect(() => chooseEvidence("gpg", false)).toThrow(/unknown evidence verifier "gpg"/);
  });

  it("the local verifier can never satisfy a signature check", async () => {
    const check = await new LocalEvidence("tiers").verifySignature(
      { tier: "test", digest: `sha256:${"a".repeat(64)}`, repository: "r" },
      keyless,
    );
    expect(check).toMatchObject({ ok: false, failure: "unavailable" });
    expect(check.why).toMatch(/cannot check signatures/);
  });
});

describe("signers and expected signers from a signing policy", () => {
  it("names signers the way records and plans print them", () => {
    expect(describeSigner(keyless)).toBe(
      "identity:https://x/release.yml@refs/heads/main (https://issuer)",
    );
    expect(describeSigner({ required: true, mode: "key", key: "file:/k/cosign.key" })).toBe(
      "key:file:/k/cosign.key",
    );
    expect(describeSigner({ required: false, mode: "none" })).toBeNull();
  });

  it("keyless verification uses the certificate identity and issuer", () => {
    expect(expectedSigner(keyless, {})).toEqual({
      mode: "keyless",
      subject: "https://x/release.yml@refs/heads/main",
      issuer: "https://issuer",
    });
  });

  it("key verification uses the .pub beside the key, an override, or the same KMS URI", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiers-signing-"));
    dirs.push(dir);
    await writeFile(join(dir, "cosign.pub"), "pub");
    const policy = { required: true, mode: "key", key: `file:${join(dir, "cosign.key")}` };
    expect(expectedSigner(policy, {})).toEqual({
      mode: "key",
      key: { kind: "file", path: join(dir, "cosign.pub") },
    });
    expect(expectedSigner(policy, { TIERS_COSIGN_PUBLIC_KEY: "/other.pub" })).toEqual({
      mode: "key",
      key: { kind: "file", path: "/other.pub" },
    });
    expect(expectedSigner({ required: true, mode: "key", key: "vault:transit/tiers" }, {})).toEqual(
      {
        mode: "key",
        key: { kind: "kms", uri: "hashivault://transit/tiers" },
      },
    );
    expect(() => expectedSigner({ required: false, mode: "none" }, {})).toThrow(
      /names no key or identity/,
    );
  });

  it("secrets are bound by name: the password and token never appear in argv", () => {
    const env = { COSIGN_PASSWORD: "hunter2-password", SIGSTORE_ID_TOKEN: "eyJ-token-value" };
    const secrets = new SecretStore(env);
    const keySigner = signingIdentity(
      { required: true, mode: "key", key: "file:/k/cosign.key" },
      env,
      secrets,
    );
    const invocation = sign({ ref: `r/api@sha256:${"a".repeat(64)}`, signer: keySigner });
    expect(invocation.secretEnv).toEqual({ COSIGN_PASSWORD: "cosign-password" });
    expect(JSON.stringify(invocation)).not.toContain("hunter2");
    const tokenSigner = signingIdentity(keyless, env, secrets);
    const keylessCall = sign({ ref: `r/api@sha256:${"a".repeat(64)}`, signer: tokenSigner });
    expect(keylessCall.secretEnv).toEqual({ SIGSTORE_ID_TOKEN: "sigstore-id-token" });
    expect(JSON.stringify(keylessCall)).not.toContain("eyJ-token-value");
  });

  it("keyless signing without a token says how to provide one", () => {
    expect(() => signingIdentity(keyless, {}, new SecretStore({}))).toThrow(
      /needs an OIDC identity token/,
    );
    const viaFile = signingIdentity(
      keyless,
      { TIERS_OIDC_TOKEN_FILE: "/run/token" },
      new SecretStore({}),
    );
    expect(viaFile).toMatchObject({ mode: "keyless", tokenVia: "file" });
  });

  it("TIERS_COSIGN_KEY overrides the signing key (e.g. a KMS key in CI)", () => {
    const signer = signingIdentity(
      { required: true, mode: "key", key: "file:/k/cosign.key" },
      { TIERS_COSIGN_KEY: "gcpkms://projects/p/keys/k" },
      new SecretStore({}),
    );
    expect(signer).toMatchObject({
      mode: "key",
      key: { kind: "kms", uri: "gcpkms://projects/p/keys/k" },
    });
  });
});
