/**
 * A tiny structured logger whose every line starts with the tier marker, so a line pasted
 * from anywhere still says which tier it came from. `json` (default): the marker, a space, then
 * one JSON object; `pretty`: the marker, time, level, service and message for a terminal.
 */
import { type Env, type LogLevel, logLevels, type TierInfo, tierInfo } from "./tier.ts";

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. a request id). */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Service name, printed on every line. */
  service: string;
  /** The tier (from `assertTier()`): marker, level and format. Default: `tierInfo(env)`. */
  tier?: Pick<TierInfo, "tier" | "marker" | "logLevel" | "logFormat">;
  /** Environment the tier is read from when `tier` is not given (default `process.env`). */
  env?: Env;
  /** Where lines go (default: stdout for debug/info, stderr for warn/error). */
  write?: (line: string, level: LogLevel) => void;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

const defaultWrite = (line: string, level: LogLevel) => {
  (level === "warn" || level === "error" ? process.stderr : process.stdout).write(`${line}\n`);
};

/** Creates a logger for `service` in the given tier. */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const tier = options.tier ?? tierInfo(options.env ?? process.env);
  const write = options.write ?? defaultWrite;
  const now = options.now ?? (() => new Date());
  const threshold = logLevels.indexOf(tier.logLevel);
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (logLevels.indexOf(level) < threshold) return;
    write(format(tier, options.service, level, message, { ...bound, ...fields }, now()), level);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger({ ...options, tier }, { ...bound, ...fields }),
  };
}

function format(
  tierOf: Pick<TierInfo, "tier" | "marker" | "logFormat">,
  service: string,
  level: LogLevel,
  message: string,
  fields: LogFields,
  time: Date,
): string {
  const { marker, tier } = tierOf;
  if (tierOf.logFormat === "json") {
    const record = {
      time: time.toISOString(),
      level,
      tier,
      service,
      msg: message,
      ...fields,
    };
    return `${marker} ${JSON.stringify(record, errorsAsObjects)}`;
  }
  const extras = Object.entries(fields)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === "string" ? value : JSON.stringify(value, errorsAsObjects)}`,
    )
    .join(" ");
  const clock = time.toISOString().slice(11, 23);
  return `${marker} ${clock} ${level.padEnd(5)} ${service}: ${message}${extras ? ` ${extras}` : ""}`;
}

/** Errors serialise to `{}` by default; keep their name and message. */
function errorsAsObjects(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
