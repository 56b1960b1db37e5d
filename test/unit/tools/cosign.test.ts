import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  attest,
  checkVerified,
  classifyFailure,
  cosignError,
  parseAttestationOutput,
  parseKeyRef,
  parseVerifyOutput,
  sign,
  signatureTag,
  signatureVerdict,
  signedEvidence,
  verify,
  verifyAttestation,
} from "../../../pipelines/src/tools/cosign.ts";

const digest = `sha256:${"c".repeat(64)}`;
const ref = `127.0.0.1:5000/tiers/api@${digest}`;
const remote = `ghcr.io/acme/api@${digest}`;

describe("cosign key references (argument vector only: no cosign here)", () => {
  it("accepts files, env and KMS URIs and refuses unknown schemes", () => {
    expect(parseKeyRef("cosign.key")).toEqual({ kind: "file", path: "cosign.key" });
    expect(parseKeyRef("file:/run/secrets/cosign.key")).toEqual({
      kind: "file",
      path: "/run/secrets/cosign.key",
    });
    expect(parseKeyRef("env://COSIGN_KEY")).toEqual({ kind: "env", variable: "COSIGN_KEY" });
    expect(parseKeyRef("env:COSIGN_KEY")).toEqual({ kind: "env", variable: "COSIGN_KEY" });
    expect(parseKeyRef("awskms:///alias/tiers").kind).toBe("kms");
    expect(parseKeyRef("gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k").kind).toBe("kms");
    expect(parseKeyRef("azurekms://vault.vault.azure.net/tiers").kind).toBe("kms");
    expect(parseKeyRef("vault:transit/tiers")).toEqual({
      kind: "kms",
      uri: "hashivault://transit/tiers",
    });
    expect(() => parseKeyRef("aws-sm:tiers/key")).toThrow(/unsupported cosign key reference/);
    expect(() => parseKeyRef("s3://bucket/key")).toThrow(/unsupported/);
  });
});

describe("cosign sign (argument vector only: no cosign here)", () => {
  it("signs a digest with a key, tier annotation and the password only in COSIGN_PASSWORD", () => {
    const inv = sign({
      ref: remote,
      signer: {
        mode: "key",
        key: parseKeyRef("file:/keys/cosign.key"),
        passwordSecret: "cosign-password",
      },
      annotations: { "tiers.tier": "staging", "tiers.commit": "abc" },
      tlogUpload: false,
    });
    expect(inv.args).toEqual([
      "sign",
      "--key",
      "/keys/cosign.key",
      "--yes",
      "--tlog-upload=false",
      "-a",
      "tiers.commit=abc",
      "-a",
      "tiers.tier=staging",
      // cosign's root flag (cmd/cosign/cli/options/root.go); default defaultTimeoutSeconds.
      "--timeout=60s",
      remote,
    ]);
    expect(inv.secretEnv).toEqual({ COSIGN_PASSWORD: "cosign-password" });
    expect(inv.args.join(" ")).not.toContain("cosign-password");
  });

  it("binds an env:// key's content as a secret environment variable", () => {
    const inv = sign({
      ref: remote,
      signer: { mode: "key", key: parseKeyRef("env://COSIGN_KEY"), keySecret: "cosign-key" },
    });
    expect(inv.args).toContain("env://COSIGN_KEY");
    expect(inv.secretEnv).toEqual({ COSIGN_KEY: "cosign-key" });
    expect(inv.env).toEqual({ COSIGN_PASSWORD: "" });
  });

  it("passes a KMS URI straight to --key", () => {
    const inv = sign({ ref: remote, signer: { mode: "key", key: parseKeyRef("gcpkms://k") } });
    expect(inv.args.slice(0, 3)).toEqual(["sign", "--key", "gcpkms://k"]);
  });

  it("keyless: the OIDC token goes through SIGSTORE_ID_TOKEN, or a secret file, never argv", () => {
    const viaEnv = sign({ ref: remote, signer: { mode: "keyless", tokenSecret: "oidc" } });
    expect(viaEnv.secretEnv).toEqual({ SIGSTORE_ID_TOKEN: "oidc" });
    expect(viaEnv.args).toContain("--tlog-upload=true");
    expect(viaEnv.args).not.toContain("--key");
    const viaFile = sign({
      ref: remote,
      signer: { mode: "keyless", tokenSecret: "oidc", tokenVia: "file" },
    });
    const at = viaFile.args.indexOf("--identity-token");
    expect(viaFile.args[at + 1]).toBe(viaFile.secretFiles?.[0]?.path);
    expect(viaFile.secretFiles?.[0]?.secret).toBe("oidc");
  });

  it("talks plain HTTP only to a loopback registry", () => {
    const local = sign({ ref, signer: { mode: "key", key: parseKeyRef("k") } });
    expect(local.args).toContain("--allow-http-registry=true");
    const far = sign({ ref: remote, signer: { mode: "key", key: parseKeyRef("k") } });
    expect(far.args.some((a) => a.startsWith("--allow-"))).toBe(false);
  });

  it("refuses to sign a tag", () => {
    expect(() =>
      sign({ ref: "ghcr.io/acme/api:latest", signer: { mode: "key", key: parseKeyRef("k") } }),
    ).toThrow(/digest reference/);
  });

  it("attests with a predicate and type, without annotations", () => {
    const inv = attest({
      ref: remote,
      signer: { mode: "key", key: parseKeyRef("k") },
      annotations: { "tiers.tier": "prod" },
      predicate: "/tmp/passage.json",
      type: "https://tiers.dev/passage/v1",
    });
    expect(inv.args[0]).toBe("attest");
    expect(inv.args).not.toContain("-a");
    expect(inv.args.slice(-5)).toEqual([
      "--predicate",
      "/tmp/passage.json",
      "--type",
      "https://tiers.dev/passage/v1",
      remote,
    ]);
  });
});

