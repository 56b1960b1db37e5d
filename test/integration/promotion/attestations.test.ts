/**
 * Supply-chain attestations with the real cosign (key mode, generated key, transparency log
 * off: `--tlog-upload=false` / `--insecure-ignore-tlog=true`) against the real local registry
 * (127.0.0.1:5000): the SBOM the real `npm sbom` makes (`--type cyclonedx`), the SLSA v1
 * provenance publish writes (`--type slsaprovenance1`) and a grype report recorded in grype's
 * own JSON format (`--type vuln`), each checked back with `cosign verify-attestation`.
 *
 * Predicate types cosign maps the --type values to (sigstore/cosign v2.4.3
 * cmd/cosign/cli/options/predicate.go, PredicateTypeMap): cyclonedx → in-toto's
 * https://cyclonedx.org/bom, slsaprovenance1 → https://slsa.dev/provenance/v1, vuln →
 * https://cosign.sigstore.dev/attestation/vuln/v1 (pkg/cosign/attestation/attestation.go).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeArtefactRecord } from "../../../pipelines/src/core/artefact.ts";
import { memorySink, Reporter } from "../../../pipelines/src/core/log.ts";
import {
  slsaProvenance,
  tiersBuilderId,
} from "../../../pipelines/src/core/promotion/provenance.ts";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import {
  generateSbom,
  hostAttester,
  recordScan,
} from "../../../pipelines/src/engines/host/supply-chain.ts";
import * as cosign from "../../../pipelines/src/tools/cosign.ts";
import { cosignStatus, generateKeys } from "../../support/cosign.ts";
import { repoRoot, runTiers, snapshotRepo } from "../../support/repo.ts";
import {
  cleanEnv,
  ensureBusybox,
  makeRepo,
  pushImage,
  type Repo,
  removePushedImages,
  removeTestImages,
  writeArtefacts,
} from "./support.ts";

const password = "attest-password";
const status = cosignStatus();
let dir: string;
let keys: { a: { key: string; pub: string }; b: { key: string; pub: string } };
let image: { repository: string; digest: string; ref: string };
const repos: Repo[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-attest-test-"));
  if (!status.ok) return;
  await ensureBusybox();
  keys = {
    a: await generateKeys(dir, "a", password),
    b: await generateKeys(dir, "b", password),
  };
  image = pushImage({ service: "api", commit: "d".repeat(40) });
});

afterAll(async () => {
  for (const r of repos) await r.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
  removeTestImages();
  const { left } = await removePushedImages();
  if (left.length) throw new Error(`registry tags left behind: ${left.join(", ")}`);
});

const signing = () =>
  cleanEnv({
    TIERS_COSIGN_KEY: keys.a.key,
    COSIGN_PASSWORD: password,
    TIERS_COSIGN_TLOG: "false",
  });

/** `cosign verify-attestation --type <type>` with a public key; the parsed statements or the failure. */
async function verifyAttestations(type: string, pub: string) {
  const invocation = cosign.verifyAttestation({
    ref: image.ref,
    expected: { mode: "key", key: { kind: "file", path: pub } },
    type,
    ignoreTlog: true,
  });
  const result = await runHost(invocation, { root: dir, env: cleanEnv(), reject: false });
  return {
    result,
    statements: result.exitCode === 0 ? cosign.parseAttestationOutput(result.stdout) : [],
  };
}

