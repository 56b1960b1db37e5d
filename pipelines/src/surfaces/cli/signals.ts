/** Ctrl-C and SIGTERM during a long local run: turned into an abort the work can tear down on. */
import type { Reporter } from "../../core/log.ts";

/** Exit codes of a run stopped by a signal, as shells report them (128 + signal number). */
export const signalExit: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `work` with SIGINT/SIGTERM turned into an abort: the first signal stops the current step
 * and lets the work tear down; later ones only say teardown is still running, so a second
 * Ctrl-C cannot leave containers behind.
 */
export async function withSignals<T>(
  reporter: Reporter,
  tier: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<{ result: T; signal: NodeJS.Signals | undefined }> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!received) {
      received = signal;
      reporter.warn(tier, `${signal}: stopping; tearing everything down…`);
      controller.abort(new Error(`interrupted by ${signal}`));
    } else {
      reporter.warn(tier, `${signal} again: still tearing down, nothing will be left behind`);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return { result: await work(controller.signal), signal: received };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