describe("cosign verify (argument vector only: no cosign here)", () => {
  it("verifies against a key with the tier annotation, JSON output and optional tlog skip", () => {
    const inv = verify({
      ref: remote,
      expected: { mode: "key", key: parseKeyRef("cosign.pub") },
      annotations: { "tiers.tier": "test" },
      ignoreTlog: true,
    });
    expect(inv.args).toEqual([
      "verify",
      "--key",
      "cosign.pub",
      "-a",
      "tiers.tier=test",
      "--output",
      "json",
      "--insecure-ignore-tlog=true",
      "--timeout=60s",
      remote,
    ]);
  });

  it("verifies keyless signatures by certificate identity and issuer", () => {
    const inv = verify({
      ref: remote,
      expected: {
        mode: "keyless",
        subject: "https://x/release.yml@refs/heads/main",
        issuer: "https://issuer",
      },
    });
    expect(inv.args).toEqual([
      "verify",
      "--certificate-identity",
      "https://x/release.yml@refs/heads/main",
      "--certificate-oidc-issuer",
      "https://issuer",
      "--output",
      "json",
      "--timeout=60s",
      remote,
    ]);
  });

  it("verify-attestation takes --type and drops annotations", () => {
    const inv = verifyAttestation({
      ref: remote,
      expected: { mode: "key", key: parseKeyRef("cosign.pub") },
      annotations: { "tiers.tier": "x" },
      type: "custom",
    });
    expect(inv.args[0]).toBe("verify-attestation");
    expect(inv.args).not.toContain("-a");
    expect(inv.args.slice(-3)).toEqual(["--type", "custom", remote]);
  });
});

// Output shapes as cosign v2 documents and prints them.
const keyPayload = JSON.stringify([
  {
    critical: {
      identity: { "docker-reference": "ghcr.io/acme/api" },
      image: { "docker-manifest-digest": digest },
      type: "cosign container image signature",
    },
    optional: { "tiers.tier": "staging", "tiers.commit": "abc" },
  },
]);
const keylessPayload = JSON.stringify([
  {
    critical: {
      identity: { "docker-reference": "ghcr.io/acme/api" },
      image: { "docker-manifest-digest": digest },
      type: "cosign container image signature",
    },
    optional: {
      Bundle: { SignedEntryTimestamp: "x", Payload: {} },
      Issuer: "https://token.actions.githubusercontent.com",
      Subject: "https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main",
      "tiers.tier": "prod",
    },
  },
]);

