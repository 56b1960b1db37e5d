/**
 * Both engines agree, checked by the real cosign: the Dagger evidence verifier
 * (engines/dagger/evidence.ts) and the host one (engines/host/signing.ts) sign and verify the
 * same passage with the same key. The host runs cosign through a wrapper that records every
 * argument vector it really executes; the Dagger verifier's invocations are turned into the
 * container query the Dagger runner would send (read as test/unit/index/* do; there is no
 * Dagger engine here) and then executed with the same real cosign on the host. The vectors
 * must be identical, the query must exec exactly them in the pinned cosign image, and the
 * real binary's verdicts must match.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dag } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DaggerCosignEvidence } from "../../../pipelines/src/engines/dagger/evidence.ts";
import { invocationContainer } from "../../../pipelines/src/engines/dagger/run.ts";
import { daggerSecrets } from "../../../pipelines/src/engines/dagger/secrets.ts";
import { locate } from "../../../pipelines/src/engines/host/probe.ts";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import { SecretStore } from "../../../pipelines/src/engines/host/secrets.ts";
import { CosignEvidence } from "../../../pipelines/src/engines/host/signing.ts";
import { toolImageRef } from "../../../pipelines/src/tools/images.ts";
import type { Invocation } from "../../../pipelines/src/tools/invocation.ts";
import { cosignStatus, generateKeys } from "../../support/cosign.ts";
import { execs, opsNamed } from "../../support/dagger/query.ts";
import { ensureBusybox, pushImage, removePushedImages, removeTestImages } from "./support.ts";

const password = "engines-key-password";
const status = cosignStatus();
let dir: string;
let argvLog: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tiers-engines-"));
  if (!status.ok) return;
  await ensureBusybox();
  const { key, pub } = await generateKeys(dir, "k", password);
  const real = await locate("cosign", process.env);
  argvLog = join(dir, "argv.log");
  const wrapper = join(dir, "cosign");
  // One argument per line, a blank-free end marker per run; then the real cosign.
  await writeFile(
    wrapper,
    `#!/bin/sh\n{ for a in "$@"; do printf '%s\\n' "$a"; done; echo '--end--'; } >>'${argvLog}'\nexec '${real}' "$@"\n`,
  );
  await chmod(wrapper, 0o755);
  env = {
    ...process.env,
    TIERS_COSIGN_BIN: wrapper,
    COSIGN_PASSWORD: password,
    // The host takes the keys as env:// keys, as the Dagger module always does.
    TIERS_COSIGN_KEY: "env://COSIGN_PRIVATE_KEY",
    COSIGN_PRIVATE_KEY: await readFile(key, "utf8"),
    TIERS_COSIGN_PUBLIC_KEY: "env://COSIGN_PUBLIC_KEY",
    COSIGN_PUBLIC_KEY: await readFile(pub, "utf8"),
  };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  removeTestImages();
  const { left } = await removePushedImages();
  if (left.length) throw new Error(`registry tags left behind: ${left.join(", ")}`);
});

/** The argument vectors the host wrapper saw, without the availability probe. */
async function hostVectors(): Promise<string[][]> {
  const text = await readFile(argvLog, "utf8").catch(() => "");
  return text
    .split("--end--\n")
    .filter(Boolean)
    .map((run) => run.split("\n").filter((_, i, all) => i < all.length - 1))
    .filter((args) => args[0] !== "version");
}

describe("the Dagger module's cosign vectors are the ones the host runs, checked by the real cosign", () => {
  it("finds the cosign scripts/provision.sh installs", () => {
    expect(status.ok, status.ok ? "" : status.why).toBe(true);
  });

  it("signs and verifies a passage with identical vectors and identical real verdicts", async () => {
    const policy = { required: true, mode: "key", key: "file:/not/used/by/either.key" };
    const signed = pushImage({ service: "api", commit: "a".repeat(40) });
    const unsigned = pushImage({ service: "worker", commit: "a".repeat(40) });
    const subject = (image: typeof signed) => ({
      tier: "staging",
      digest: image.digest,
      repository: image.repository,
    });

    const host = new CosignEvidence({ root: dir, project: "tiers", env, tlog: false });
    const hostSigned = await host.sign(subject(signed), policy);
    const hostOk = await host.verifySignature(subject(signed), policy);
    const hostUnsigned = await host.verifySignature(subject(unsigned), policy);
    const [hostSign, hostVerify, hostVerifyUnsigned] = await hostVectors();

    const secrets = daggerSecrets({
      "cosign-key": dag.setSecret("cosign-key", env.COSIGN_PRIVATE_KEY!),
      "cosign-password": dag.setSecret("cosign-password", password),
      "cosign-public-key": dag.setSecret("cosign-public-key", env.COSIGN_PUBLIC_KEY!),
    });
    const hostSecrets = new SecretStore(env)
      .define("cosign-key", { env: "COSIGN_PRIVATE_KEY" })
      .define("cosign-password", { env: "COSIGN_PASSWORD" })
      .define("cosign-public-key", { env: "COSIGN_PUBLIC_KEY" });
    const ran: Invocation[] = [];
    const dagger = new DaggerCosignEvidence({
      project: "tiers",
      tlog: false,
      secrets,
      run: async (invocation) => {
        ran.push(invocation);
        // What the Dagger runner would execute: the pinned image, exactly this vector.
        const container = invocationContainer(invocation, { secrets });
        expect(opsNamed(container, "from")[0]?.args.address).toBe(toolImageRef("cosign"));
        expect(execs(container)).toEqual([["cosign", ...invocation.args]]);
        return runHost(invocation, { root: dir, env, secrets: hostSecrets, reject: false });
      },
    });
    const daggerSigned = await dagger.sign(subject(signed), policy);
    const daggerOk = await dagger.verifySignature(subject(signed), policy);
    const daggerUnsigned = await dagger.verifySignature(subject(unsigned), policy);

    expect(ran.map((i) => i.args)).toEqual([hostSign, hostVerify, hostVerifyUnsigned]);
    expect(hostSign).toContain("--tlog-upload=false");
    expect(hostVerify).toContain("--insecure-ignore-tlog=true");
    expect(daggerSigned).toEqual(hostSigned);
    expect(hostOk).toMatchObject({ ok: true });
    expect(daggerOk).toEqual(hostOk);
    expect(hostUnsigned).toMatchObject({ ok: false, failure: "unsigned" });
    expect(daggerUnsigned).toEqual(hostUnsigned);
  });
});
