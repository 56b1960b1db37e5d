/**
 * Resolves logical secret names for the host runner. A secret reference is declared in the
 * environment config (`env:NAME`, `file:/path`, `vault:...`, `gcp-sm:...`); on the host only
 * `env:` and `file:` can be read directly, the rest need the CI vendor or Dagger to inject them.
 */
import { readFile } from "node:fs/promises";
import { TiersError } from "../../core/errors.ts";

export type SecretSource = { env: string } | { file: string } | { value: string };

export class SecretStore {
  private readonly sources = new Map<string, SecretSource>();
  private readonly seen = new Set<string>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  define(name: string, source: SecretSource): this {
    this.sources.set(name, source);
    return this;
  }

  has(name: string): boolean {
    return this.sources.has(name);
  }

  async resolve(name: string): Promise<string> {
    const source = this.sources.get(name);
    if (!source) {
      throw new TiersError(`secret "${name}" is needed but was not provided`, {
        hint: `define it in the tier's secrets, or pass it through the environment`,
      });
    }
    let value: string | undefined;
    if ("value" in source) value = source.value;
    else if ("env" in source) value = this.env[source.env];
    else value = await readFile(source.file, "utf8").catch(() => undefined);
    if (value === undefined || value === "") {
      const from =
        "env" in source
          ? `environment variable ${source.env}`
          : "file" in source
            ? `file ${source.file}`
            : "inline value";
      throw new TiersError(`secret "${name}" is empty: ${from} is not set`, {
        hint: "export it before running, or point the secret reference elsewhere",
      });
    }
    this.seen.add(value);
    return value;
  }

  /** Every secret value resolved so far, so output can be scrubbed before it is shown. */
  resolvedValues(): string[] {
    return [...this.seen];
  }
}

/** Replaces every resolved secret value (and each of its lines) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    for (const piece of [secret, ...secret.split("\n")]) {
      if (piece.trim().length >= 4) out = out.split(piece).join("***");
    }
  }
  return out;
}