describe("cosign output parsing", () => {
  it("reads digest, reference and annotations (which carry the tier)", () => {
    expect(parseVerifyOutput(keyPayload)).toEqual([
      {
        digest,
        dockerReference: "ghcr.io/acme/api",
        annotations: { "tiers.tier": "staging", "tiers.commit": "abc" },
      },
    ]);
  });

  it("reads the keyless certificate subject and issuer, not as annotations", () => {
    const [sig] = parseVerifyOutput(keylessPayload);
    expect(sig?.issuer).toBe("https://token.actions.githubusercontent.com");
    expect(sig?.subject).toMatch(/release.yml/);
    expect(sig?.annotations).toEqual({ "tiers.tier": "prod" });
  });

  it("accepts one JSON object per line (older cosign) and fails loudly on anything else", () => {
    const lines = (JSON.parse(keyPayload) as unknown[]).map((o) => JSON.stringify(o)).join("\n");
    expect(parseVerifyOutput(lines)).toHaveLength(1);
    expect(() => parseVerifyOutput("")).toThrow(/printed nothing/);
    expect(() => parseVerifyOutput("[]")).toThrow(/no signature payloads/);
    expect(() => parseVerifyOutput('[{"critical":{}}]')).toThrow(/docker-manifest-digest/);
  });

  it("decodes attestation envelopes into in-toto statements", () => {
    const statement = {
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: "https://tiers.dev/passage/v1",
      subject: [{ name: "ghcr.io/acme/api", digest: { sha256: "c".repeat(64) } }],
      predicate: { tier: "staging" },
    };
    const envelope = {
      payloadType: "application/vnd.in-toto+json",
      payload: Buffer.from(JSON.stringify(statement)).toString("base64"),
      signatures: [{ keyid: "", sig: "MEUC" }],
    };
    expect(parseAttestationOutput(JSON.stringify(envelope))).toEqual([
      {
        predicateType: "https://tiers.dev/passage/v1",
        subjects: [{ name: "ghcr.io/acme/api", digest }],
        predicate: { tier: "staging" },
      },
    ]);
  });

  it("checks the payloads: bound to the recorded digest and annotated with the tier", () => {
    const sigs = parseVerifyOutput(keyPayload);
    expect(checkVerified(sigs, digest, { "tiers.tier": "staging" }).ok).toBe(true);
    expect(checkVerified(sigs, digest, { "tiers.tier": "prod" })).toMatchObject({
      ok: false,
      kind: "wrong-annotation",
    });
    expect(checkVerified(sigs, `sha256:${"d".repeat(64)}`, {})).toMatchObject({
      ok: false,
      kind: "digest-changed",
    });
  });
});

describe("cosign failures become typed errors", () => {
  const cases: Array<[string, string]> = [
    [
      "Error: no signatures found\nmain.go:74: error during command execution: no signatures found",
      "unsigned",
    ],
    [
      "Error: no matching signatures: error verifying bundle: comparing public key PEMs, expected -----BEGIN PUBLIC KEY-----",
      "wrong-signer",
    ],
    [
      "Error: no matching signatures:\ninvalid signature when validating ASN.1 encoded signature",
      "wrong-signer",
    ],
    [
      "Error: no matching signatures: none of the expected identities matched what was in the certificate, got subjects [a] with issuer b",
      "wrong-signer",
    ],
    ["Error: no matching signatures: missing or incorrect annotation", "wrong-annotation"],
    [
      "Error: GET http://127.0.0.1:5000/v2/tiers/api/manifests/sha256:x: MANIFEST_UNKNOWN: manifest unknown",
      "image-not-found",
    ],
    [
      "Error: signing [x]: getting signer: reading key: decrypt: encrypted: decryption failed",
      "bad-password",
    ],
    [
      'Error: Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
      "registry-unreachable",
    ],
  ];
  for (const [stderr, kind] of cases) {
    it(`"${stderr.split("\n")[0]!.slice(0, 60)}…" is ${kind}`, () => {
      expect(classifyFailure(stderr)).toBe(kind);
    });
  }

  it("says what, where and what next", () => {
    const inv = verify({ ref: remote, expected: { mode: "key", key: parseKeyRef("cosign.pub") } });
    const error = cosignError(inv, {
      exitCode: 1,
      stdout: "",
      stderr: "Error: no signatures found",
    });
    expect(error.kind).toBe("unsigned");
    expect(error.message).toContain(`${remote} has no signatures`);
    expect(error.message).toContain("command: cosign verify");
    expect(error.hint).toMatch(/tiers sign/);
  });

  it("names the signature tag cosign uses", () => {
    expect(signatureTag("ghcr.io/acme/api", digest)).toBe(
      `ghcr.io/acme/api:sha256-${"c".repeat(64)}.sig`,
    );
  });
});

