/**
 * Machine settings: what this machine offers the pipeline (locally built base images, a local
 * registry, an extra CA bundle), recorded by `scripts/provision.sh` in `.tiers/machine.env`.
 *
 * Precedence, highest first: the process environment, the machine file, public defaults. The
 * defaults are the public images a user would pull, so a laptop with Docker Hub needs no file.
 * Callers that also read project configuration (environments/) can tell an explicit machine
 * value from a default through `source`, and let the project's value beat a default only.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TiersError } from "../../core/errors.ts";

/** Where the machine file lives, relative to the repository root. */
export const machineEnvPath = join(".tiers", "machine.env");

/** Each setting, with its variable name and public default. */
export const machineSettingVariables = {
  baseImage: { variable: "TIERS_BASE_IMAGE", fallback: "node:22-bookworm-slim" },
  postgresImage: { variable: "TIERS_POSTGRES_IMAGE", fallback: "postgres:15-bookworm" },
  busyboxImage: { variable: "TIERS_BUSYBOX_IMAGE", fallback: "busybox:1.36" },
  debianImage: { variable: "TIERS_DEBIAN_IMAGE", fallback: "debian:bookworm-slim" },
  registry: { variable: "TIERS_REGISTRY", fallback: "127.0.0.1:5000" },
  extraCaBundle: { variable: "TIERS_EXTRA_CA_BUNDLE", fallback: undefined },
} as const;

export type MachineSettingName = keyof typeof machineSettingVariables;

/** Where a setting's value came from. */
export type SettingSource = "env" | "file" | "default";

export interface MachineSettings {
  /** Base image of every service Dockerfile (`BASE_IMAGE`): Node 22 on Debian bookworm. */
  baseImage: string;
  /** PostgreSQL image of the dev and test tiers (official image interface). */
  postgresImage: string;
  /** Tiny image for quick container checks. */
  busyboxImage: string;
  /** Plain Debian bookworm image. */
  debianImage: string;
  /** Registry host:port that `tiers publish` pushes to. */
  registry: string;
  /** CA bundle builds pass to npm as the BuildKit secret `ca`; undefined when none. */
  extraCaBundle: string | undefined;
  /** Where each value came from. */
  source: Record<MachineSettingName, SettingSource>;
  /** Absolute path of the machine file that was read, or undefined when there is none. */
  file: string | undefined;
  /** Every KEY=VALUE of the machine file, including keys this module does not interpret. */
  fileValues: Readonly<Record<string, string>>;
}

const assignment = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/**
 * Parses KEY=VALUE lines (`#` comments, blank lines, optional `export `, optional matching
 * quotes around a value). A malformed line is an error naming `file:line:col`, because a
 * silently ignored line would leave a machine on public images without anyone noticing.
 */
export function parseMachineEnv(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = assignment.exec(line);
    if (!match) {
      const column = raw.length - raw.trimStart().length + 1;
      throw new TiersError(`expected KEY=VALUE, found ${JSON.stringify(line)}`, {
        where: `${file}:${index + 1}:${column}`,
        hint: "fix or delete the line, or re-run scripts/provision.sh to rewrite the file",
      });
    }
    const [, key, value] = match as unknown as [string, string, string];
    values[key] = unquote(value.trim());
  }
  return values;
}

function unquote(value: string): string {
  const quoted = /^(['"])(.*)\1$/.exec(value);
  return quoted ? quoted[2]! : value;
}

/**
 * Resolves the settings from the machine file's values and the process environment. Pure:
 * no I/O, so precedence is testable on its own.
 *
 * An empty value counts as unset for images and the registry (so `TIERS_BASE_IMAGE=` cannot
 * produce an unusable empty image name), but an empty TIERS_EXTRA_CA_BUNDLE explicitly means
 * "no extra CA", which lets the environment switch off a bundle the file names.
 */
export function resolveMachineSettings(
  fileValues: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
  file?: string,
): MachineSettings {
  const source = {} as Record<MachineSettingName, SettingSource>;
  const pick = (name: MachineSettingName): string | undefined => {
    const { variable, fallback } = machineSettingVariables[name];
    const allowEmpty = name === "extraCaBundle";
    const fromEnv = env[variable];
    if (fromEnv !== undefined && (allowEmpty || fromEnv.trim() !== "")) {
      source[name] = "env";
      return fromEnv.trim();
    }
    const fromFile = fileValues[variable];
    if (fromFile !== undefined && (allowEmpty || fromFile !== "")) {
      source[name] = "file";
      return fromFile;
    }
    source[name] = "default";
    return fallback;
  };
  const required = (name: Exclude<MachineSettingName, "extraCaBundle">) => pick(name) as string;
  const ca = pick("extraCaBundle");
  return {
    baseImage: required("baseImage"),
    postgresImage: required("postgresImage"),
    busyboxImage: required("busyboxImage"),
    debianImage: required("debianImage"),
    registry: required("registry"),
    extraCaBundle: ca === "" ? undefined : ca,
    source,
    file,
    fileValues,
  };
}

/**
 * Reads `<root>/.tiers/machine.env` (when present) and resolves the settings, the process
 * environment winning over the file. A missing file is normal (public defaults apply); an
 * unreadable or malformed one is an error that names the file.
 */
export async function loadMachineSettings(
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<MachineSettings> {
  const file = join(root, machineEnvPath);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return resolveMachineSettings({}, env, undefined);
    }
    throw new TiersError(`cannot read the machine settings: ${(error as Error).message}`, {
      where: file,
      hint: "check the file's permissions, or re-run scripts/provision.sh",
      cause: error,
    });
  }
  return resolveMachineSettings(parseMachineEnv(text, file), env, file);
}