describe("supply-chain attestations (real cosign, key mode, local registry, no transparency log)", () => {
  it("finds the cosign scripts/provision.sh installs", () => {
    expect(status, status.ok ? "" : status.why).toMatchObject({ ok: true });
  });

  it("without TIERS_COSIGN_KEY nothing is attested, and the reason says so", async () => {
    const attester = await hostAttester(dir, cleanEnv());
    expect(attester).toEqual({
      attest: false,
      why: "TIERS_COSIGN_KEY is not set, so nothing was attested",
    });
  });

  it("SBOM from the real npm sbom and SLSA v1 provenance, attested with the key, verify with its public key only", async () => {
    const sbom = await generateSbom(repoRoot, "services/api");
    const provenance = slsaProvenance({
      builderId: tiersBuilderId("host"),
      source: { uri: "file:///repo", commit: "d".repeat(40) },
      service: "api",
      dockerfile: "services/api/Dockerfile",
      context: ".",
      target: "production",
      buildArgs: { BASE_IMAGE: "local/node:22-bookworm-slim", TIERS_GIT_SHA: "d".repeat(40) },
      labels: { "org.opencontainers.image.revision": "d".repeat(40) },
      baseImage: { ref: "local/node:22-bookworm-slim", imageId: `sha256:${"e".repeat(64)}` },
      inputs: [{ path: "package-lock.json", sha256: "f".repeat(64) }],
      invocationId: "urn:uuid:00000000-0000-4000-8000-000000000000",
      startedOn: "2026-12-02T06:00:00.000Z",
      finishedOn: "2026-12-02T06:01:00.000Z",
    });
    const attester = await hostAttester(dir, signing());
    expect(attester.attest).toBe(true);
    if (!attester.attest) return;
    await attester.run([
      { ref: image.ref, path: "sbom", content: sbom, type: "cyclonedx" },
      {
        ref: image.ref,
        path: "provenance",
        content: JSON.stringify(provenance),
        type: "slsaprovenance1",
      },
    ]);

    const bom = await verifyAttestations("cyclonedx", keys.a.pub);
    expect(bom.result.exitCode, bom.result.stderr).toBe(0);
    expect(bom.statements[0]).toMatchObject({
      predicateType: "https://cyclonedx.org/bom",
      subjects: [{ name: image.repository, digest: image.digest }],
    });
    const components = (bom.statements[0]!.predicate as { components: Array<{ name: string }> })
      .components;
    expect(components.map((c) => c.name)).toEqual(expect.arrayContaining(["pg", "pg-types"]));

    const slsa = await verifyAttestations("slsaprovenance1", keys.a.pub);
    expect(slsa.result.exitCode, slsa.result.stderr).toBe(0);
    expect(slsa.statements[0]!.predicateType).toBe("https://slsa.dev/provenance/v1");
    expect(slsa.statements[0]!.predicate).toMatchObject({
      buildDefinition: {
        buildType: "urn:tiers:build-type:dockerfile-target:v1",
        externalParameters: {
          source: { commit: "d".repeat(40) },
          buildArgs: { BASE_IMAGE: "local/node:22-bookworm-slim" },
        },
        resolvedDependencies: expect.arrayContaining([
          expect.objectContaining({
            name: "base-image",
            uri: "docker-image://local/node:22-bookworm-slim",
          }),
        ]),
      },
      runDetails: { builder: { id: "urn:tiers:engine:host" } },
    });

    // Another key's public half verifies none of them.
    const wrong = await verifyAttestations("slsaprovenance1", keys.b.pub);
    expect(wrong.result.exitCode).not.toBe(0);
    // cosign: "no matching attestations: accepted signatures do not match threshold".
    expect(cosign.classifyFailure(wrong.result.stderr)).toBe("wrong-signer");
  });

  it("tiers record-evidence (what dagger call publish runs on its clone) attests the dagger engine's SBOM and provenance to the published digest", async () => {
    const snapshot = await snapshotRepo();
    try {
      const published = pushImage({ service: "api", commit: snapshot.commit });
      const record = {
        commit: snapshot.commit,
        created: "2026-12-02T06:05:00.000Z",
        registry: "127.0.0.1:5000",
        images: { api: { ...published, tag: snapshot.commit } },
      };
      await mkdir(join(snapshot.root, ".tiers", "artefacts"), { recursive: true });
      await writeFile(
        join(snapshot.root, ".tiers", "artefacts", `${snapshot.commit}.json`),
        serializeArtefactRecord(record),
      );
      const run = await runTiers(
        snapshot.root,
        ["record-evidence", "--commit", snapshot.commit, "--engine", "dagger"],
        { env: signing() },
      );
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain("attested SBOM (cyclonedx) and provenance (slsaprovenance1)");
      const verified = await runHost(
        cosign.verifyAttestation({
          ref: published.ref,
          expected: { mode: "key", key: { kind: "file", path: keys.a.pub } },
          type: "slsaprovenance1",
          ignoreTlog: true,
        }),
        { root: dir, env: cleanEnv(), reject: false },
      );
      expect(verified.exitCode, verified.stderr).toBe(0);
      const [statement] = cosign.parseAttestationOutput(verified.stdout);
      expect(statement?.subjects).toEqual([
        { name: published.repository, digest: published.digest },
      ]);
      expect(statement?.predicate).toMatchObject({
        buildDefinition: { externalParameters: { source: { commit: snapshot.commit } } },
        runDetails: { builder: { id: "urn:tiers:engine:dagger" } },
      });
    } finally {
      await snapshot.remove();
    }
  });

  it("tiers record-scan with --repository attests the grype report (recorded in grype's own JSON format) as a vuln attestation", async () => {
    const r = await makeRepo();
    repos.push(r);
    await recordScan({
      root: r.root,
      digest: image.digest,
      repository: image.repository,
      report: join(
        import.meta.dirname,
        "../../fixtures/security/grype/TestJsonDirsPresenter.golden",
      ),
      format: "grype",
      reporter: new Reporter({ sink: memorySink() }),
      env: signing(),
    });
    const vuln = await verifyAttestations("vuln", keys.a.pub);
    expect(vuln.result.exitCode, vuln.result.stderr).toBe(0);
    expect(vuln.statements[0]!.predicateType).toBe(
      "https://cosign.sigstore.dev/attestation/vuln/v1",
    );
    const predicate = vuln.statements[0]!.predicate as {
      scanner: { uri: string; result: { matches: Array<{ vulnerability: { id: string } }> } };
    };
    expect(predicate.scanner.uri).toBe("pkg:generic/grype@[not provided]");
    expect(predicate.scanner.result.matches.map((m) => m.vulnerability.id)).toEqual([
      "CVE-1999-0001",
      "CVE-1999-0002",
    ]);
  });

  it("record-scan without --repository attests to the repository of the artefact record that names the digest", async () => {
    const r = await makeRepo();
    repos.push(r);
    await writeArtefacts(r.root, {
      commit: "d".repeat(40),
      created: new Date().toISOString(),
      registry: "127.0.0.1:5000",
      images: {
        api: {
          repository: image.repository,
          tag: "d".repeat(40),
          digest: image.digest,
          ref: image.ref,
        },
      },
    });
    const sink = memorySink();
    await recordScan({
      root: r.root,
      digest: image.digest,
      report: join(import.meta.dirname, "../../fixtures/security/grype/dir-low-only.golden"),
      format: "grype",
      reporter: new Reporter({ sink }),
      env: signing(),
    });
    expect(sink.lines.join("\n")).toContain(`attested the report to ${image.ref} (vuln)`);
    const vuln = await verifyAttestations("vuln", keys.a.pub);
    expect(vuln.result.exitCode, vuln.result.stderr).toBe(0);
    expect(vuln.statements.length).toBeGreaterThanOrEqual(2);
  });

  it("a configured key without cosign fails before anything is pushed or recorded", async () => {
    const env = { ...signing(), TIERS_COSIGN_BIN: "/nonexistent/cosign" };
    await expect(hostAttester(dir, env)).rejects.toThrow(/cosign is not installed here/);
  });
});
