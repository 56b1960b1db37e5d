/**
 * The real cosign round trip, in key mode against the local registry (127.0.0.1:5000) with the
 * transparency log off (`--tlog-upload=false` on sign, `--insecure-ignore-tlog=true` on verify:
 * cmd/cosign/cli/options/sign.go and verify.go of the pinned release). Every typed failure
 * below is cosign's own output, classified by tools/cosign.ts; none is emulated.
 *
 * Where the messages come from (sigstore/cosign at the pinned tag):
 * - unsigned: pkg/cosign/verify.go, ErrNoSignaturesFound "no signatures found"
 * - wrong-signer: pkg/cosign/verify.go, ErrNoMatchingSignatures "no matching signatures: ..."
 *   wrapping the signature check's own error ("invalid signature when validating ASN.1 encoded
 *   signature", pkg/signature of sigstore/sigstore)
 * - wrong-annotation / digest-changed: pkg/cosign/verifiers.go SimpleClaimVerifier,
 *   "missing or incorrect annotation" / "invalid or missing digest in claim: <digest>"
 * - bad-password: pkg/cosign/keys.go LoadPrivateKey, "decrypt: ..."
 * - registry-unreachable: go-containerregistry's transport, "dial tcp ...: connection refused"
 *
 * cosign is installed by scripts/provision.sh (.ci/run runs it first), so a machine without it
 * fails here, naming provision; it is never a skip.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import { SecretStore } from "../../../pipelines/src/engines/host/secrets.ts";
import * as cosign from "../../../pipelines/src/tools/cosign.ts";
import type { Invocation } from "../../../pipelines/src/tools/invocation.ts";
import { cosignStatus, generateKeys } from "../../support/cosign.ts";
import { freePort } from "../../support/docker.ts";
import { listTags, manifestAccept } from "../../support/registry.ts";
import {
  ensureBusybox,
  namespace,
  pushImage,
  registryHost,
  removePushedImages,
  removeTestImages,
} from "./support.ts";

const password = "round-trip-password";
const status = cosignStatus();
let root: string;
let keys: { a: { key: string; pub: string }; b: { key: string; pub: string } };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "tiers-cosign-"));
  if (!status.ok) return;
  await ensureBusybox();
  keys = {
    a: await generateKeys(root, "a", password),
    b: await generateKeys(root, "b", password),
  };
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  removeTestImages();
  // The pushed images and the signatures cosign attached to them (sha256-<hex>.sig tags).
  const { left } = await removePushedImages();
  if (left.length) throw new Error(`registry tags left behind: ${left.join(", ")}`);
});

/** Runs an invocation on the host with COSIGN_PASSWORD bound as the secret "pw". */
function run(invocation: Invocation, pw = password) {
  const env = { ...process.env, COSIGN_PASSWORD: pw };
  const secrets = new SecretStore(env).define("pw", { env: "COSIGN_PASSWORD" });
  return runHost(invocation, { root, env, secrets, reject: false });
}

const signWith = (ref: string, key: string, tier: string) =>
  cosign.sign({
    ref,
    signer: { mode: "key", key: cosign.parseKeyRef(key), passwordSecret: "pw" },
    annotations: { "tiers.tier": tier },
    tlogUpload: false,
  });

const verifyWith = (ref: string, pub: string, tier: string) =>
  cosign.verify({
    ref,
    expected: { mode: "key", key: cosign.parseKeyRef(pub) },
    annotations: { "tiers.tier": tier },
    ignoreTlog: true,
  });

/** Runs a verify that must fail and returns the kind cosign's real output is classified as. */
async function failureOf(invocation: Invocation, pw?: string) {
  const result = await run(invocation, pw);
  expect(result.exitCode, `${invocation.args.join(" ")} should have failed`).not.toBe(0);
  return { kind: cosign.cosignError(invocation, result).kind, stderr: result.stderr };
}

/** Copies a manifest to another tag of the same repository (registry API, blobs already there). */
async function copyTag(repository: string, from: string, to: string): Promise<void> {
  const base = `http://${registryHost}/v2/${repository}/manifests`;
  const got = await fetch(`${base}/${from}`, { headers: { accept: manifestAccept } });
  if (!got.ok) throw new Error(`GET ${base}/${from}: HTTP ${got.status}`);
  const type = got.headers.get("content-type") ?? "application/vnd.oci.image.manifest.v1+json";
  const put = await fetch(`${base}/${to}`, {
    method: "PUT",
    headers: { "content-type": type },
    body: await got.arrayBuffer(),
  });
  if (!put.ok) throw new Error(`PUT ${base}/${to}: HTTP ${put.status} ${await put.text()}`);
}

