/**
 * Logical secret names shared by the tool modules and the Dagger functions.
 *
 * A tool module asks for a secret by name (`secretEnv: { COSIGN_PASSWORD: "cosign-password" }`);
 * the host runner resolves that name from the tier's `secrets:` references, and the Dagger
 * module resolves it from the `Secret` arguments of the function being called. The flag a user
 * passes is the same kebab-case name (`--cosign-password env:COSIGN_PASSWORD`), so an error can
 * say exactly which flag is missing.
 */
import type { Secret } from "@dagger.io/dagger";
import { TiersError } from "../../core/errors.ts";

/** Name -> Dagger secret, as given to the function. Absent arguments are simply not in the map. */
export type DaggerSecrets = Readonly<Record<string, Secret>>;

/** Builds the map from optional function arguments, dropping the ones the caller did not pass. */
export function daggerSecrets(named: Record<string, Secret | undefined | null>): DaggerSecrets {
  const out: Record<string, Secret> = {};
  for (const [name, secret] of Object.entries(named)) if (secret) out[name] = secret;
  return out;
}

/** The Secret for a logical name, or an error naming the `dagger call` flag to pass. */
export function requireSecret(secrets: DaggerSecrets, name: string, neededBy: string): Secret {
  const secret = secrets[name];
  if (!secret) {
    throw new TiersError(`secret "${name}" is needed by ${neededBy} but was not given`, {
      hint: `pass it as a Dagger secret: --${name} env:VARIABLE (or file:/path, or a secret provider URI)`,
    });
  }
  return secret;
}
