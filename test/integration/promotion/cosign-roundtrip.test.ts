/**
 * The one real cosign round trip: generate a key pair, sign a real image in the local registry
 * with the tier annotation, verify it, and see cosign's own failures classified (wrong key,
 * unsigned, other tier). cosign cannot be installed on this project's machines, so this runs
 * only where a `cosign` binary is on PATH and is reported as skipped elsewhere.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runHost } from "../../../pipelines/src/engines/host/run.ts";
import { SecretStore } from "../../../pipelines/src/engines/host/secrets.ts";
import * as cosign from "../../../pipelines/src/tools/cosign.ts";
import type { Invocation } from "../../../pipelines/src/tools/invocation.ts";
import { ensureBusybox, pushImage, removePushedImages, removeTestImages } from "./support.ts";

function cosignOnPath(): boolean {
  try {
    execFileSync("cosign", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const hasCosign = cosignOnPath();
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  if (hasCosign) removeTestImages();
  // The pushed images and the signatures cosign attached to them (sha256-<hex>.sig tags).
  const { left } = await removePushedImages();
  if (left.length) throw new Error(`registry tags left behind: ${left.join(", ")}`);
});

describe("cosign round trip", () => {
  it.skipIf(!hasCosign)(
    `signs and verifies a real digest with the tier annotation (requires cosign binary${hasCosign ? "" : ": SKIPPED, no cosign on PATH here"})`,
    async () => {
      await ensureBusybox();
      const root = await mkdtemp(join(tmpdir(), "tiers-cosign-"));
      dirs.push(root);
      const env = { ...process.env, COSIGN_PASSWORD: "round-trip-password" };
      const secrets = new SecretStore(env).define("pw", { env: "COSIGN_PASSWORD" });
      const run = (invocation: Invocation, reject = true) =>
        runHost(invocation, { root, env, secrets, reject });
      for (const name of ["a", "b"]) {
        await mkdir(join(root, name));
        await run(cosign.generateKeyPair(join(root, name), "pw"));
      }
      const signed = pushImage({ service: "api", commit: "f".repeat(40) });
      const unsigned = pushImage({ service: "worker", commit: "e".repeat(40) });

      await run(
        cosign.sign({
          ref: signed.ref,
          signer: {
            mode: "key",
            key: cosign.parseKeyRef(join(root, "a", "cosign.key")),
            passwordSecret: "pw",
          },
          annotations: { "tiers.tier": "staging" },
          tlogUpload: false,
        }),
      );
      const verify = (ref: string, key: string, tier: string) =>
        cosign.verify({
          ref,
          expected: { mode: "key", key: cosign.parseKeyRef(join(root, key, "cosign.pub")) },
          annotations: { "tiers.tier": tier },
          ignoreTlog: true,
        });

      const ok = await run(verify(signed.ref, "a", "staging"));
      const signatures = cosign.parseVerifyOutput(ok.stdout);
      expect(cosign.checkVerified(signatures, signed.digest, { "tiers.tier": "staging" }).ok).toBe(
        true,
      );

      for (const [ref, key, tier, kind] of [
        [signed.ref, "b", "staging", "wrong-signer"],
        [unsigned.ref, "a", "staging", "unsigned"],
        [signed.ref, "a", "prod", "wrong-annotation"],
      ] as const) {
        const invocation = verify(ref, key, tier);
        const result = await run(invocation, false);
        expect(result.exitCode).toBe(1);
        expect(cosign.cosignError(invocation, result).kind).toBe(kind);
      }
    },
  );
});
