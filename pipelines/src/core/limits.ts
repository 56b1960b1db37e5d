/**
 * The one table of limits: how long each external call may take, and how big an input file may
 * be. Every default can be overridden by an environment variable named after its entry
 * (`TIERS_TIMEOUT_SKOPEO=45s`, `TIERS_LIMIT_YAML_BYTES=2097152`), and a value that does not parse
 * is an error naming the variable, never silently replaced by the default. Pure: the environment
 * is handed in (it defaults to `process.env` only for callers that have no other).
 */
import { UsageError } from "./errors.ts";

/**
 * Default time limits. A process that is still running after its limit is killed with its whole
 * process group (see engines/host/run.ts). Tools that have their own request limit (skopeo's
 * `--command-timeout`, kubectl's `--request-timeout`, cosign's `--timeout`) get it from the same
 * entry, so the tool's own, better worded error normally fires first.
 */
export const timeoutDefaults = {
  /** One registry request through skopeo (`inspect`, `copy` of a manifest). */
  skopeo: "10s",
  /** One git command (all are local except fetch/push, which git itself never bounds). */
  git: "60s",
  /** One kubectl process; `rollout status` gets its own wait plus this on top. */
  kubectl: "2m",
  /** kubectl's `--request-timeout` for a one-shot call to the API server. */
  "kubectl-request": "30s",
  /** One docker CLI process: builds and pushes are the long ones. */
  docker: "30m",
  /** One `docker compose` process (`up --wait` included). */
  "docker-compose": "20m",
  /** One terraform process (`init` may download providers). */
  terraform: "20m",
  /** One npm process (`npm sbom --package-lock-only` reads the lock file, offline). */
  npm: "2m",
  /** One cosign process (sign, verify, attest). */
  cosign: "5m",
  /** The registry's HTTP API ping (`GET /v2/`). */
  "registry-ping": "3s",
  /** One question to the Docker engine over its socket (an image's inspect). */
  "docker-engine": "10s",
  /**
   * How long a failed test run's kept service container lives (`--interactive`,
   * `--keep-on-failure`): its keep-alive `sleep`, which also ends a shell opened in it.
   */
  "debug-shell": "1h",
} as const;
export type TimeoutName = keyof typeof timeoutDefaults;

/** Default limits on what the project reads. */
export const inputDefaults = {
  /** Largest YAML file read (tier files, records, overlays, compose files, rendered manifests). */
  "yaml-bytes": 4 * 1024 * 1024,
  /**
   * The `yaml` package's `maxAliasCount` (https://eemeli.org/yaml/#options): how often one
   * anchor's content may be repeated through aliases. 100 is the package's own default.
   */
  "yaml-aliases": 100,
  /** Nodes a YAML document may expand to once aliases are resolved (our own cap, located). */
  "yaml-nodes": 200_000,
  /**
   * Bytes of one service's log a failed test run keeps under `.tiers/reports/` (what the project
   * writes for a person to read, not what it parses): beyond it the middle is cut, with a note.
   */
  "report-log-bytes": 1024 * 1024,
} as const;
export type InputLimitName = keyof typeof inputDefaults;

/** `skopeo` → `TIERS_TIMEOUT_SKOPEO`; `docker-compose` → `TIERS_TIMEOUT_DOCKER_COMPOSE`. */
export function timeoutVariable(name: TimeoutName): string {
  return `TIERS_TIMEOUT_${name.toUpperCase().replace(/-/g, "_")}`;
}

/** `yaml-bytes` → `TIERS_LIMIT_YAML_BYTES`. */
export function inputVariable(name: InputLimitName): string {
  return `TIERS_LIMIT_${name.toUpperCase().replace(/-/g, "_")}`;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s` → 30000. Throws a plain Error on anything else; callers say where it came from. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+)\s*(ms|s|m|h)\s*$/.exec(text);
  const ms = match ? Number(match[1]) * units[match[2]!]! : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new Error(`"${text}" is not a positive duration such as 500ms, 30s, 2m or 1h`);
  }
  return ms;
}

/** 30000 → `30s`, 1500 → `1500ms`: the form Go's time.ParseDuration (skopeo, kubectl) accepts. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A time limit, with where it came from so errors can say which variable to change. */
export interface Limit {
  ms: number;
  /** The environment variable that overrides it. */
  variable: string;
  /** `30s` */
  text: string;
}

/** The limit for one kind of call: the environment's override, else the table's default. */
export function timeoutFor(name: TimeoutName, env: NodeJS.ProcessEnv = process.env): Limit {
  const variable = timeoutVariable(name);
  const raw = env[variable];
  const source = raw === undefined || raw === "" ? timeoutDefaults[name] : raw;
  try {
    const ms = parseDuration(source);
    return { ms, variable, text: formatDuration(ms) };
  } catch (error) {
    throw new UsageError(`${variable}: ${(error as Error).message}`, {
      where: `environment variable ${variable}`,
      hint: `unset it to use the default (${timeoutDefaults[name]}) or give a duration like 45s`,
    });
  }
}

/** An input limit: the environment's override (a positive integer), else the table's default. */
export function inputLimit(name: InputLimitName, env: NodeJS.ProcessEnv = process.env): number {
  const variable = inputVariable(name);
  const raw = env[variable];
  if (raw === undefined || raw === "") return inputDefaults[name];
  if (!/^\d+$/.test(raw.trim()) || Number(raw) <= 0 || !Number.isSafeInteger(Number(raw))) {
    throw new UsageError(`${variable}: "${raw}" is not a positive whole number`, {
      where: `environment variable ${variable}`,
      hint: `unset it to use the default (${inputDefaults[name]})`,
    });
  }
  return Number(raw);
}

/** Checks every override in `env` at once, so a typo is reported before any work starts. */
export function checkLimits(env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = [];
  for (const name of Object.keys(timeoutDefaults) as TimeoutName[]) {
    try {
      timeoutFor(name, env);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  for (const name of Object.keys(inputDefaults) as InputLimitName[]) {
    try {
      inputLimit(name, env);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new UsageError(problems.join("\n"), {
      where: "environment",
      hint: "fix or unset the variables above",
    });
  }
}

/** What to say when a call ran past its limit: the tool, what it talked to, and the limit. */
export function describeTimeout(
  tool: string,
  target: string | undefined,
  limit: Limit,
): { message: string; hint: string } {
  return {
    message: `${tool}${target ? ` talking to ${target}` : ""} did not finish within ${limit.text} (limit ${limit.variable})`,
    hint: target
      ? `check that ${target} answers, or raise ${limit.variable}`
      : `raise ${limit.variable} if the call is expected to take longer`,
  };
}

/**
 * How long the cluster's API server waits for Kyverno's answer about one admission request
 * (the admission policy's `webhookConfiguration.timeoutSeconds`; the API server allows 1..30).
 * Written into a generated, committed file, so it is a constant rather than an environment
 * override: the drift check must see the same text on every machine. The policy fails closed
 * (`failurePolicy: Fail`), so a timeout refuses the pod.
 */
export const admissionWebhookSeconds = 15;