describe(`cosign round trip (real cosign ${cosign.defaultTimeoutSeconds}s timeout, key mode, local registry, no transparency log)`, () => {
  it("finds the cosign scripts/provision.sh installs", () => {
    expect(status.ok, status.ok ? "" : status.why).toBe(true);
  });

  it("signs a real published digest with the tier annotation, and verifies it with the right key and annotation", async () => {
    const image = pushImage({ service: "api", commit: "f".repeat(40) });
    const signed = await run(signWith(image.ref, keys.a.key, "staging"));
    expect(signed.exitCode, signed.stderr).toBe(0);
    // The signature lives where cosign puts it, and where signedEvidence records it.
    const sigTag = cosign.signatureTag(image.repository, image.digest);
    expect(await listTags(registryHost, `${namespace}/api`)).toContain(sigTag.split(":").pop());
    const ok = await run(verifyWith(image.ref, keys.a.pub, "staging"));
    expect(ok.exitCode, ok.stderr).toBe(0);
    const signatures = cosign.parseVerifyOutput(ok.stdout);
    expect(signatures.map((s) => [s.digest, s.dockerReference, s.annotations])).toEqual([
      [image.digest, image.repository, { "tiers.tier": "staging" }],
    ]);
    expect(cosign.checkVerified(signatures, image.digest, { "tiers.tier": "staging" }).ok).toBe(
      true,
    );

    // wrong key → wrong-signer; the other tier's annotation → wrong-annotation.
    expect((await failureOf(verifyWith(image.ref, keys.b.pub, "staging"))).kind).toBe(
      "wrong-signer",
    );
    expect((await failureOf(verifyWith(image.ref, keys.a.pub, "prod"))).kind).toBe(
      "wrong-annotation",
    );
  });

  it("unsigned: a published digest with no signature", async () => {
    const image = pushImage({ service: "worker", commit: "e".repeat(40) });
    expect((await failureOf(verifyWith(image.ref, keys.a.pub, "staging"))).kind).toBe("unsigned");
  });

  it("digest-changed: the tag is re-pushed and the old signature carried over to the new digest", async () => {
    const commit = "d".repeat(40);
    const first = pushImage({ service: "api", commit });
    expect((await run(signWith(first.ref, keys.a.key, "staging"))).exitCode).toBe(0);
    // Someone pushes another image under the same tag and copies the signature next to it.
    const moved = pushImage({ service: "api", commit });
    expect(moved.digest).not.toBe(first.digest);
    const tagOf = (digest: string) => `${digest.replace(":", "-")}.sig`;
    await copyTag(`${namespace}/api`, tagOf(first.digest), tagOf(moved.digest));
    const failure = await failureOf(verifyWith(moved.ref, keys.a.pub, "staging"));
    expect(failure.stderr).toContain(`invalid or missing digest in claim: ${first.digest}`);
    expect(failure.kind).toBe("digest-changed");
  });

  it("bad-password: COSIGN_PASSWORD does not open the key", async () => {
    const image = pushImage({ service: "worker", commit: "c".repeat(40) });
    const failure = await failureOf(signWith(image.ref, keys.a.key, "staging"), "not-the-password");
    expect(failure.kind).toBe("bad-password");
    // Nothing was signed.
    expect((await failureOf(verifyWith(image.ref, keys.a.pub, "staging"))).kind).toBe("unsigned");
  });

  it("registry-unreachable: nothing listens where the registry should be", async () => {
    const port = await freePort();
    const ref = `127.0.0.1:${port}/${namespace}/api@sha256:${"a".repeat(64)}`;
    const invocation = cosign.verify({
      ref,
      expected: { mode: "key", key: cosign.parseKeyRef(keys.a.pub) },
      annotations: { "tiers.tier": "staging" },
      ignoreTlog: true,
      timeoutSeconds: 20,
    });
    expect((await failureOf(invocation)).kind).toBe("registry-unreachable");
  });
});
