// Entry point of the worker (the image's CMD): start, then shut down gracefully on SIGTERM/SIGINT.
import { createLogger, TierError, tierInfo } from "@tiers/runtime";
import { startWorker } from "./service.ts";

try {
  const worker = await startWorker();
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      worker.log.info("shutting down", { signal });
      worker.close().then(
        () => process.exit(0),
        (error: Error) => {
          worker.log.error("shutdown failed", { error: error.message });
          process.exit(1);
        },
      );
    });
  }
} catch (error) {
  // Refusing to start is a crash the orchestrator reports; the message says what to fix. A
  // contradicting tier has no trustworthy marker, so it goes to stderr as plain text.
  if (error instanceof TierError) {
    console.error(`worker: ${error.message}`);
  } else {
    createLogger({ service: "worker", tier: tierInfo() }).error("refusing to start", {
      error: (error as Error).message,
    });
  }
  process.exit(1);
}