describe("a verify run's verdict, the same for every engine (output parsing only: no cosign here)", () => {
  const inv = verify({ ref: remote, expected: { mode: "key", key: parseKeyRef("cosign.pub") } });
  const expected = {
    ref: remote,
    digest,
    annotations: { "tiers.tier": "staging" },
    signer: "key:cosign.pub",
  };
  const failedWith = (stderr: string) =>
    signatureVerdict(inv, { exitCode: 1, stdout: "", stderr }, expected);

  it("passes a payload bound to the digest and annotated with the tier, naming the signer", () => {
    expect(
      signatureVerdict(inv, { exitCode: 0, stdout: keyPayload, stderr: "" }, expected),
    ).toEqual({ ok: true, why: "signature by key:cosign.pub annotated staging verifies" });
  });

  it("maps cosign's failures to the gate's failure kinds", () => {
    expect(failedWith("Error: no signatures found")).toEqual({
      ok: false,
      failure: "unsigned",
      why: `${remote} is unsigned (cosign: no signatures found)`,
    });
    expect(failedWith("Error: no matching signatures: failed to verify signature")).toEqual({
      ok: false,
      failure: "wrong-signer",
      why: `wrong signer: ${remote} is signed, but not by key:cosign.pub`,
    });
    expect(failedWith("Error: missing or incorrect annotation")).toMatchObject({
      failure: "missing",
      why: `${remote} has no signature annotated staging`,
    });
    expect(failedWith("Error: dial tcp 127.0.0.1:5000: connect: connection refused")).toMatchObject(
      { failure: "invalid", why: /^cosign verify failed: Error: dial tcp/ },
    );
  });

  it("refuses a successful run whose payload is unreadable, of another digest or another tier", () => {
    const ok = (stdout: string, digestExpected = digest, tier = "staging") =>
      signatureVerdict(
        inv,
        { exitCode: 0, stdout, stderr: "" },
        {
          ...expected,
          digest: digestExpected,
          annotations: { "tiers.tier": tier },
        },
      );
    expect(ok("not json")).toMatchObject({ ok: false, failure: "invalid" });
    expect(ok(keyPayload, `sha256:${"d".repeat(64)}`)).toMatchObject({
      ok: false,
      failure: "digest-changed",
    });
    expect(ok(keyPayload, digest, "prod")).toMatchObject({ ok: false, failure: "missing" });
  });
});

describe("a sign run's evidence, the same for every engine (output handling only: no cosign here)", () => {
  const inv = sign({
    ref: remote,
    signer: { mode: "key", key: parseKeyRef("cosign.key") },
    annotations: { "tiers.tier": "staging" },
  });
  const signed = {
    repository: "ghcr.io/acme/api",
    digest,
    annotations: { "tiers.tier": "staging" },
    signer: "key:cosign.key",
  };

  it("records where the signature lives and who signed", () => {
    expect(signedEvidence(inv, { exitCode: 0, stdout: "", stderr: "" }, signed)).toEqual({
      verifier: "cosign",
      signer: "key:cosign.key",
      signature: `ghcr.io/acme/api:sha256-${"c".repeat(64)}.sig`,
      annotations: { "tiers.tier": "staging" },
    });
  });

  it("throws the typed cosign error of a failed run", () => {
    const failed = { exitCode: 1, stdout: "", stderr: "Error: reading key: decrypt: failed" };
    expect(() => signedEvidence(inv, failed, signed)).toThrow(/could not decrypt the signing key/);
  });
});

describe("cosign --timeout (argument vector only: no cosign here)", () => {
  it("passes the caller's timeout to every registry-touching command, and refuses a bad one", () => {
    const signer = { mode: "key", key: parseKeyRef("cosign.key") } as const;
    const expected = { mode: "key", key: parseKeyRef("cosign.pub") } as const;
    const invocations = [
      sign({ ref, signer, timeoutSeconds: 15 }),
      attest({ ref, signer, predicate: "p.json", type: "custom", timeoutSeconds: 15 }),
      verify({ ref, expected, timeoutSeconds: 15 }),
      verifyAttestation({ ref, expected, type: "custom", timeoutSeconds: 15 }),
    ];
    for (const inv of invocations) {
      expect(inv.args.filter((a) => a.startsWith("--timeout"))).toEqual(["--timeout=15s"]);
    }
    expect(() => sign({ ref, signer, timeoutSeconds: 0 })).toThrow(/positive whole number/);
    expect(() => verify({ ref, expected, timeoutSeconds: 1.5 })).toThrow(/positive whole number/);
  });
});

describe("cosign's real output (fixtures captured from the pinned cosign, see fixtures/cosign/README.md)", () => {
  const fixtures = join(import.meta.dirname, "fixtures", "cosign");
  const kinds = [
    "wrong-signer",
    "wrong-annotation",
    "unsigned",
    "digest-changed",
    "bad-password",
    "registry-unreachable",
  ] as const;
  for (const kind of kinds) {
    it(`classifies cosign's own ${kind} message as ${kind}`, () => {
      const stderr = readFileSync(join(fixtures, `${kind}.stderr`), "utf8");
      expect(classifyFailure(stderr)).toBe(kind);
      const inv = verify({ ref, expected: { mode: "key", key: parseKeyRef("cosign.pub") } });
      expect(cosignError(inv, { exitCode: 12, stdout: "", stderr }).kind).toBe(kind);
    });
  }

  it("parses cosign's real verify --output json (a leading blank line, then one JSON array)", () => {
    const stdout = readFileSync(join(fixtures, "verify-ok.stdout"), "utf8");
    const [signature, ...more] = parseVerifyOutput(stdout);
    expect(more).toEqual([]);
    expect(signature?.dockerReference).toBe("127.0.0.1:5000/tiers-cosign-capture/img");
    expect(signature?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(signature?.annotations).toEqual({ "tiers.tier": "staging" });
  });
});
