/**
 * The real cosign for integration tests: the binary scripts/provision.sh go-installs (at the
 * cosign image's tag, pipelines/src/tools/images.ts), and key pairs made by it. On a machine
 * where provision ran, cosign is there, so a missing or other-version cosign FAILS the tests
 * that need it, naming provision, instead of skipping them.
 */
import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { programFor, runHost } from "../../pipelines/src/engines/host/run.ts";
import { SecretStore } from "../../pipelines/src/engines/host/secrets.ts";
import * as cosign from "../../pipelines/src/tools/cosign.ts";
import { toolImages } from "../../pipelines/src/tools/images.ts";

/** The cosign release the pipeline pins, e.g. `v2.4.3`. */
export const pinnedCosign = toolImages.cosign.tag;

/** What `cosign version --json` says here, or why it could not be asked. */
export function cosignStatus(): { ok: true; version: string } | { ok: false; why: string } {
  const program = programFor("cosign");
  try {
    const out = execFileSync(program, ["version", "--json"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
    const version = (JSON.parse(out) as { gitVersion?: string }).gitVersion ?? "";
    if (version !== pinnedCosign) {
      return {
        ok: false,
        why: `${program} is ${version || "of unknown version"}, the pipeline pins ${pinnedCosign}: run scripts/provision.sh`,
      };
    }
    return { ok: true, version };
  } catch (error) {
    return {
      ok: false,
      why: `cosign ${pinnedCosign} is not installed here (${program}: ${(error as Error).message.split("\n")[0]}): run scripts/provision.sh`,
    };
  }
}

/** Throws, naming scripts/provision.sh, unless the pinned cosign runs here. */
export function requireCosign(): void {
  const status = cosignStatus();
  if (!status.ok) throw new Error(status.why);
}

/**
 * `cosign generate-key-pair` in `<dir>/<name>/`, encrypted with `password` (passed through
 * COSIGN_PASSWORD, never argv). Returns the private and public key paths.
 */
export async function generateKeys(
  dir: string,
  name: string,
  password: string,
): Promise<{ key: string; pub: string }> {
  const where = join(dir, name);
  await mkdir(where, { recursive: true });
  const env = { ...process.env, COSIGN_PASSWORD: password };
  const secrets = new SecretStore(env).define("password", { env: "COSIGN_PASSWORD" });
  await runHost(cosign.generateKeyPair(where, "password"), { root: where, env, secrets });
  return { key: join(where, "cosign.key"), pub: join(where, "cosign.pub") };
}
