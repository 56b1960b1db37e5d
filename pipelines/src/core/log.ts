/**
 * Marker-prefixed, optionally coloured output with timed steps. Pure formatting lives here;
 * the sink (stdout, a file, a test buffer) is injected so core code stays free of I/O.
 */
import { markerFor } from "./markers.ts";

export type Outcome = "ok" | "failed" | "skipped";

export interface LogSink {
  out(line: string): void;
  err(line: string): void;
}

export interface ReporterOptions {
  sink?: LogSink;
  /** Colour is on only when asked for; callers decide from TTY, NO_COLOR and --no-color. */
  color?: boolean;
  /** Clock for step durations; injectable so tests are deterministic. */
  now?: () => number;
}

const ansi = {
  red: "\u001b[31m",
  green: "\u001b[32m",
  yellow: "\u001b[33m",
  dim: "\u001b[2m",
  bold: "\u001b[1m",
  reset: "\u001b[0m",
} as const;
export type Colour = Exclude<keyof typeof ansi, "reset">;

/** Colour policy: only on a TTY, never with NO_COLOR set (any value) or --no-color. */
export function shouldColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag?: boolean) {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean(stream.isTTY);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, "0")}s`;
}

export const processSink: LogSink = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export class Reporter {
  readonly color: boolean;
  private readonly sink: LogSink;
  private readonly now: () => number;

  constructor(options: ReporterOptions = {}) {
    this.sink = options.sink ?? processSink;
    this.color = options.color ?? false;
    this.now = options.now ?? (() => performance.now());
  }

  paint(text: string, colour: Colour): string {
    return this.color ? `${ansi[colour]}${text}${ansi.reset}` : text;
  }

  /** `<marker> <text>`: the one line shape for everything printed about a tier. */
  format(tier: string | undefined, text: string, marker?: string): string {
    return `${markerFor(tier, marker)} ${text}`;
  }

  info(tier: string | undefined, text: string, marker?: string): void {
    this.sink.out(this.format(tier, text, marker));
  }

  warn(tier: string | undefined, text: string, marker?: string): void {
    this.sink.err(this.format(tier, this.paint(`warning: ${text}`, "yellow"), marker));
  }

  error(tier: string | undefined, text: string, marker?: string): void {
    this.sink.err(this.format(tier, this.paint(text, "red"), marker));
  }

  /** Plain line with no marker: machine-readable output such as --json. */
  raw(text: string): void {
    this.sink.out(text);
  }

  /**
   * Runs one step, printing when it starts and when it ends with its duration and outcome,
   * so a user sees where time goes and exactly which step failed.
   */
  async step<T>(tier: string | undefined, name: string, run: () => Promise<T>): Promise<T> {
    const started = this.now();
    this.info(tier, `${this.paint("→", "dim")} ${name}`);
    try {
      const result = await run();
      const took = formatDuration(this.now() - started);
      this.info(tier, `${this.paint("✓", "green")} ${name} ${this.paint(`(${took})`, "dim")}`);
      return result;
    } catch (error) {
      const took = formatDuration(this.now() - started);
      this.error(tier, `✗ ${name} failed after ${took}`);
      throw error;
    }
  }

  /** Records a step that was deliberately not run, and why. */
  skipped(tier: string | undefined, name: string, why: string): void {
    this.info(tier, `${this.paint("○", "dim")} ${name} skipped: ${why}`);
  }
}

/** A sink that keeps lines in memory, for tests and for --json modes that print at the end. */
export function memorySink(): LogSink & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l) };
}
